"""
What a hero entry in the cache holds, and the Lua scripts that change entries.

An entry is ``b"{version}:{body}"``. ``version`` is the row's ``Hero.version``. The body is
either empty, a *marker* ("anything older than this version is stale"), or the payload
followed by four bytes of checksum: the payload is the hero's JSON exactly as the API
returns it (so a hit is spliced into a response without decoding), or ``null`` for an id
that does not exist. The checksum is the CRC-32 of ``{version}:{payload}``, seeded with the
hero's id, stored little-endian, so that the CRC-32 of the whole value is a constant
(RESIDUE): one C call checks a hit. Bytes written by anything else (a truncated value, a
typo in redis-cli, another hero's value) read as unreadable, not as a hero; parsing the JSON
instead would cost more than the MGET itself.
"""

from __future__ import annotations

from hashlib import sha1
from pathlib import Path
from typing import NamedTuple
from zlib import crc32

# A delete leaves a marker at this version: higher than any real one, so no write-back or
# late write can bring the row back while it lasts.
TOMBSTONE_VERSION = 2**62
NOT_FOUND = b"null"
MARKER = b""
# zlib's CRC-32 of any bytes followed by their own CRC-32, little-endian, whatever the seed.
RESIDUE = 0x2144DF1C


class Write(NamedTuple):
    """One version-checked write: ``payload`` (or a marker) for ``hero_id`` at ``version``."""

    hero_id: int
    version: int
    payload: bytes
    ttl: int

    def value(self) -> bytes:
        """The bytes stored for this write."""
        return encode(self.hero_id, self.version, self.payload)


def encode(hero_id: int, version: int, payload: bytes) -> bytes:
    """The whole stored value: ``{version}:`` and, for data, the payload and its checksum."""
    head = b"%d:" % version
    if not payload:
        return head + MARKER
    value = head + payload
    return value + crc32(value, hero_id).to_bytes(4, "little")


class Unreadable(ValueError):
    """A stored value that is not of this format (written by something else, or damaged)."""


def open_value(hero_id: int, value: bytes) -> tuple[int | None, bytes | None]:
    """
    What a stored value says: ``(None, payload)`` for data (hero JSON or NOT_FOUND), or
    ``(version, None)`` for a marker. Raises Unreadable for anything else. lua/put.lua
    judges values by the same rules, so what a read cannot use, a write replaces.
    """
    sep = value.find(b":")
    version = value[:sep]
    if sep < 1 or sep > 19 or not version.isdigit() or int(version) > TOMBSTONE_VERSION:
        raise Unreadable("no version of 1 to 19 digits, at most the tombstone's")
    if sep == len(value) - 1:
        return int(version), None
    if len(value) < sep + 6 or crc32(value, hero_id) != RESIDUE:
        raise Unreadable("the checksum does not match")
    return None, value[sep + 1 : -4]


def _script(name: str) -> tuple[str, str]:
    source = (Path(__file__).parent / "lua" / name).read_text()
    return source, sha1(source.encode()).hexdigest()


PUT_SCRIPT, PUT_SHA = _script("put.lua")
CLAIM_SCRIPT, CLAIM_SHA = _script("claim.lua")
