"""
A FULLTEXT index on (name, power) for the web list's search, on MySQL/MariaDB only.

Django cannot declare FULLTEXT indexes, and SQLite has none (the list falls back to a
substring match there, which is fine for the embedded default's small tables).
"""

from django.db import migrations


def add_fulltext(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("CREATE FULLTEXT INDEX hero_search_ft ON heroes_hero (name, power)")


def drop_fulltext(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("DROP INDEX hero_search_ft ON heroes_hero")


class Migration(migrations.Migration):
    # MySQL cannot roll DDL back, and Django refuses DDL inside a transaction there.
    atomic = False
    dependencies = [("heroes", "0002_web_indexes_api_tokens")]
    operations = [migrations.RunPython(add_fulltext, drop_fulltext)]
