"""
A person's whole journey in a real headless Chromium, against a live server backed by the
suite's MariaDB and Redis: sign in, create, search, open, edit, delete.

Chromium is Debian's package (/usr/bin/chromium, installed by scripts/browser.sh from
`make test`); Playwright drives it through executable_path and never downloads a browser.
Screenshots land in artifacts/screenshots/ (git-ignored).
"""

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
# The flags this machine's Chromium needs: no sandbox as root, and no background
# connections to Google's services, which a closed network refuses many times a second.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}: run scripts/browser.sh"),
]


@pytest.fixture
def browser_page(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def operator(django_user_model):
    django_user_model.objects.create_superuser("operator", "op@example.com", "a-long-test-password")
    return "operator", "a-long-test-password"


def test_sign_in_create_find_open_edit_and_delete_a_hero(live_server, browser_page, operator, make_heroes):
    page = browser_page
    make_heroes(3, name="Background Hero")
    base = live_server.url

    # Sign in from the list page's link, which comes back to the list.
    page.goto(base + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(operator[0])
    page.get_by_label("Password").fill(operator[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=f"Log out {operator[0]}").wait_for()

    # Create.
    page.get_by_role("link", name="New hero").click()
    page.get_by_label("Name").fill("Playwright Pilot")
    page.get_by_label("Villain").check()
    page.get_by_label("Power").fill("automation")
    page.get_by_label("Experience points").fill("77")
    page.get_by_label("Color").fill("teal")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Created Playwright Pilot.").wait_for()

    # Find it by search, open it twice: the second view is a cache hit.
    page.get_by_role("link", name="Heroes", exact=True).click()
    page.get_by_label("Search name or power").fill("pilot")
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.heroes tbody tr")
    assert rows.count() == 1
    page.screenshot(path=str(SHOTS / "list.png"), full_page=True)
    page.get_by_role("link", name="Playwright Pilot").click()
    page.reload()
    provenance = page.locator(".provenance")
    assert "cache hit" in provenance.inner_text()
    assert "Villain" in page.locator("dl.hero").inner_text()
    page.screenshot(path=str(SHOTS / "detail.png"), full_page=True)

    # Edit, and see the new value.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Power").fill("test automation")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved Playwright Pilot.").wait_for()
    assert "test automation" in page.locator("dl.hero").inner_text()

    # The staff cache page, after a few reads.
    page.goto(base + "/cache/")
    page.get_by_role("img", name="Cache hit ratio").wait_for()
    page.screenshot(path=str(SHOTS / "cache-status.png"), full_page=True)

    # Delete, through the confirmation step.
    page.go_back()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete Playwright Pilot").click()
    page.get_by_text("Deleted Playwright Pilot.").wait_for()
    page.get_by_label("Search name or power").fill("pilot")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("No heroes match these filters").wait_for()


def test_the_list_works_by_keyboard_and_on_a_phone_sized_screen(live_server, browser_page, make_heroes):
    page = browser_page
    make_heroes(5, name="Pocket Hero")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SHOTS / "list-phone.png"), full_page=True)
