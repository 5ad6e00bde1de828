"""
The web app in a real headless Chromium, against a live server backed by the suite's
MariaDB and Redis: a person's whole journey (sign in, create, search, open, edit,
delete), then every page and state at 1280 and 375 px, light and dark, each loaded once:
screenshotted, checked with axe-core (no serious or critical violations), checked for
sideways scrolling, and watched for Content-Security-Policy violations in the console.

Chromium is Debian's package (/usr/bin/chromium, installed by scripts/browser.sh from
`make test`); Playwright drives it through executable_path and never downloads a browser.
axe-core is the copy axe-playwright-python ships (axe.min.js in its wheel). One browser
serves the whole session. Screenshots land in artifacts/screenshots/ (git-ignored), named
STATE-WIDTH-SCHEME.png.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse

from heroes.importer import import_heroes
from heroes.models import Hero
from heroes.sample import SAMPLE_CSV
from heroes.selectors import get_heroes
from heroes.services import issue_api_token, revoke_api_tokens
from tests.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
# The flags this machine's Chromium needs: no sandbox as root, and no background
# connections to Google's services, which a closed network refuses many times a second.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a-long-test-password"
VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "375": {"width": 375, "height": 740}}
SCHEMES = ("light", "dark")
# axe-core's impact levels that fail the suite.
BLOCKING = {"serious", "critical"}

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}: run scripts/browser.sh"
    ),
]


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session; each test opens its own contexts (cookies, viewport)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between browser steps are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@dataclass
class Console:
    """Console errors a page logged; the browser reports CSP violations there."""

    errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [text for text in self.errors if "Content Security Policy" in text]


def open_page(
    browser, live_server, *, viewport: str = "1280", scheme: str = "light", user: str | None = None
):
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = Console()
    page.on("console", lambda message: message.type == "error" and console.errors.append(message.text))
    if user:
        page.goto(live_server.url + reverse("login"))
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name=f"Log out {user}").wait_for()
    return context, page, console


@pytest.fixture
def people(django_user_model):
    django_user_model.objects.create_superuser("operator", "op@example.com", PASSWORD)
    django_user_model.objects.create_user("reader", password=PASSWORD)


def test_sign_in_create_find_open_edit_and_delete_a_hero(live_server, browser, people, make_heroes):
    make_heroes(3, name="Background Hero")
    context, page, console = open_page(browser, live_server)
    base = live_server.url

    # Sign in from the list page's link, which comes back to the list and says so.
    page.goto(base + "/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Signed in as operator.").wait_for()

    # Create, with a palette color.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New hero").click()
    page.get_by_label("Name").fill("Playwright Pilot")
    page.get_by_label("Villain").check()
    page.get_by_label("Power").fill("automation")
    page.get_by_label("Experience points").fill("77")
    page.get_by_label("Color").select_option("teal")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Created Playwright Pilot.").wait_for()

    # Find it by search, open it twice: the second view is a cache hit.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Heroes", exact=True).click()
    page.get_by_label("Search name or power").fill("pilot")
    page.get_by_role("button", name="Apply").click()
    assert page.locator("table.heroes tbody tr").count() == 1
    assert "1 hero matches “pilot”" in page.locator(".summary").inner_text()
    page.get_by_role("link", name="Playwright Pilot").click()
    page.reload()
    assert "cache hit" in page.locator(".provenance").inner_text()
    assert "Villain" in page.locator(".card-head").inner_text()

    # Edit, and come back to the same search.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Power").fill("test automation")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved Playwright Pilot.").wait_for()
    assert "test automation" in page.locator("dl.facts").inner_text()
    page.get_by_role("link", name="Back to the list").click()
    assert page.get_by_label("Search name or power").input_value() == "pilot"

    # Delete, through the confirmation step, and land on the search we came from.
    page.get_by_role("link", name="Playwright Pilot").click()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete Playwright Pilot").click()
    page.get_by_text("Deleted Playwright Pilot.").wait_for()
    page.get_by_text("No heroes match “pilot”").wait_for()

    # Sign out, and be told.
    page.get_by_role("button", name="Log out operator").click()
    page.get_by_text("Signed out.").wait_for()
    assert console.csp_violations == []
    context.close()


@dataclass
class State:
    """A page in one state: who looks, where, and what they do there first."""

    name: str
    path: str
    user: str | None = None
    action: object = None
    axe_exclude: list[str] = field(default_factory=list)


def submit_empty_form(page):
    page.get_by_label("Name").fill("")
    page.get_by_label("Experience points").fill("-1")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Please correct the").wait_for()


def fail_login(page):
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("didn't match").wait_for()


def issue_token(page):
    page.get_by_label("User").select_option(label="operator")
    page.get_by_label("Name").fill("browser test")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("this once").wait_for()


def states(hero_id: int) -> list[State]:
    return [
        State("list", "/"),
        State("list-signed-in", "/?sort=name&page=2", user="operator"),
        State("list-search", "/?q=falcon&side=hero"),
        State("list-no-match", "/?q=nobody+at+all"),
        State("list-past-the-end", "/?page=50"),
        State("list-search-too-long", "/?q=" + "x" * 101),
        State("detail", f"/heroes/{hero_id}/"),
        State("detail-staff", f"/heroes/{hero_id}/", user="operator"),
        State("new-hero", "/heroes/new/", user="operator"),
        State("new-hero-errors", "/heroes/new/", user="operator", action=submit_empty_form),
        State("edit-hero", f"/heroes/{hero_id}/edit/", user="operator"),
        State("delete-hero", f"/heroes/{hero_id}/delete/", user="operator"),
        State("login", "/accounts/login/"),
        State("login-failed", "/accounts/login/", action=fail_login),
        State("forbidden", "/heroes/new/", user="reader"),
        State("not-found", "/heroes/999999999/"),
        State("cache", "/cache/", user="operator"),
        State("cache-flush", "/cache/flush/", user="operator"),
        State("admin-heroes", "/admin/heroes/hero/", user="operator"),
        State("admin-api-tokens", "/admin/heroes/apitoken/", user="operator"),
        State("admin-api-token-issued", "/admin/heroes/apitoken/add/", user="operator", action=issue_token),
    ]


def test_every_page_and_state_at_two_widths_in_light_and_dark(
    live_server, browser, people, django_user_model
):
    """
    Each state once per width and scheme: a screenshot, no serious or critical axe-core
    violation, no sideways scrolling, no CSP violation; at 1280 px the admin's last
    column ("cached") is on screen.
    """
    from axe_playwright_python.sync_playwright import Axe

    import_heroes(source=str(SAMPLE_CSV))
    operator = django_user_model.objects.get(username="operator")
    issue_api_token(user=operator, name="nightly import")
    revoke_api_tokens(ids=[issue_api_token(user=operator, name="old laptop")[0].pk])
    hero_id = Hero.objects.order_by("id").values_list("id", flat=True)[5]
    for _ in range(3):  # a few reads, so the cache page has a chart
        get_heroes(ids=list(range(1, 40, 3)))
    axe = Axe()
    problems: list[str] = []
    by_user: dict[str | None, list[State]] = {}
    for state in states(hero_id):
        by_user.setdefault(state.user, []).append(state)

    for viewport in VIEWPORTS:
        for scheme in SCHEMES:
            for user, user_states in by_user.items():
                context, page, console = open_page(
                    browser, live_server, viewport=viewport, scheme=scheme, user=user
                )
                for state in user_states:
                    label = f"{state.name}-{viewport}-{scheme}"
                    page.goto(live_server.url + state.path)
                    if state.action:
                        state.action(page)
                    page.screenshot(path=str(SHOTS / f"{label}.png"), full_page=True)
                    results = axe.run(page, options={"resultTypes": ["violations"]})
                    for violation in results.response["violations"]:
                        if violation["impact"] in BLOCKING:
                            targets = [node["target"] for node in violation["nodes"]][:3]
                            problems.append(
                                f"{label}: axe {violation['id']} ({violation['impact']}) at {targets}"
                            )
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if width > VIEWPORTS[viewport]["width"]:
                        problems.append(f"{label}: scrolls sideways ({width} px wide)")
                    if state.name == "admin-heroes" and viewport == "1280":
                        # The table scrolls inside its own box: nothing may be hidden there either.
                        hidden = page.evaluate(
                            "(() => { const r = document.querySelector('#changelist .results');"
                            " const c = document.querySelector('th.column-cached').getBoundingClientRect();"
                            " return r.scrollWidth - r.clientWidth"
                            " + Math.max(0, c.right - r.getBoundingClientRect().right); })()"
                        )
                        if hidden > 0:
                            problems.append(f"{label}: the 'cached' column is cut off by {hidden} px")
                problems += [f"{viewport}-{scheme} as {user}: {text}" for text in console.csp_violations]
                context.close()
    assert problems == [], "\n".join(problems)


def test_the_list_works_by_keyboard_and_on_a_320_px_screen(live_server, browser, make_heroes):
    make_heroes(5, name="Pocket Hero With A Rather Long Name", power="an unusually long power description")
    context, page, _ = open_page(browser, live_server)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(live_server.url + "/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    # Nothing is wider than the screen: no sideways scrolling on a small phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The navigation leaves most of the first screen to the content.
    assert page.locator("header.site").bounding_box()["height"] < 640 / 6
    page.screenshot(path=str(SHOTS / "list-320-light.png"), full_page=True)
    context.close()
