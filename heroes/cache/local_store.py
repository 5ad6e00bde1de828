"""
The hero cache's operations on a Django cache backend (the in-process cache by default).

Used when REDIS_URL is not set, so the app runs on a fresh clone with no server. The
scripts' rules (heroes/cache/lua/) run here under a lock, which makes them atomic within
this process only: that is all the in-process cache can offer anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from heroes.cache.values import Unreadable, Write, open_value


class LocalStore:
    name = "local"
    cluster = False
    errors: tuple[type[BaseException], ...] = ()

    def __init__(self, backend):
        self.backend = backend
        self._lock = threading.Lock()

    def slot_map_version(self) -> int:
        return 0

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        found = self.backend.get_many(keys)
        return [_string(found.get(key)) for key in keys]

    def claim(self, pairs: list[tuple[str, str]], ttl_ms: int) -> list[tuple[bool, bytes | None]]:
        # add() stores only if the key is absent, atomically within this process.
        with self._lock:
            return [
                (True, _string(self.backend.get(value_key)))
                if self.backend.add(lock_key, b"1", timeout=max(ttl_ms / 1000, 0.001))
                else (False, None)
                for lock_key, value_key in pairs
            ]

    def put(
        self,
        writes: list[tuple[str, Write]],
        release: list[str] = (),
        *,
        replicas: int = 0,
        timeout_ms: int = 0,
    ) -> tuple[set[str], list[str]]:
        # One process's memory has no replicas to wait for.
        replaced = []
        with self._lock:
            for key, write in writes:
                current = self.backend.get(key)
                if _replaces(current, write):
                    if current is not None and not _ours(current, write.hero_id):
                        replaced.append(key)
                    self.backend.set(key, write.value(), timeout=write.ttl)
            self.backend.delete_many(list(release))
        return set(), replaced

    def ping(self) -> None:
        pass

    def scan_keys(self, pattern: str) -> Iterator[bytes]:
        # Django's in-process cache cannot list its keys; see HeroCache.flush.
        return iter(())

    def delete_matching(self, pattern: str) -> int:
        # The in-process cache holds nothing but this process's entries and cannot list its
        # keys: clearing it all is the namespace flush.
        self.backend.clear()
        return 0

    def server_info(self) -> dict:
        return {"version": None, "used_memory": None, "connected_clients": None}


def _string(value) -> bytes | None:
    # A key holding anything but bytes reads as absent, as MGET answers for another type.
    return value if isinstance(value, bytes) else None


def _ours(current, hero_id: int) -> bool:
    try:
        open_value(hero_id, current)
    except (Unreadable, TypeError, AttributeError):
        return False
    return True


def _replaces(current, write: Write) -> bool:
    """put.lua's rule: whether ``write`` may replace the value ``current``."""
    if not isinstance(current, bytes):
        return True
    try:
        marker_version, _ = open_value(write.hero_id, current)
    except Unreadable:
        return True
    held = marker_version if marker_version is not None else int(current[: current.find(b":")])
    same_kind = (marker_version is None) == bool(write.payload)
    return not (held > write.version or (held == write.version and same_kind))
