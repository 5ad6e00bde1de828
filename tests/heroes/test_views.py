import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from heroes import selectors
from heroes.cache import get_hero_cache
from heroes.models import Hero
from heroes.selectors import COUNT_LIMIT, get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = "<script>alert(1)</script>"
VALID = {"name": "Captain Test", "hero": "yes", "power": "testing", "xp": "12", "color": "green"}


@pytest.fixture
def editor(django_user_model):
    """A signed-in staff user with the three hero permissions, but not a superuser."""
    user = django_user_model.objects.create_user("editor", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_hero", "change_hero", "delete_hero"])
    )
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


def test_pagination_counts_with_a_bounded_count_query(client, make_heroes):
    """The list says how many heroes there are; its one COUNT reads at most COUNT_LIMIT + 1 rows."""
    make_heroes(30)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/", {"sort": "name"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and f"LIMIT {COUNT_LIMIT + 1}" in counts[0]
    assert len(names(first)) == 25 and b'rel="next"' in first.content and b'rel="prev"' not in first.content
    assert "30 heroes; showing 1–25." in text(first) and "Page 1 of 2" in text(first)

    second = client.get("/", {"sort": "name", "page": 2})
    assert len(names(second)) == 5 and b'rel="prev"' in second.content and b'rel="next"' not in second.content
    assert set(names(first)).isdisjoint(names(second))
    assert "showing 26–30" in text(second)


def test_a_single_page_needs_no_count_query(client, make_heroes):
    """When everything fits on the first page, the rows are the count."""
    make_heroes(3)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert "3 heroes." in text(response) and 'aria-label="Pages"' not in response.content.decode()


def test_beyond_a_thousand_matches_the_count_says_more_than(client, make_heroes, monkeypatch):
    """Past COUNT_LIMIT the list stops counting and says "more than"."""
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 40)
    make_heroes(60)
    response = client.get("/")
    assert "More than 40 heroes; showing 1–25." in text(response)
    assert "Page 1</span>" in response.content.decode()  # no "of N": the last page is not known


@pytest.mark.embedded
def test_the_empty_states_say_what_to_do(client, editor, make_heroes):
    """No heroes at all, and no heroes matching, are two different messages, each with a way on."""
    assert "There are no heroes yet" in text(client.get("/"))
    assert b"Create the first one" in editor.get("/").content
    make_heroes(1, name="Someone")
    nothing = client.get("/", {"q": "nobody"})
    assert "No heroes match “nobody”." in text(nothing)
    assert 'href="/">Clear search</a>' in nothing.content.decode()
    assert 'aria-label="Pages"' not in nothing.content.decode()  # no "Page 1" pager over nothing
    assert "No heroes match these filters." in text(client.get("/", {"color": "gold"}))


def test_a_page_past_the_end_says_so_and_links_to_the_last_page(client, make_heroes):
    """?page=50 of 3 pages is not "no heroes yet": it names the count and links back."""
    make_heroes(60)
    response = client.get("/", {"page": 50, "sort": "name"})
    page_text = text(response)
    assert "Page 50 is past the end of the list." in page_text
    assert "There are 60 heroes on 3 pages." in page_text
    assert "There are no heroes yet" not in page_text
    assert 'href="?sort=name&amp;page=3">Go to the last page (3)</a>' in response.content.decode()


def test_a_search_longer_than_the_limit_is_an_error_not_everything(client, make_heroes):
    """A 101-character search lists nothing and says why, instead of the unfiltered list."""
    make_heroes(3, name="Anyone")
    response = client.get("/", {"q": "x" * 101})
    assert response.status_code == 200
    assert names(response) == []
    assert "A search is at most 100 characters (this one has 101)." in text(response)
    assert "Nothing was searched." in text(response) and ">Clear search</a>" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_column_headers_sort_both_ways_and_show_the_direction(client, make_heroes):
    """Name and XP headers are links; the current one has aria-sort and links to the other direction."""
    make_heroes(1, name="Alpha", xp=1)
    make_heroes(1, name="Beta", xp=3)
    make_heroes(1, name="Gamma", xp=2)

    by_name = client.get("/", {"sort": "name", "color": "red"})
    html = by_name.content.decode()
    assert names(by_name) == ["Alpha", "Beta", "Gamma"]
    assert 'aria-sort="ascending"><a href="?color=red&amp;sort=-name"' in html
    assert names(client.get("/", {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert names(client.get("/", {"sort": "xp"})) == ["Beta", "Gamma", "Alpha"]
    assert names(client.get("/", {"sort": "-xp"})) == ["Alpha", "Gamma", "Beta"]
    assert 'aria-sort="ascending"><a href="?sort=xp"' in client.get("/", {"sort": "-xp"}).content.decode()
    assert names(client.get("/", {"sort": "oldest"})) == ["Alpha", "Beta", "Gamma"]


def test_links_and_redirects_keep_the_list_state(editor, make_heroes):
    """From a searched, filtered second page: detail, edit and delete lead back to that same page."""
    heroes = make_heroes(30, name="Keeper", color="blue")
    state = "q=keeper&color=blue&sort=name&page=2"
    listing = editor.get("/?" + state).content.decode()
    back = "back=q%3Dkeeper%26color%3Dblue%26sort%3Dname%26page%3D2"
    hero = heroes[0]
    assert f'href="/heroes/{hero.id}/?{back}"' in listing or f"?{back}" in listing

    detail = editor.get(f"/heroes/{hero.id}/?{back}").content.decode()
    assert f'href="/?{state.replace("&", "&amp;")}">← Back to the list</a>' in detail
    assert f'href="/heroes/{hero.id}/edit/?{back}"' in detail

    saved = editor.post(f"/heroes/{hero.id}/edit/?{back}", {**VALID, "name": "Keeper Renamed"})
    assert saved.status_code == 302 and saved["Location"] == f"/heroes/{hero.id}/?{back}"

    deleted = editor.post(f"/heroes/{hero.id}/delete/?{back}")
    assert deleted.status_code == 302 and deleted["Location"] == "/?" + state


def test_a_back_link_can_only_lead_to_the_list(client, make_heroes):
    """The back parameter is re-encoded from the list's own parameters: no other URL gets through."""
    (hero,) = make_heroes(1)
    html = client.get(f"/heroes/{hero.id}/", {"back": "next=//evil.example&q=a"}).content.decode()
    assert 'href="/?q=a">← Back to the list</a>' in html and 'href="//evil' not in html


def test_bad_query_parameters_are_ignored_not_errors(client, make_heroes):
    make_heroes(2)
    response = client.get("/", {"page": "abc", "color": "no-such-color", "sort": "sideways"})
    assert response.status_code == 200


@pytest.mark.embedded
def test_the_detail_page_reads_through_the_cache_and_says_where_the_data_came_from(
    client, make_heroes, hero_cache
):
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

    editor.post(
        reverse("heroes:edit", args=[hero.id]), {**VALID, "name": "Major Test", "hero": "no", "xp": "99"}
    )
    result = get_heroes(ids=[hero.id])
    assert result.hits == 1 and result.heroes[0] | {"id": 0} == {
        "id": 0,
        "name": "Major Test",
        "hero": "no",
        "power": "testing",
        "xp": 99,
        "color": "green",
    }

    confirm = editor.get(reverse("heroes:delete", args=[hero.id]))
    assert b"Yes, delete Major Test" in confirm.content and Hero.objects.exists()
    deleted = editor.post(reverse("heroes:delete", args=[hero.id]), follow=True)
    assert b"Deleted Major Test" in deleted.content
    assert get_heroes(ids=[hero.id]).not_found == [hero.id]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": ""}, "name", "Give the hero a name."),
        ({"xp": "-1"}, "xp", "Experience points must be between 0 and 2,147,483,647."),
        ({"xp": "2147483648"}, "xp", "Experience points must be between 0 and 2,147,483,647."),
        ({"xp": "lots"}, "xp", "Experience points must be a whole number between 0 and 2,147,483,647."),
        ({"name": "x" * 101}, "name", "A name is at most 100 characters (this one has 101)."),
        ({"hero": "maybe"}, "hero", "Choose Hero or Villain."),
        ({"color": "dark blue"}, "color", "Choose one of the listed colors."),
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
    refused = client.post(reverse("heroes:create"), VALID)
    assert refused.status_code == 403 and "That form has expired" in text(refused)  # in the site's layout
    assert Hero.objects.count() == 0


# Cache status ------------------------------------------------------------------------


def test_the_cache_page_is_for_staff_who_may_change_heroes(client, plain_user, django_user_model, staff):
    """Anonymous: the site's login. Signed in without the hero change permission (even staff):
    the site's 403 page, and the cache is neither flushed nor warmed."""
    for url in (reverse("heroes:cache"), reverse("heroes:cache-flush")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    staff_only = Client()
    staff_only.force_login(django_user_model.objects.create_user("staff-only", is_staff=True))
    get_hero_cache().store_heroes([(1, 1, b'{"id":1}')])
    for user in (plain_user, staff_only):
        page = user.get(reverse("heroes:cache"))
        assert page.status_code == 403 and "You can't do that here" in text(page)
        assert "Redis version" not in text(page) and "/admin/login/" not in page.content.decode()
        assert user.post(reverse("heroes:cache-flush")).status_code == 403
        assert user.post(reverse("heroes:cache-warm")).status_code == 403
    assert get_hero_cache().count_keys() == 1
    assert 'href="/cache/"' not in staff_only.get("/").content.decode()  # nor is it in the navigation
    assert staff.get(reverse("heroes:cache")).status_code == 200


def test_the_cache_page_before_any_read_says_so_instead_of_drawing_a_chart(staff):
    response = staff.get(reverse("heroes:cache"))
    assert "No reads yet" in text(response) and "<svg" not in response.content.decode()


def test_flush_asks_for_confirmation_first(staff, make_heroes, hero_cache):
    """GET on the flush URL only asks; the POST from that page flushes."""
    make_heroes(2)
    staff.post(reverse("heroes:cache-warm"))
    confirm = staff.get(reverse("heroes:cache-flush"))
    assert confirm.status_code == 200 and "Flush the hero cache?" in text(confirm)
    assert hero_cache.count_keys() == 2
    assert 'href="/cache/flush/"' in staff.get(reverse("heroes:cache")).content.decode()
    staff.post(reverse("heroes:cache-flush"))
    assert hero_cache.count_keys() == 0


def test_warming_does_not_count_as_reads(staff, make_heroes, hero_cache):
    """Two warm-ups with no traffic leave the hit ratio where the real reads put it."""
    heroes = make_heroes(4)
    get_heroes(ids=[heroes[0].id])  # one real read: a miss
    staff.post(reverse("heroes:cache-warm"))
    staff.post(reverse("heroes:cache-warm"))
    assert (hero_cache.stats["hits"], hero_cache.stats["misses"]) == (0, 1)
    assert len(hero_cache.recent) == 1
    assert "0 hits, 1 misses" in text(staff.get(reverse("heroes:cache")))


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


def test_warm_fills_the_cache_and_flush_removes_only_the_hero_namespace(
    staff, make_heroes, redis_client, hero_cache
):
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
    return re.findall(
        r'<td class="name"><a href="/heroes/\d+/[^"]*">([^<]*)</a></td>', response.content.decode()
    )


def test_static_files_are_served_by_the_app_itself(client):
    """WhiteNoise serves CSS from the app, as it must behind API Gateway with no web server."""
    response = client.get("/static/heroes/site.css")
    assert response.status_code == 200 and b".heroes" in b"".join(response.streaming_content)


def test_impossible_hero_ids_are_404s_without_touching_the_cache(client, redis_commands):
    redis_commands.take()
    for url in ("/heroes/99999999999999999999/", "/heroes/0/", "/heroes/00012/"):
        assert client.get(url).status_code == 404
    assert redis_commands.take() == {}


def text(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()).replace(" .", ".")


# Error pages, navigation, signing in and out ------------------------------------------


@pytest.mark.parametrize("name", ["heroes:create", "heroes:edit", "heroes:delete"])
def test_a_signed_in_user_without_permission_gets_the_sites_403_page(plain_user, make_heroes, name):
    """Not a bare "403 Forbidden": the site's layout, who they are, and a way back."""
    (hero,) = make_heroes(1)
    url = reverse(name) if name == "heroes:create" else reverse(name, args=[hero.id])
    response = plain_user.get(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert 'nav aria-label="Main"' in html and "You are signed in as reader" in text(response)
    assert 'class="button" href="/">Go to the heroes</a>' in html


@pytest.mark.parametrize("url", ["/no-such-page/", "/heroes/999999/"])
def test_not_found_pages_are_in_the_sites_layout(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "There's nothing here" in text(response) and 'nav aria-label="Main"' in response.content.decode()
    assert "Go to the heroes" in text(response)


def test_a_server_error_page_is_in_the_sites_layout(client, monkeypatch):
    """A 500 (here a failing selector) renders 500.html, which needs no request context."""
    client.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "list_heroes", broken)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in text(response) and "Go to the heroes" in text(response)
    assert "boom" not in response.content.decode()


def test_the_navigation_marks_the_current_page(staff, make_heroes):
    (hero,) = make_heroes(1)

    def current(url):
        return re.findall(r'<a href="([^"]+)" aria-current="page">', staff.get(url).content.decode())

    assert current("/") == ["/"]
    assert current(f"/heroes/{hero.id}/") == ["/"]
    assert current("/heroes/new/") == ["/heroes/new/"]
    assert current("/cache/") == ["/cache/"]


def test_signing_in_and_out_says_so(client, django_user_model):
    django_user_model.objects.create_user("walker", password="pw-for-tests-long")
    signed_in = client.post(
        reverse("login"), {"username": "walker", "password": "pw-for-tests-long"}, follow=True
    )
    assert "Signed in as walker." in text(signed_in)
    signed_out = client.post(reverse("logout"), follow=True)
    assert "Signed out." in text(signed_out) and "Log in" in text(signed_out)


def test_a_failed_login_says_so_apart_from_the_labels(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert '<p class="notice error" role="alert">Your username and password didn' in response.content.decode()


def test_the_form_offers_the_palette_with_help_text_and_normalises_colors(editor):
    """Color is a choice of palette colors; XP and power explain themselves; "Blue" is stored as "blue"."""
    html = editor.get(reverse("heroes:create")).content.decode()
    assert '<select name="color"' in html and '<option value="teal">Teal</option>' in html
    assert (
        'aria-describedby="id_xp_helptext"' in html and "A whole number between 0 and 2,147,483,647." in html
    )
    editor.post(reverse("heroes:create"), {**VALID, "color": "Blue"})
    assert Hero.objects.get().color == "blue"


def test_xp_is_shown_with_thousands_separators_and_colors_with_swatches(client, make_heroes):
    (hero,) = make_heroes(1, xp=1234567, color="teal")
    assert '1,234,567<span class="unit"> XP</span>' in client.get("/").content.decode()
    detail = client.get(f"/heroes/{hero.id}/").content.decode()
    assert "1,234,567 XP" in detail and 'class="swatch swatch-teal"' in detail


def test_the_favicon_is_served(client):
    assert b'rel="icon"' in client.get("/").content
    response = client.get("/static/heroes/favicon.svg")
    assert response.status_code == 200
