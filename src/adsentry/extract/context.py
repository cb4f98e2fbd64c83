"""What an extractor sees of one ad: its text fields and their normalized views; and
the bounded memo in which extractors keep what they found in fields seen before."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from adsentry.model import TEXT_FIELDS, Ad
from adsentry.text import NormalizedText, normalize

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MEMOS: list[FieldMemo[object]] = []


class SpanSet:
    """Character spans ``[start, end)`` that an extractor has taken, for the test
    "does this candidate overlap one of them?" in a binary search: the spans are kept
    merged and sorted. Checked one by one against a list instead, a 140 KB ad of
    prices took 53 s in screening (quadratic in the candidates of a long ad).

    ``spans``: ``(start, end)`` pairs, in any order, overlapping each other or not.
    Empty spans, and an empty ``[start, end)`` asked about, overlap nothing.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for s, e in sorted(p for p in spans if p[1] > p[0]):
            if self._ends and s <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], e)
            else:
                self._starts.append(s)
                self._ends.append(e)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` shares a character with a span of the set."""
        k = bisect_left(self._ends, start + 1)  # the only span that can: the first
        return end > start and k < len(self._ends) and self._starts[k] < end  # ending after

    def add(self, start: int, end: int) -> None:
        """Take ``[start, end)`` too (merged with the spans it overlaps or touches)."""
        if end <= start:
            return
        lo = bisect_left(self._ends, start)  # first span ending at or after start
        hi = bisect_right(self._starts, end)  # spans from lo up to hi touch it
        if lo < hi:
            start = min(start, self._starts[lo])
            end = max(end, self._ends[hi - 1])
        self._starts[lo:hi] = [start]
        self._ends[lo:hi] = [end]


def clear_memos() -> None:
    """Empty every :class:`FieldMemo` (for benchmarks of first sight, and tests)."""
    for memo in _MEMOS:
        memo.clear()


class FieldMemo(Generic[V]):
    """A bounded memo of what an extractor found in field texts seen before: text ->
    value (usually a tuple of Entities), for one extractor, one field and one setting.

    Ads repeat: reposts carry the same title and body under a new id, and location
    lines and site boilerplate recur across thousands of ads. An extractor's result
    for a field is a pure function of the field's text and a few settings (the field
    name, a region), so it is computed once per distinct text and reused; whatever
    else the result depends on selects the memo (see :func:`scoped`). Entities are
    frozen; the tuples returned are shared between ads and must not be changed (nor
    the dicts of price values).

    Bounded in two generations of plain dicts: when the newer one holds
    ``maxsize // 2`` texts it becomes the older one (the previous older one is
    dropped), and a text found in the older one moves to the newer one. So at most
    ``maxsize`` texts are kept, recently used ones stay, and a look-up or an eviction
    costs O(1). The keys are the texts themselves (strings, which the cyclic garbage
    collector does not track), so a memo adds little to the collector's work. Memory:
    the memos keep the texts of up to ``maxsize`` recent ads alive; on 21,716 distinct
    ads ``adsentry extract`` peaked at 246 MB against 169 MB without them.
    """

    __slots__ = ("_new", "_old", "maxsize")

    def __init__(self, maxsize: int = 16384) -> None:
        self.maxsize = maxsize
        self._new: dict[str, V] = {}
        self._old: dict[str, V] = {}
        _MEMOS.append(self)  # type: ignore[arg-type]

    def get(self, text: str) -> V | None:
        """The value memoized for ``text``, or None when it is not (or no more) kept."""
        found = self._new.get(text)
        if found is None:
            found = self._old.get(text)
            if found is not None:
                self.put(text, found)
        return found

    def put(self, text: str, value: V) -> V:
        """Keep ``value`` for ``text`` and return it."""
        if len(self._new) >= self.maxsize // 2:
            self._old = self._new
            self._new = {}
        self._new[text] = value
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self._new.clear()
        self._old.clear()


def scoped(memos: dict[K, FieldMemo[V]], scope: K) -> FieldMemo[V]:
    """The memo of ``scope`` (a field name, or a field name with the settings a result
    depends on) in ``memos``, made on first use."""
    memo = memos.get(scope)
    if memo is None:
        memo = memos[scope] = FieldMemo()
    return memo


class ExtractionContext:
    """One ad prepared for extraction.

    ``view(field)`` returns the normalized view (computed once per field and cached);
    ``default_region`` is the ISO 3166-1 alpha-2 fallback for phone numbers written
    without a country code; ``source_regions`` maps a source name to its region.
    """

    __slots__ = (
        "_region", "_texts", "_views", "ad", "default_region", "fields", "source_regions",
    )  # fmt: skip

    def __init__(
        self,
        ad: Ad,
        *,
        default_region: str = "US",
        source_regions: Mapping[str, str] | None = None,
    ) -> None:
        self.ad = ad
        self.default_region = default_region.upper()
        self.source_regions = source_regions or {}
        self.fields: tuple[str, ...] = TEXT_FIELDS
        self._texts = {field: getattr(ad, field) for field in TEXT_FIELDS}
        self._views: dict[str, NormalizedText] = {}
        self._region: str | None = None

    def phone_region(self) -> str:
        """The country (ISO 3166-1 alpha-2) of phone numbers written without one.

        Decided in this order: the ad's own location (its ``location`` field, the host
        of its URL such as ``melbourne.backpage.com``, place names in title and body),
        then the region set for its source, then ``default_region``.
        """
        if self._region is None:
            self._region = self._infer_region()
        return self._region

    def _infer_region(self) -> str:
        from adsentry.gazetteer import country_of, country_of_location_field

        ad = self.ad
        if ad.location.strip():
            code = country_of_location_field(ad.location)
            if code:
                return code
        candidates = []
        if ad.url:
            try:
                host = urlsplit(ad.url if "://" in ad.url else "http://" + ad.url).hostname
            except ValueError:
                host = None
            if host:
                labels = host.split(".")
                if len(labels) > 2 and labels[0] not in ("www", "m", "mobile"):
                    candidates.append(labels[0])
        candidates += [ad.title, ad.body]
        for text in candidates:
            if text and text.strip():
                code = country_of(text)
                if code:
                    return code
        source = self.source_regions.get(ad.source)
        return source or self.default_region

    def text(self, field: str) -> str:
        """The original text of ``field`` (one of ``TEXT_FIELDS``; KeyError otherwise)."""
        return self._texts[field]

    def view(self, field: str) -> NormalizedText:
        """The normalized view of ``field`` with its offset map back to the original."""
        nt = self._views.get(field)
        if nt is None:
            nt = normalize(self._texts[field])
            self._views[field] = nt
        return nt
