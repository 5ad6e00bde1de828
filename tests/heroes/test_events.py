"""The event contract's error messages (heroes/events.py): they name the field and show the value as JSON."""

import json

import pytest

from heroes.events import parse_event, serve_event

RECORD = {"name": "x", "hero": "yes", "power": "", "color": "", "xp": 1}


def error_of(event) -> dict:
    response, _ = serve_event(event)
    assert response["statusCode"] == 400
    return json.loads(response["body"])


@pytest.mark.parametrize(
    "event, expected",
    [
        # A write record's "id" is one of its keys like any other: the message names it.
        (
            {"REQUEST": "write", "SQLS": [{**RECORD, "id": 5}]},
            "SQLS[0].id: is not a hero field (expected: color, hero, name, power, xp)",
        ),
        # Values in JSON's spelling, not Python's.
        ({"REQUEST": None}, 'REQUEST: must be "read" or "write", not null'),
        ({"REQUEST": ["read"]}, 'REQUEST: must be "read" or "write", not ["read"]'),
        (
            {"REQUEST": "read", "SQLS": [1], "USE_CACHE": None},
            'USE_CACHE: must be "True" or "False" (or a JSON boolean), not null',
        ),
        ({"REQUEST": "read", "SQLS": [True]}, "SQLS[0]: must be a positive integer, not true"),
        (
            {"REQUEST": "write", "SQLS": [{**RECORD, "xp": "ten"}]},
            'SQLS[0].xp: must be a non-negative integer, not "ten"',
        ),
        (
            {"REQUEST": "write", "SQLS": [{**RECORD, "power": {"a": 1}}]},
            'SQLS[0].power: must be a string, not {"a": 1}',
        ),
        # Out-of-range values are echoed too.
        (
            {"REQUEST": "read", "SQLS": [-5]},
            "SQLS[0]: must be a positive integer up to 9223372036854775807, not -5",
        ),
        (
            {"REQUEST": "read", "SQLS": [0]},
            "SQLS[0]: must be a positive integer up to 9223372036854775807, not 0",
        ),
        (
            {"REQUEST": "write", "SQLS": [{**RECORD, "xp": -1}]},
            "SQLS[0].xp: must be a non-negative integer, not -1",
        ),
        (
            {"REQUEST": "write", "SQLS": [{**RECORD, "xp": 2**31}]},
            "SQLS[0].xp: must be at most 2147483647, not 2147483648",
        ),
    ],
)
def test_a_bad_event_is_described_by_field_and_json_value(event, expected):
    assert error_of(event)["error"] == expected


def test_long_values_are_cut_in_the_message():
    message = error_of({"REQUEST": "x" * 500})["error"]
    assert message == 'REQUEST: must be "read" or "write", not "' + "x" * 39 + "..."


@pytest.mark.parametrize(
    "items, expected",
    [
        ([3, 1, 2], [3, 1, 2]),
        ([1, "22", " 7 "], [1, 22, 7]),
        ([2**63 - 1], [2**63 - 1]),
    ],
)
def test_a_reads_ids_are_taken_as_json_integers_or_digit_strings(items, expected):
    """In-range integers are ids as they are; digit strings are converted; the order is kept."""
    request = parse_event({"REQUEST": "read", "SQLS": items})
    assert request.ids == expected and all(type(i) is int for i in request.ids)


@pytest.mark.parametrize(
    "items, field", [([1, 2**63], "SQLS[1]"), ([1, 2, False], "SQLS[2]"), ([1.0], "SQLS[0]")]
)
def test_an_id_out_of_range_or_of_another_type_is_a_400_naming_its_index(items, field):
    error = error_of({"REQUEST": "read", "SQLS": items})
    assert error["field"] == field


@pytest.mark.parametrize(
    "value, expected",
    [
        ("True", True),
        ("true", True),
        (" TRUE ", True),
        (True, True),
        ("yes", True),
        ("False", False),
        ("false", False),
        (False, False),
        ("no", False),
    ],
)
def test_use_cache_takes_the_contracts_words_in_any_case_and_json_booleans(value, expected):
    assert parse_event({"REQUEST": "read", "SQLS": [1], "USE_CACHE": value}).use_cache is expected


def test_use_cache_defaults_to_true():
    assert parse_event({"REQUEST": "read", "SQLS": [1]}).use_cache is True
