"""The Content-Security-Policy and Permissions-Policy headers on the site and the admin."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/heroes/999/"])
def test_site_pages_allow_no_scripts_and_only_this_origins_styles(client, path):
    """No scripts at all, no inline styles, no framing, forms post only here; a 404 too."""
    policy = directives(client.get(path))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'none'"
    assert policy["style-src"] == "'self'" and "unsafe-inline" not in str(policy)
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'none'"


def test_the_admin_may_load_its_own_script_files_only(admin_client):
    policy = directives(admin_client.get(reverse("admin:index")))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"


def test_the_admin_keeps_its_scripts_under_a_script_prefix(admin_client):
    """
    Behind an API Gateway stage (Zappa's SCRIPT_NAME=/dev, which the WSGI handler makes the
    script prefix; the test client does not), the admin's URLs start with the stage and its
    path_info does not: the admin's own policy must still apply.
    """
    set_script_prefix("/dev/")
    try:
        assert directives(admin_client.get("/admin/", SCRIPT_NAME="/dev"))["script-src"] == "'self'"
        assert directives(admin_client.get("/", SCRIPT_NAME="/dev"))["script-src"] == "'none'"
    finally:
        clear_script_prefix()


def test_the_permissions_policy_denies_powerful_features(client):
    header = client.get("/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in header


def test_no_template_has_an_inline_script_or_style():
    """What the policy forbids must not be in the templates (the browser tests check the pages too)."""
    from tests.conftest import ROOT

    offenders = [
        (str(template.relative_to(ROOT)), word)
        for template in (ROOT / "heroes" / "templates").rglob("*.html")
        for word in ("<script", " style=", "<style")
        if word in template.read_text()
    ]
    assert offenders == []
