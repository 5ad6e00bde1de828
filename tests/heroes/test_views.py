import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<script>alert(1)</script>"
VALID = {"name": "Captain Test", "hero": "yes", "power": "testing", "xp": "12", "color": "green"}


@pytest.fixture
def editor(django_user_model):
    """A signed-in staff user with the three hero permissions, but not a superuser."""
    user = django_user_model.objects.create_user("editor", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["add_hero", "change_hero", "delete_hero"]))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-tests"))
    return client


@pytest.fixture
def plain_user(django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("reader", password="pw-for-tests"))
    return client


# Browsing ----------------------------------------------------------------------------


@pytest.mark.embedded
def test_the_list_shows_heroes_and_searches_name_and_power(client, make_heroes):
    make_heroes(1, name="Frost Giant", power="ice")
    make_heroes(1, name="Blaze", power="fire")
    make_heroes(1, name="Icarus", power="flight")

    assert {"Frost Giant", "Blaze", "Icarus"} <= set(names(client.get("/")))
    assert names(client.get("/", {"q": "ice"})) == ["Frost Giant"]  # by power
    assert names(client.get("/", {"q": "blaze"})) == ["Blaze"]  # by name, any case


def test_the_list_filters_by_side_and_color_and_sorts(client, make_heroes):
    make_heroes(1, name="Good Red", hero=True, color="red", xp=5)
    make_heroes(1, name="Bad Red", hero=False, color="red", xp=50)
    make_heroes(1, name="Good Blue", hero=True, color="blue", xp=500)

    assert names(client.get("/", {"side": "villain"})) == ["Bad Red"]
    assert names(client.get("/", {"color": "red", "sort": "name"})) == ["Bad Red", "Good Red"]
    assert names(client.get("/", {"sort": "xp"})) == ["Good Blue", "Bad Red", "Good Red"]
    assert names(client.get("/"))[0] == "Good Blue"  # newest first by default


def test_pagination_needs_no_count_query(client, make_heroes):
    make_heroes(30)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/", {"sort": "name"})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert len(names(first)) == 25 and b'rel="next"' in first.content and b'rel="prev"' not in first.content

    second = client.get("/", {"sort": "name", "page": 2})
    assert len(names(second)) == 5 and b'rel="prev"' in second.content and b'rel="next"' not in second.content
    assert set(names(first)).isdisjoint(names(second))


@pytest.mark.embedded
def test_the_empty_states_say_what_to_do(client, editor, make_heroes):
    assert b"There are no heroes yet" in client.get("/").content
    assert b"Create the first one" in editor.get("/").content
    make_heroes(1, name="Someone")
    assert b"No heroes match these filters" in client.get("/", {"q": "nobody"}).content


def test_bad_query_parameters_are_ignored_not_errors(client, make_heroes):
    make_heroes(2)
    response = client.get("/", {"page": "abc", "color": "no-such-color", "sort": "sideways"})
    assert response.status_code == 200


@pytest.mark.embedded
def test_the_detail_page_reads_through_the_cache_and_says_where_the_data_came_from(client, make_heroes, hero_cache):
    (hero,) = make_heroes(1, name="Cached Carl")

    first = client.get(reverse("heroes:detail", args=[hero.id]))
    second = client.get(reverse("heroes:detail", args=[hero.id]))

    assert b"Cached Carl" in first.content and b"cache miss, now cached" in first.content
    assert b"cache hit" in second.content and b"0 database queries" in second.content
    assert hero_cache.stats["hits"] == 1 and hero_cache.stats["misses"] == 1


def test_the_detail_page_of_a_missing_hero_is_a_404(client):
    assert client.get(reverse("heroes:detail", args=[999999])).status_code == 404


@pytest.mark.embedded
def test_hostile_names_are_shown_as_text(client, make_heroes):
    (hero,) = make_heroes(1, name=HOSTILE)
    for url in ("/", reverse("heroes:detail", args=[hero.id])):
        content = client.get(url).content.decode()
        assert HOSTILE not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


# Changing data -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["heroes:create", "heroes:edit", "heroes:delete"])
def test_anonymous_users_are_sent_to_log_in_and_change_nothing(client, make_heroes, method, name):
    (hero,) = make_heroes(1, name="Untouched")
    url = reverse(name) if name == "heroes:create" else reverse(name, args=[hero.id])

    response = getattr(client, method)(url, VALID)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    assert list(Hero.objects.values_list("name", flat=True)) == ["Untouched"]


def test_staff_status_alone_or_permissions_alone_do_not_allow_changes(django_user_model, make_heroes):
    (hero,) = make_heroes(1)
    perms = Permission.objects.filter(codename__in=["add_hero", "change_hero", "delete_hero"])
    not_staff = django_user_model.objects.create_user("perms-only")
    not_staff.user_permissions.set(perms)
    no_perms = django_user_model.objects.create_user("staff-only", is_staff=True)
    for user in (not_staff, no_perms):
        client = Client()
        client.force_login(user)
        assert client.post(reverse("heroes:create"), VALID).status_code == 403
        assert client.post(reverse("heroes:delete", args=[hero.id])).status_code == 403
    assert Hero.objects.count() == 1


def test_signed_in_users_without_permission_get_403(plain_user, make_heroes):
    (hero,) = make_heroes(1)
    assert plain_user.post(reverse("heroes:create"), VALID).status_code == 403
    assert plain_user.post(reverse("heroes:delete", args=[hero.id])).status_code == 403
    assert Hero.objects.count() == 1


@pytest.mark.embedded
def test_create_then_edit_then_delete_keeps_the_cache_consistent(editor):
    created = editor.post(reverse("heroes:create"), VALID, follow=True)
    hero = Hero.objects.get()
    assert b"Created Captain Test" in created.content
    assert get_heroes(ids=[hero.id]).hits == 1  # written through

    editor.post(reverse("heroes:edit", args=[hero.id]), {**VALID, "name": "Major Test", "hero": "no", "xp": "99"})
    result = get_heroes(ids=[hero.id])
    assert result.hits == 1 and result.heroes[0] | {"id": 0} == {
        "id": 0, "name": "Major Test", "hero": "no", "power": "testing", "xp": 99, "color": "green"
    }

    confirm = editor.get(reverse("heroes:delete", args=[hero.id]))
    assert b"Yes, delete Major Test" in confirm.content and Hero.objects.exists()
    deleted = editor.post(reverse("heroes:delete", args=[hero.id]), follow=True)
    assert b"Deleted Major Test" in deleted.content
    assert get_heroes(ids=[hero.id]).not_found == [hero.id]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": ""}, "name", "This field is required."),
        ({"xp": "-1"}, "xp", "greater than or equal to 0"),
        ({"xp": "lots"}, "xp", "Enter a whole number."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"hero": "maybe"}, "hero", "Select a valid choice."),
    ],
)
def test_validation_errors_are_shown_next_to_the_field_and_nothing_is_saved(editor, change, field, message):
    response = editor.post(reverse("heroes:create"), {**VALID, **change})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert Hero.objects.count() == 0


def test_csrf_is_enforced_on_forms(django_user_model):
    user = django_user_model.objects.create_superuser("csrf", "c@example.com", "pw-for-tests")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("heroes:create"), VALID).status_code == 403
    assert Hero.objects.count() == 0


# Cache status ------------------------------------------------------------------------


def test_the_cache_page_is_for_staff_only(client, plain_user):
    for c in (client, plain_user):
        response = c.get(reverse("heroes:cache"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert c.post(reverse("heroes:cache-flush")).status_code == 302


def test_the_cache_page_shows_ratio_keys_server_and_a_chart(staff, make_heroes):
    heroes = make_heroes(4)
    get_heroes(ids=[h.id for h in heroes])  # 4 misses
    get_heroes(ids=[h.id for h in heroes])  # 4 hits

    html = staff.get(reverse("heroes:cache")).content.decode()

    assert "50%" in html and "4 hits, 4 misses" in html
    assert "<svg" in html and "Cache hit ratio of the last 2 reads" in html
    assert "Redis version" in html and get_hero_cache().key(42) in html
    assert "<dt>Cached hero keys</dt><dd>4</dd>" in html
    # On a Redis Cluster the page says how many primaries its figures add up.
    assert ("<dt>Cluster primaries</dt><dd>3 " in html) is getattr(get_hero_cache().store, "cluster", False)


def test_warm_fills_the_cache_and_flush_removes_only_the_hero_namespace(staff, make_heroes, redis_client, hero_cache):
    heroes = make_heroes(5)
    redis_client.set("someone-else:key", "stays")

    staff.post(reverse("heroes:cache-warm"))
    assert hero_cache.count_keys() == 5
    assert get_heroes(ids=[h.id for h in heroes]).hits == 5

    response = staff.post(reverse("heroes:cache-flush"), follow=True)
    assert b"Flushed the hero namespace (5 keys)" in response.content
    assert hero_cache.count_keys() == 0
    assert redis_client.get("someone-else:key") == b"stays"


# Admin ---------------------------------------------------------------------------------


@pytest.mark.embedded
def test_the_health_endpoint_reports_the_database_and_the_cache(client, hero_cache):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": hero_cache.backend_name}


def names(response) -> list[str]:
    """The hero names in the list page's table, in order."""
    return re.findall(r'<td><a href="/heroes/\d+/">([^<]*)</a></td>', response.content.decode())


def test_static_files_are_served_by_the_app_itself(client):
    """WhiteNoise serves CSS from the app, as it must behind API Gateway with no web server."""
    response = client.get("/static/heroes/site.css")
    assert response.status_code == 200 and b".heroes" in b"".join(response.streaming_content)


def test_impossible_hero_ids_are_404s_without_touching_the_cache(client, redis_commands):
    redis_commands.take()
    for url in ("/heroes/99999999999999999999/", "/heroes/0/", "/heroes/00012/"):
        assert client.get(url).status_code == 404
    assert redis_commands.take() == {}
