"""
The admin (heroes/admin.py): edits and deletes keep the cache consistent; the cached column
and actions; names, filters that cost no table-wide DISTINCT, and API tokens issued and revoked.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from heroes.models import ApiToken
from heroes.selectors import get_heroes
from heroes.services import issue_api_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client_logged_in(django_user_model):
    """A client of its own, signed in as a superuser (``.user``), beside the test's ``client``."""
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_an_edit_in_the_admin_keeps_the_cache_consistent(admin_client_logged_in, make_heroes):
    (hero,) = make_heroes(1, name="Old name")
    get_heroes(ids=[hero.id])

    response = admin_client_logged_in.post(
        reverse("admin:heroes_hero_change", args=[hero.id]),
        {"name": "New name", "hero": "on", "power": "flight", "xp": "11", "color": "red"},
    )

    assert response.status_code == 302
    result = get_heroes(ids=[hero.id])
    assert result.hits == 1 and result.heroes[0]["name"] == "New name" and result.heroes[0]["xp"] == 11


def test_a_delete_in_the_admin_evicts_the_hero(admin_client_logged_in, make_heroes):
    heroes = make_heroes(2)
    get_heroes(ids=[h.id for h in heroes])

    response = admin_client_logged_in.post(
        reverse("admin:heroes_hero_changelist"),
        {"action": "delete_selected", "_selected_action": [h.id for h in heroes], "post": "yes"},
    )

    assert response.status_code == 302
    assert get_heroes(ids=[h.id for h in heroes]).not_found == [h.id for h in heroes]


def test_the_admin_lists_and_searches_heroes(admin_client_logged_in, make_heroes):
    make_heroes(1, name="Findable Falcon")
    make_heroes(1, name="Other")
    response = admin_client_logged_in.get(reverse("admin:heroes_hero_changelist"), {"q": "Findable"})
    assert response.status_code == 200
    assert b"Findable Falcon" in response.content and b"Other" not in response.content


def test_the_admin_shows_each_rows_cache_state_and_can_warm_and_evict(
    admin_client_logged_in, make_heroes, hero_cache
):
    a, b = make_heroes(2)
    get_heroes(ids=[a.id])
    changelist = reverse("admin:heroes_hero_changelist")

    html = admin_client_logged_in.get(changelist).content.decode()
    states = re.findall(r'<td class="field-cached"><img [^>]*alt="(\w+)"', html)
    assert sorted(states) == ["False", "True"]

    admin_client_logged_in.post(changelist, {"action": "warm_cache", "_selected_action": [b.id]})
    assert hero_cache.cached_ids([a.id, b.id]) == {a.id, b.id}

    admin_client_logged_in.post(changelist, {"action": "evict_from_cache", "_selected_action": [a.id, b.id]})
    assert hero_cache.cached_ids([a.id, b.id]) == set()
    assert get_heroes(ids=[a.id, b.id]).misses == 2


def test_the_admin_says_heroes_and_side_and_is_branded(admin_client_logged_in, make_heroes):
    """'Heroes' (not 'Heros'), a Side column (not 'IS A HERO'), and the site's own name."""
    make_heroes(1, hero=False)
    html = admin_client_logged_in.get(reverse("admin:heroes_hero_changelist")).content.decode()
    assert "Heros" not in html and ">Heroes<" in html
    assert "is a hero" not in html.lower()
    assert re.search(r'<th scope="col" class="sortable column-side">', html)
    assert '<td class="field-side">Villain</td>' in html
    assert "heroapp administration" in html and "Django administration" not in html


def test_the_change_list_filters_run_no_distinct_query(admin_client_logged_in, make_heroes):
    """The color filter lists the palette and there is no power filter: no SELECT DISTINCT per page."""
    make_heroes(3, color="teal")
    with CaptureQueriesContext(connection) as queries:
        html = admin_client_logged_in.get(reverse("admin:heroes_hero_changelist")).content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    assert "?color__exact=gold" in html and "?side=villain" in html and "power__exact" not in html
    filtered = admin_client_logged_in.get(reverse("admin:heroes_hero_changelist"), {"color__exact": "teal"})
    assert filtered.status_code == 200 and "3 heroes" in filtered.content.decode()


def test_the_admin_form_offers_the_palette(admin_client_logged_in):
    """The admin's color field is the palette, with no free text."""
    html = admin_client_logged_in.get(reverse("admin:heroes_hero_add")).content.decode()
    assert '<select name="color"' in html and '<option value="teal">Teal</option>' in html


def test_a_token_issued_in_the_admin_shows_its_key_once_and_works(admin_client_logged_in, client):
    """Save shows the key on the next page only; the list shows its prefix, never the key."""
    response = admin_client_logged_in.post(
        reverse("admin:heroes_apitoken_add"), {"user": admin_client_logged_in.user.pk, "name": "ci"}
    )
    assert response.status_code == 200
    key = re.search(r'id="issued-key"[^>]*value="([^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(key) and token.prefix == key[:8]
    listing = admin_client_logged_in.get(reverse("admin:heroes_apitoken_changelist")).content.decode()
    assert f"{key[:8]}…" in listing and key not in listing
    api = client.post(
        reverse("heroes:api-events"),
        '{"REQUEST": "read", "SQLS": [1]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert api.status_code == 200


def test_tokens_are_revoked_with_an_action_not_deleted_or_edited(admin_client_logged_in, django_user_model):
    """Revoke is an action on the list; there are no Save buttons or delete for a token."""
    token, _ = issue_api_token(user=admin_client_logged_in.user, name="old")
    changelist = reverse("admin:heroes_apitoken_changelist")
    assert 'value="revoke"' in admin_client_logged_in.get(changelist).content.decode()
    admin_client_logged_in.post(changelist, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    detail = admin_client_logged_in.get(
        reverse("admin:heroes_apitoken_change", args=[token.pk])
    ).content.decode()
    assert 'name="_save"' not in detail and "deletelink" not in detail
    assert "revoked" in admin_client_logged_in.get(changelist).content.decode()
    assert "0 API tokens" in admin_client_logged_in.get(changelist, {"status": "active"}).content.decode()
    assert "1 API token" in admin_client_logged_in.get(changelist, {"status": "revoked"}).content.decode()
