"""The admin: names, filters that cost no table-wide DISTINCT, and API tokens issued and revoked."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from heroes.models import ApiToken
from heroes.services import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client_(django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_the_admin_says_heroes_and_side_and_is_branded(admin_client_, make_heroes):
    """'Heroes' (not 'Heros'), a Side column (not 'IS A HERO'), and the site's own name."""
    make_heroes(1, hero=False)
    html = admin_client_.get(reverse("admin:heroes_hero_changelist")).content.decode()
    assert "Heros" not in html and ">Heroes<" in html
    assert "is a hero" not in html.lower()
    assert re.search(r'<th scope="col" class="sortable column-side">', html)
    assert '<td class="field-side">Villain</td>' in html
    assert "heroapp administration" in html and "Django administration" not in html


def test_the_change_list_filters_run_no_distinct_query(admin_client_, make_heroes):
    """The color filter lists the palette and there is no power filter: no SELECT DISTINCT per page."""
    make_heroes(3, color="teal")
    with CaptureQueriesContext(connection) as queries:
        html = admin_client_.get(reverse("admin:heroes_hero_changelist")).content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    assert "?color__exact=gold" in html and "?side=villain" in html and "power__exact" not in html
    filtered = admin_client_.get(reverse("admin:heroes_hero_changelist"), {"color__exact": "teal"})
    assert filtered.status_code == 200 and "3 heroes" in filtered.content.decode()


def test_the_admin_form_offers_the_palette(admin_client_):
    """The admin's color field is the palette, with no free text."""
    html = admin_client_.get(reverse("admin:heroes_hero_add")).content.decode()
    assert '<select name="color"' in html and '<option value="teal">Teal</option>' in html


def test_a_token_issued_in_the_admin_shows_its_key_once_and_works(admin_client_, client):
    """Save shows the key on the next page only; the list shows its prefix, never the key."""
    response = admin_client_.post(reverse("admin:heroes_apitoken_add"), {"user": admin_client_.user.pk, "name": "ci"})
    assert response.status_code == 200
    key = re.search(r'id="issued-key"[^>]*value="([^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(key) and token.prefix == key[:8]
    listing = admin_client_.get(reverse("admin:heroes_apitoken_changelist")).content.decode()
    assert f"{key[:8]}…" in listing and key not in listing
    api = client.post(reverse("heroes:api-events"), '{"REQUEST": "read", "SQLS": [1]}',
                      content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 200


def test_tokens_are_revoked_with_an_action_not_deleted_or_edited(admin_client_, django_user_model):
    """Revoke is an action on the list; there are no Save buttons or delete for a token."""
    token, _ = issue_api_token(user=admin_client_.user, name="old")
    changelist = reverse("admin:heroes_apitoken_changelist")
    assert 'value="revoke"' in admin_client_.get(changelist).content.decode()
    admin_client_.post(changelist, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    detail = admin_client_.get(reverse("admin:heroes_apitoken_change", args=[token.pk])).content.decode()
    assert 'name="_save"' not in detail and "deletelink" not in detail
    assert "revoked" in admin_client_.get(changelist).content.decode()
    assert "0 API tokens" in admin_client_.get(changelist, {"status": "active"}).content.decode()
    assert "1 API token" in admin_client_.get(changelist, {"status": "revoked"}).content.decode()
