"""Fixtures of the heroes app's tests."""

import pytest


@pytest.fixture
def csv_file(tmp_path):
    """Write a CSV file (text, in UTF-8) and return its path."""

    def write(text: str, name: str = "heroes.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write
