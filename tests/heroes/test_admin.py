"""The admin (heroes/admin.py): edits and deletes keep the cache consistent; the cached column and actions."""

import re

import pytest
from django.urls import reverse

from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client_logged_in(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-for-tests")
    client.force_login(user)
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
