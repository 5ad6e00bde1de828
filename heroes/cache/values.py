"""
What a hero entry in the cache holds, and the Lua scripts that change entries.

An entry is ``b"{version}:{body}"``. ``version`` is the row's ``Hero.version``. The body is
either empty, a *marker* ("anything older than this version is stale"), or eight hex
digits of a CRC-32 followed by the payload: the hero's JSON exactly as the API returns it
(so a hit is spliced into a response without decoding), or ``null`` for an id that does
not exist. The checksum covers the payload and the hero's id, so bytes written by anything
else (a truncated value, a typo in redis-cli, another hero's value) read as unreadable,
not as a hero; checking it costs a fraction of a microsecond per hit, where parsing the
JSON would cost more than the MGET itself.
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


class Write(NamedTuple):
    """One version-checked write: ``payload`` (or a marker) for ``hero_id`` at ``version``."""

    hero_id: int
    version: int
    payload: bytes
    ttl: int

    def body(self) -> bytes:
        return seal(self.hero_id, self.payload) if self.payload else MARKER


def seal(hero_id: int, payload: bytes) -> bytes:
    """The body stored for a payload: its checksum, then the payload."""
    return b"%08x%s" % (crc32(payload, hero_id), payload)


def encode(hero_id: int, version: int, payload: bytes) -> bytes:
    """The whole stored value (the Lua script builds the same bytes from version and body)."""
    return b"%d:%s" % (version, seal(hero_id, payload) if payload else MARKER)


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
    payload = value[sep + 9 :]
    if not payload or value[sep + 1 : sep + 9] != b"%08x" % crc32(payload, hero_id):
        raise Unreadable("the checksum does not match")
    return None, payload


def _script(name: str) -> tuple[str, str]:
    source = (Path(__file__).parent / "lua" / name).read_text()
    return source, sha1(source.encode()).hexdigest()


PUT_SCRIPT, PUT_SHA = _script("put.lua")
CLAIM_SCRIPT, CLAIM_SHA = _script("claim.lua")
