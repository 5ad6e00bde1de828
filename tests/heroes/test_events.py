"""The event contract's error messages (heroes/events.py): they name the field and show the value as JSON."""

import json

import pytest

from heroes.events import serve_event

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
