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
    assert [h.name for h in list_heroes(search="falcon", sort="name").heroes] == ["Golden Falcon", "Silver Falcon"]
    assert [h.name for h in list_heroes(search="falcon", color="nope").heroes] == []
