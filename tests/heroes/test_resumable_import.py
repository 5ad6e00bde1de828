"""Where an S3 part may end (heroes/resumable_import.py): only after a whole CSV record."""

import pytest

from heroes.resumable_import import last_record_end


@pytest.mark.parametrize(
    "data, end",
    [
        (b"a,b\nc,d\nhalf", 8),
        (b"a,b\nc,d\n", 8),
        (b'"x\ny",1\n"open\nfield', 8),  # the last newline is inside an open quote
        (b'"say ""hi""\n",1\n"z', 16),  # doubled quotes do not change the parity
        (b"no newline at all", 0),
        (b'"one long\nquoted\nfield', 0),
    ],
)
def test_a_part_ends_after_the_last_whole_record(data, end):
    assert last_record_end(data) == end
