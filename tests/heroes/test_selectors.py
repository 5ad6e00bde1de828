import pytest

from heroes import selectors
from heroes.selectors import list_heroes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def roster(make_heroes):
    make_heroes(1, name="Silver Falcon", power="flight")
    make_heroes(1, name="Golden Falcon", power="fire breath")
    make_heroes(1, name="Frost Wolf", power="ice")
    make_heroes(1, name="The Gryphon", power="x-ray vision")


def found(**kwargs) -> list[str]:
    return sorted(h.name for h in list_heroes(sort="name", **kwargs).heroes)


@pytest.fixture(params=["full-text probe", "ordered scan"])
def plan(request, monkeypatch):
    """Run a test under both search plans (on SQLite only the scan exists)."""
    if request.param == "ordered scan":
        monkeypatch.setattr(selectors, "SEARCH_PROBE_LIMIT", 0)
    return request.param


@pytest.mark.embedded
def test_search_matches_words_starting_with_each_term_in_name_or_power(roster, plan):
    assert found(search="falc") == ["Golden Falcon", "Silver Falcon"]
    assert found(search="FALCON silver") == ["Silver Falcon"]
    assert found(search="breath") == ["Golden Falcon"]  # a later word of the power
    assert found(search="gryph") == ["The Gryphon"]
    assert found(search="alcon") == []  # the middle of a word is not a match


@pytest.mark.embedded
def test_short_words_stopwords_and_punctuation_still_search(roster, plan):
    assert found(search="x") == ["The Gryphon"]  # shorter than the full-text minimum
    assert found(search="the") == ["The Gryphon"]  # a full-text stopword
    assert found(search="x-ray") == ["The Gryphon"]
    assert found(search='+"*') == []  # operators alone match nothing and break nothing


def test_search_combines_with_filters_and_sorts(roster):
    assert [h.name for h in list_heroes(search="falcon", sort="name").heroes] == [
        "Golden Falcon",
        "Silver Falcon",
    ]
    assert [h.name for h in list_heroes(search="falcon", color="nope").heroes] == []


def test_the_count_is_exact_up_to_the_limit_and_a_lower_bound_past_it(make_heroes, monkeypatch):
    """total is exact up to COUNT_LIMIT; past it, total is the limit and flagged as a lower bound."""
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 30)
    make_heroes(30, name="Counted")
    page = list_heroes(per_page=10)
    assert (page.total, page.total_is_lower_bound, page.last_number) == (30, False, 3)
    make_heroes(1, name="One more")
    page = list_heroes(per_page=10)
    assert (page.total, page.total_is_lower_bound, page.last_number) == (30, True, None)
    assert list_heroes(search="counted", per_page=10, page=2).total == 30


def test_a_page_past_the_end_is_flagged_with_the_real_count(make_heroes):
    """Page 9 of 2 pages has no heroes but knows there are some, and where the last page is."""
    make_heroes(12)
    page = list_heroes(per_page=10, page=9)
    assert page.heroes == [] and page.past_the_end and (page.total, page.last_number) == (12, 2)
    assert not list_heroes(search="nobody").past_the_end


def test_the_color_choices_are_the_palette_and_need_no_query(django_assert_num_queries):
    """The filter's colors cost no SELECT DISTINCT, and a new color is there at once."""
    from heroes.schema import COLORS

    with django_assert_num_queries(0):
        assert selectors.hero_colors() == list(COLORS)
