"""
Hero colors become a palette (heroes/schema.py COLORS): existing rows are normalised.

"Blue" and " blue " become "blue", "grey" becomes "gray", a description naming a palette
color ("dark blue", "sky-blue") becomes that color (the last one named, the head of an
English color phrase), and anything else ("#00f", "plaid") becomes no color. Each changed
row's version goes up by one and its cache entry gets an invalidation marker at the new
version, as every other write does, so no cached value keeps the old color.
"""

import re

from django.db import migrations, models

# Frozen copies: this migration must mean the same thing when the palette later changes.
PALETTE = (
    "red",
    "orange",
    "yellow",
    "green",
    "teal",
    "blue",
    "purple",
    "pink",
    "brown",
    "black",
    "gray",
    "white",
    "silver",
    "gold",
)
ALIASES = {"grey": "gray", "violet": "purple", "golden": "gold", "cyan": "teal"}
CHOICES = [(color, color.capitalize()) for color in PALETTE]
CHUNK = 1000


def palette_color(value: str) -> str:
    color = " ".join(value.split()).lower()
    color = ALIASES.get(color, color)
    if color in PALETTE or not color:
        return color
    named = [ALIASES.get(word, word) for word in re.findall(r"[a-z]+", color)]
    named = [word for word in named if word in PALETTE]
    return named[-1] if named else ""


def normalise_colors(apps, schema_editor):
    """
    Every row is read once, in id order and in chunks, and compared in Python: the column's
    collation is case-insensitive, so SQL would call "Blue" equal to "blue" and skip it.
    """
    Hero = apps.get_model("heroes", "Hero")
    heroes = Hero.objects.using(schema_editor.connection.alias)
    last_id = 0
    while True:
        rows = list(heroes.filter(id__gt=last_id).order_by("id").values_list("id", "color")[:CHUNK])
        if not rows:
            break
        changes: dict[str, list[int]] = {}
        for hero_id, color in rows:
            if palette_color(color) != color:
                changes.setdefault(palette_color(color), []).append(hero_id)
        for new, ids in changes.items():
            heroes.filter(id__in=ids).update(color=new, version=models.F("version") + 1)
        changed = [hero_id for ids in changes.values() for hero_id in ids]
        if changed:
            _invalidate(dict(heroes.filter(id__in=changed).values_list("id", "version")))
        last_id = rows[-1][0]


def _invalidate(versions: dict[int, int]) -> None:
    """Markers at the rows' new versions, through the cache layer's public entry point."""
    from heroes.cache import get_hero_cache

    get_hero_cache().invalidate(versions)


class Migration(migrations.Migration):
    dependencies = [
        ("heroes", "0004_cache_debt"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="hero",
            options={"ordering": ["id"], "verbose_name_plural": "heroes"},
        ),
        migrations.AlterField(
            model_name="hero",
            name="color",
            field=models.CharField(
                blank=True, choices=CHOICES, help_text="One of the palette's colors, or none.", max_length=50
            ),
        ),
        migrations.RunPython(normalise_colors, migrations.RunPython.noop, elidable=True),
    ]
