"""Find the stored ads that one new ad would link to, without a rebuild.

Used by screening (:mod:`adsentry.screen`): a new ad links to stored ads through its
kept identifiers (a query on the ``entities`` star) and through its template (the LSH
band keys of its masked text looked up in :class:`TemplateLookup`, then verified with
:func:`adsentry.link.templates.similarity`, as the batch path does).

:class:`TemplateLookup` holds, for every stored current ad whose masked text is long
enough to link, its ``bands`` LSH keys (MinHash as in
:mod:`adsentry.link.templates`, same parameters), sorted per band: 16 bytes per ad and
band, about 67 MB for 100k ads with the default 42 bands. It is built once from the
store (about the cost of the MinHash step of a relink) and grows with :meth:`add`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from adsentry.link.templates import (
    DEFAULT_PARAMS,
    TemplateParams,
    _analyze_batch,
    _band_ints,
    _eligible,
    _signatures,
)

_BATCH = 2048


def _batches(items: Iterable[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class TemplateLookup:
    """LSH band keys of stored masked texts, for candidate lookup of a new text.

    ``build(items)`` takes ``(ad_pk, masked_text)`` pairs; :meth:`candidates` returns
    the pks of stored ads sharing at least one band key with a text, the ones sharing
    most bands first (at most ``limit``). Texts too short to link (fewer than
    ``params.min_terms`` terms) are not indexed and find nothing, as in the batch path.
    """

    def __init__(self, params: TemplateParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self._pks: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._keys: list[NDArray[np.uint64]] = [np.zeros(0, np.uint64)] * params.bands
        self._rows: list[NDArray[np.int64]] = [np.zeros(0, np.int64)] * params.bands
        self._extra: list[dict[int, list[int]]] = [{} for _ in range(params.bands)]

    def __len__(self) -> int:
        """Ads indexed (eligible texts only)."""
        return len(self._pks) + len({p for t in self._extra for ps in t.values() for p in ps})

    @classmethod
    def build(
        cls, items: Iterable[tuple[int, str]], params: TemplateParams = DEFAULT_PARAMS
    ) -> TemplateLookup:
        """Index ``(ad_pk, masked_text)`` pairs (read once, in batches of 2,048)."""
        self = cls(params)
        pk_parts: list[NDArray[np.int64]] = []
        band_parts: list[NDArray[np.uint64]] = []
        for batch in _batches(items):
            a = _analyze_batch([t for _, t in batch], params.ngram)
            ok = np.flatnonzero(_eligible(a, params))
            if not len(ok):
                continue
            pk_parts.append(np.asarray([batch[i][0] for i in ok.tolist()], dtype=np.int64))
            band_parts.append(_band_ints(_signatures(a.shingles, ok, params), params))
        if pk_parts:
            self._pks = np.concatenate(pk_parts)
            bands = np.concatenate(band_parts)
            for b in range(params.bands):
                order = np.argsort(bands[:, b], kind="stable")
                self._keys[b] = bands[order, b]
                self._rows[b] = order.astype(np.int64)
        return self

    def band_ints(self, text: str) -> list[int] | None:
        """The LSH keys of one masked text, one per band, or None when it is too short
        to link."""
        a = _analyze_batch([text], self.params.ngram)
        if not _eligible(a, self.params)[0]:
            return None
        sig = _signatures(a.shingles, np.zeros(1, dtype=np.int64), self.params)
        keys: list[int] = _band_ints(sig, self.params)[0].tolist()
        return keys

    def candidates(self, text: str, limit: int = 64) -> list[int]:
        """Pks of stored ads sharing a band key with ``text``: most shared bands first,
        then by pk; at most ``limit``."""
        keys = self.band_ints(text)
        if keys is None:
            return []
        shared: Counter[int] = Counter()
        for b, k in enumerate(keys):
            arr = self._keys[b]
            lo = int(np.searchsorted(arr, np.uint64(k), side="left"))
            hi = int(np.searchsorted(arr, np.uint64(k), side="right"))
            if hi > lo:
                shared.update(self._pks[self._rows[b][lo:hi]].tolist())
            shared.update(self._extra[b].get(k, ()))
        ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))
        return [pk for pk, _ in ranked[:limit]]

    def add(self, pk: int, text: str) -> bool:
        """Index one more stored ad; False when its text is too short to link."""
        keys = self.band_ints(text)
        if keys is None:
            return False
        for b, k in enumerate(keys):
            self._extra[b].setdefault(k, []).append(pk)
        return True
