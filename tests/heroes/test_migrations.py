"""Migration 0005: existing free-text colors become palette colors, and their cache entries go."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from heroes.models import Hero
from heroes.selectors import get_heroes

pytestmark = pytest.mark.django_db(transaction=True)

palette = importlib.import_module("heroes.migrations.0005_hero_palette")


class SchemaEditor:
    """What RunPython hands a migration function that the function uses: the connection."""

    connection = connection


@pytest.mark.parametrize(
    "old, new",
    [
        ("Blue", "blue"),
        (" red ", "red"),
        ("grey", "gray"),
        ("dark blue", "blue"),
        ("Sky-Blue", "blue"),
        ("#00f", ""),
        ("plaid", ""),
        ("teal", "teal"),
        ("", ""),
    ],
)
def test_a_free_text_color_maps_to_the_palette(old, new):
    assert palette.palette_color(old) == new


def test_existing_rows_are_normalised_versioned_and_uncached(make_heroes, hero_cache):
    """Changed rows get version + 1 and an invalidation marker: the next read is a miss with the new color."""
    upper, described, fine = (
        make_heroes(1, color="Blue") + make_heroes(1, color="dark red") + make_heroes(1, color="gold")
    )
    ids = [upper.id, described.id, fine.id]
    assert get_heroes(ids=ids).misses == 3  # all three now cached, with their old colors

    palette.normalise_colors(apps, SchemaEditor())

    assert dict(Hero.objects.values_list("id", "color")) == {
        upper.id: "blue",
        described.id: "red",
        fine.id: "gold",
    }
    assert dict(Hero.objects.values_list("id", "version")) == {upper.id: 2, described.id: 2, fine.id: 1}
    after = get_heroes(ids=ids)
    assert (after.hits, after.misses) == (1, 2)
    assert [hero["color"] for hero in after.heroes] == ["blue", "red", "gold"]
