"""Reads of heroes. Every read by id goes through the cache layer here."""

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, router
from django.db.models import Q

from heroes import schema
from heroes.cache import NOT_FOUND, TOMBSTONE_VERSION, CacheUnavailable, ReadState, get_hero_cache
from heroes.metrics import measure
from heroes.models import ApiToken, Hero


@dataclass(slots=True)
class HeroReadResult:
    """
    What a read found and what it cost.

    ``found`` maps each id that exists to the hero's JSON. ``hits`` and ``misses`` count
    distinct ids answered by the cache and by the database; an id the cache remembers as
    missing is a hit. ``cache`` is "redis" or "local" when the cache was used, "off" when
    the caller asked for the database only, and "unavailable" when the cache failed.
    """

    ids: list[int]
    found: dict[int, bytes] = field(default_factory=dict)
    not_found: list[int] = field(default_factory=list)
    hits: int = 0
    misses: int = 0
    db_queries: int = 0
    elapsed_ms: float = 0.0
    cache: str = "off"

    def json_array(self) -> str:
        """The found heroes as a JSON array in request order, spliced from cached JSON."""
        found = self.found
        return (b"[" + b",".join([found[i] for i in self.ids if i in found]) + b"]").decode()

    @property
    def heroes(self) -> list[dict]:
        return [json.loads(self.found[i]) for i in self.ids if i in self.found]

    @property
    def meta(self) -> dict:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "not_found": self.not_found,
            "db_queries": self.db_queries,
            "elapsed_ms": self.elapsed_ms,
            "cache": self.cache,
        }


def get_heroes(*, ids: list[int], use_cache: bool = True, count_as_read: bool = True) -> HeroReadResult:
    """
    Heroes by id, in request order, cache-aside.

    One multi-get for all ids. For the misses: one round trip taking their loading locks,
    one SQL query, and one pipelined write-back (each write conditional on no newer version
    being cached, so a read racing a write never puts an old value back) that also releases
    the locks. Ids another reader is already loading are waited for, briefly, instead.

    With a read replica (DATABASE_READER_URL) the SQL query goes to the replica. A miss on
    an entry a write invalidated or deleted knows the version the row must be at; rows the
    replica returns older than that (it lags) are read again from the writer, so the
    replica's lag is never served over a write the cache knows about.

    ``count_as_read=False`` (warming the cache) leaves the hit-ratio statistics alone: a
    warm-up is not traffic, and counting it would make the ratio say nothing.
    """
    result = HeroReadResult(ids=list(ids))
    unique = list(dict.fromkeys(ids))
    with measure() as stats:
        cache = get_hero_cache() if use_cache and settings.HERO_CACHE_ENABLED else None
        misses = unique
        claimed: list[int] = []
        # What the cache said on the way: the versions its markers demand, bad bytes met.
        seen = ReadState()
        if cache is not None:
            try:
                misses = _from_cache(cache, unique, result, seen)
                if misses:
                    claimed, others, arrived = cache.claim(misses, seen)
                    _take(arrived, result)
                    misses = [i for i in claimed if i not in arrived] + _await_others(cache, others, result)
            except CacheUnavailable:
                cache = None
                result.cache = "unavailable"

        if misses:
            result.misses = len(misses)
            fetched = _load(misses, seen.markers)
            for hero_id, _version, payload in fetched:
                result.found[hero_id] = payload
            if cache is not None:
                missing = [hero_id for hero_id in misses if hero_id not in result.found]
                cache.write_back(found=fetched, missing=missing, release=claimed)
        elif claimed and cache is not None:
            cache.write_back(found=[], missing=[], release=claimed)
    found = result.found
    result.not_found = [] if len(found) == len(unique) else [i for i in unique if i not in found]
    if cache is not None and count_as_read:
        cache.record_read(hits=result.hits, misses=result.misses)
    result.db_queries = stats.db_queries
    result.elapsed_ms = stats.elapsed_ms
    return result


def _load(ids: list[int], markers: dict[int, int]) -> list[tuple[int, int, bytes]]:
    """
    (id, version, JSON) of the heroes among ``ids`` that exist: one query where reads are
    routed (a replica, if configured), and one more on the writer for the rows the replica
    returned older than ``markers`` says they are.
    """
    rows = {row[0]: row for row in Hero.objects.cache_rows(ids)}
    if markers and Hero.objects.db != router.db_for_write(Hero):
        behind = [hero_id for hero_id in ids if _behind(markers.get(hero_id, 0), rows.get(hero_id))]
        if behind:
            for hero_id in behind:
                rows.pop(hero_id, None)
            rows.update((row[0], row) for row in Hero.objects.cache_rows(behind, from_writer=True))
    return [(row[0], row[1], schema.encode_hero(row[0], row[2:])) for row in rows.values()]


def _behind(marker: int, row: tuple | None) -> bool:
    """Whether a replica's answer for one id is older than the cache's marker says it is."""
    if not marker:
        return False
    if row is None:
        # A marker below the tombstone means a write made the row exist at that version.
        return marker < TOMBSTONE_VERSION
    # The row's version is below a marker's (or the row was deleted: a tombstone).
    return row[1] < marker


def _from_cache(cache, ids: list[int], result: HeroReadResult, seen: ReadState) -> list[int]:
    """Fill ``result`` from one multi-get; return the ids the cache could not answer."""
    # Ids the cache remembers as missing count as hits, but are not heroes: not in ``found``.
    misses = cache.read_into(result.found, ids, seen, absent=[])
    result.cache = cache.store.name
    result.hits += len(ids) - len(misses)
    return misses


def _await_others(cache, others: list[int], result: HeroReadResult) -> list[int]:
    """Wait for ids other readers are loading; return those still missing after the wait."""
    if not others:
        return []
    arrived = cache.await_loaded(others)
    _take(arrived, result)
    return [hero_id for hero_id in others if hero_id not in arrived]


def _take(arrived: dict[int, bytes], result: HeroReadResult) -> None:
    """Put what the cache answered (a hero, or "not found") into ``result``, as hits."""
    for hero_id, payload in arrived.items():
        if payload != NOT_FOUND:
            result.found[hero_id] = payload
    result.hits += len(arrived)


# The web list ------------------------------------------------------------------------

# Each sort ends with id in the same direction as its column, so the column's index
# (which InnoDB suffixes with the primary key) is read in one direction and the page
# costs a few rows, not a sort of the whole table: "-xp, id" took 500 ms at 1M rows,
# "-xp, -id" takes 1.5 ms.
SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "xp": ("-xp", "-id"),
    "-xp": ("xp", "id"),
}
# Counting stops here: beyond it the list says "more than 1,000" (see docs/web.md).
COUNT_LIMIT = 1000


@dataclass(slots=True)
class HeroPage:
    """
    One page of the list. ``total`` is exact up to COUNT_LIMIT; ``total_is_lower_bound``
    says there are more than that (and how many more is not worth counting).
    """

    heroes: list[Hero]
    number: int
    has_next: bool
    per_page: int = 25
    total: int = 0
    total_is_lower_bound: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def past_the_end(self) -> bool:
        """A page number beyond the last page (a stale link, an edited URL)."""
        return not self.heroes and self.total > 0

    @property
    def last_number(self) -> int | None:
        """The last page's number, when the count is exact."""
        if self.total_is_lower_bound:
            return None
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.heroes)


def list_heroes(
    *,
    search: str = "",
    hero: bool | None = None,
    color: str = "",
    sort: str = "newest",
    page: int = 1,
    per_page: int = 25,
) -> HeroPage:
    """
    One page of heroes, straight from the database (the cache is keyed by id, not by query),
    and how many match, counted up to COUNT_LIMIT.

    The page fetches one row more than it shows to know whether a next page exists. The
    count is a COUNT over a subquery with LIMIT COUNT_LIMIT + 1, so it reads at most that
    many index entries: COUNT(*) of a million rows costs ~100 ms on every view, the
    bounded count well under a millisecond (docs/web.md has the measurements).
    """
    queryset = filter_heroes(search=search, hero=hero, color=color, sort=sort)
    offset = (page - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    result = HeroPage(heroes=rows[:per_page], number=page, has_next=len(rows) > per_page, per_page=per_page)
    if page == 1 and not result.has_next:
        # The whole result is on this page: no count query needed.
        result.total = len(result.heroes)
    else:
        result.total = count_heroes(queryset)
    result.total_is_lower_bound = result.total > COUNT_LIMIT
    result.total = min(result.total, COUNT_LIMIT)
    return result


def filter_heroes(*, search: str = "", hero: bool | None = None, color: str = "", sort: str = "newest"):
    """The list's queryset: heroes matching the search and filters, in the sort's order."""
    queryset = Hero.objects.order_by(*SORTS.get(sort, SORTS["newest"]))
    if search:
        queryset = _search(queryset, search)
    if hero is not None:
        queryset = queryset.filter(hero=hero)
    if color:
        queryset = queryset.filter(color=color)
    return queryset


def count_heroes(queryset) -> int:
    """How many rows ``queryset`` has, counted up to COUNT_LIMIT + 1 and no further."""
    # Django counts a sliced queryset as SELECT COUNT(*) FROM (SELECT ... LIMIT n).
    return queryset.order_by().values("id")[: COUNT_LIMIT + 1].count()


# Above this many full-text matches the ordered index scan finds a page sooner.
SEARCH_PROBE_LIMIT = 1000
# InnoDB's default full-text stopwords and the index's minimum word length: such words
# are not in the index, so they are matched by the scan instead.
_FT_STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this to was what "
    "when where who will with und www".split()
)
_FT_MIN_WORD = 3


def _search(queryset, text: str):
    """
    Heroes with, for every word of ``text``, a word in their name or power starting with it.

    Two plans, one meaning. A substring scan in the sort order finds a page of a common
    word in milliseconds but reads the whole table for a rare one (1.6 s at 1M rows);
    the FULLTEXT index (migration 0003, MySQL only) is the reverse (0.6 ms for a rare word,
    650 ms to sort 50,000 matches of a common one). So a bounded full-text probe runs
    first: few matches are used as they are, many mean the scan will be quick.
    """
    words = re.findall(r"\w+", text.lower())
    if not words:
        return queryset.filter(Q(name__icontains=text) | Q(power__icontains=text))
    indexed = all(len(w) >= _FT_MIN_WORD and w not in _FT_STOPWORDS for w in words)
    # On the database the query itself will read from: a replica has the index too.
    connection = connections[queryset.db]
    if connection.vendor == "mysql" and indexed:
        # The words are letters and digits only, so they cannot act as search operators.
        against = " ".join(f"+{w}*" for w in words)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM heroes_hero WHERE MATCH (name, power) AGAINST (%s IN BOOLEAN MODE) LIMIT %s",
                [against, SEARCH_PROBE_LIMIT + 1],
            )
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) <= SEARCH_PROBE_LIMIT:
            return queryset.filter(id__in=ids)
    for word in words:
        # A word starts at the beginning or after any non-word character ("x-ray"), as
        # the full-text parser splits words.
        starts_a_word = rf"(^|\W){word}"
        queryset = queryset.filter(Q(name__iregex=starts_a_word) | Q(power__iregex=starts_a_word))
    return queryset


def hero_colors() -> list[str]:
    """
    The colors the list can be filtered by: the palette (heroes/schema.py). A constant, so
    the filter costs no query (a SELECT DISTINCT took 150 ms at 1M rows) and a color is
    in it the moment a hero has it.
    """
    return list(schema.COLORS)


def hero_versions(*, ids: list[int]) -> dict[int, int]:
    """The heroes' current versions, from the writer: they are used to invalidate entries."""
    return dict(Hero.objects.from_writer().filter(id__in=ids).values_list("id", "version"))


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The token a key belongs to, if it is not revoked and its user is active."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
