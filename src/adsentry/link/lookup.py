"""Find the stored ads that one new ad would link to, without a rebuild.

Used by screening (:mod:`adsentry.screen`): a new ad links to stored ads through its
kept identifiers (a query on the ``entities`` star) and through its template (the LSH
band keys of its masked text looked up in :class:`TemplateLookup`, then verified with
:func:`adsentry.link.templates.similarity`, as the batch path does).

:class:`TemplateLookup` holds, for every stored current ad whose masked text is long
enough to link, its ``bands`` LSH keys (MinHash as in
:mod:`adsentry.link.templates`, same parameters), sorted per band: 16 bytes per ad and
band, about 67 MB for 100k ads with the default 42 bands, and their verification
features (term ids as uint32, about 0.3 KB per ad), so that verifying a candidate needs
no database read. It is built once from the
store (about the cost of the MinHash step of a relink) and grows with :meth:`add`.
The keys of all bands sit in one sorted array, each band's keys XOR-ed with a
per-band salt, so a lookup is two vectorized binary searches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import xxhash
from numpy.typing import NDArray

from adsentry.link.templates import (
    DEFAULT_PARAMS,
    Features,
    TemplateParams,
    _analyze_batch,
    _band_ints,
    _batches,
    _eligible,
    _formula,
    _row_features,
    _signatures,
)
from adsentry.store import Store

#: Keys per block of the two-step search of the sorted band keys (see
#: TemplateLookup._first_at_least): a block is 512 bytes, eight cache lines.
_STRIDE = 64


class TemplateLookup:
    """LSH band keys of stored masked texts, for candidate lookup of a new text.

    ``build(items)`` takes ``(ad_pk, masked_text)`` pairs; :meth:`candidates` returns
    the pks of stored ads sharing at least one band key with a text, the ones sharing
    most bands first (at most ``limit``). Texts too short to link (fewer than
    ``params.min_terms`` terms) are not indexed and find nothing, as in the batch path.
    """

    def __init__(self, params: TemplateParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self._salt = np.asarray(
            [xxhash.xxh3_64_intdigest(f"band {b}".encode()) for b in range(params.bands)],
            dtype=np.uint64,
        )
        self._keys: NDArray[np.uint64] = np.zeros(0, dtype=np.uint64)  # salted, sorted
        self._top: NDArray[np.uint64] = np.zeros(0, dtype=np.uint64)  # every _STRIDE-th key
        self._pk_of: NDArray[np.int64] = np.zeros(0, dtype=np.int64)  # pk of each key
        self._indexed = 0
        self._extra: dict[int, list[int]] = {}  # salted key -> pks added later
        # features of every indexed ad, as three CSR tables of 30-bit term ids (uint32)
        self._row_of: dict[int, int] = {}
        self._ptr: list[NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)] * 3
        self._vals: list[NDArray[np.uint32]] = [np.zeros(0, dtype=np.uint32)] * 3
        self._extra_feats: dict[int, SetFeatures] = {}

    def __len__(self) -> int:
        """Ads indexed (eligible texts only)."""
        return self._indexed

    def __contains__(self, pk: object) -> bool:
        """Whether the ad ``pk`` is indexed."""
        return pk in self._row_of or pk in self._extra_feats

    @classmethod
    def build(
        cls,
        items: Iterable[tuple[int, str]],
        params: TemplateParams = DEFAULT_PARAMS,
        known: tuple[NDArray[np.int64], NDArray[np.uint64]] | None = None,
    ) -> TemplateLookup:
        """Index ``(ad_pk, masked_text)`` pairs (read once, in batches of 2,048).

        ``known``: band keys already computed for some of the ads under ``params``,
        ``(pks, keys)`` of shapes (n,) int64 sorted and (n, bands) uint64, such as the
        ``ad_bands`` of the last link run (:func:`stored_band_keys`): their MinHash is
        not computed again (the most costly step of the build: about 7 of 19 s for
        100k demo ads)."""
        self = cls(params)
        pk_parts: list[NDArray[np.int64]] = []
        band_parts: list[NDArray[np.uint64]] = []
        lens: list[list[NDArray[np.int64]]] = [[], [], []]
        vals: list[list[NDArray[np.uint32]]] = [[], [], []]
        for batch in _batches(items):
            a = _analyze_batch([t for _, t in batch], params.ngram)
            ok = np.flatnonzero(_eligible(a, params))
            if not len(ok):
                continue
            batch_pks = np.asarray([batch[i][0] for i in ok.tolist()], dtype=np.int64)
            keys = np.zeros((len(ok), params.bands), dtype=np.uint64)
            have = np.zeros(len(ok), dtype=bool)
            if known is not None and len(known[0]):
                at = np.minimum(np.searchsorted(known[0], batch_pks), len(known[0]) - 1)
                have = known[0][at] == batch_pks
                keys[have] = known[1][at[have]]
            if not have.all():
                need = ~have
                keys[need] = _band_ints(_signatures(a.shingles, ok[need], params), params)
            pk_parts.append(batch_pks)
            band_parts.append(keys)
            for k, csr in enumerate((a.terms, a.digits, a.names)):
                lens[k].append(csr.ptr[ok + 1] - csr.ptr[ok])
                vals[k].extend(
                    csr.values[csr.ptr[i] : csr.ptr[i + 1]].astype(np.uint32) for i in ok.tolist()
                )
        if pk_parts:
            pks = np.concatenate(pk_parts)
            salted = (np.concatenate(band_parts) ^ self._salt).ravel()
            order = np.argsort(salted, kind="stable")
            self._keys = salted[order]
            self._top = self._keys[::_STRIDE].copy()
            self._pk_of = np.repeat(pks, params.bands)[order]
            self._indexed = len(pks)
            self._row_of = {pk: i for i, pk in enumerate(pks.tolist())}
            for k in range(3):
                self._ptr[k] = np.concatenate(([0], np.cumsum(np.concatenate(lens[k]))))
                self._vals[k] = np.concatenate(vals[k]) if vals[k] else np.zeros(0, np.uint32)
        return self

    def candidates(self, text: str, limit: int = 64) -> list[int]:
        """Pks of stored ads sharing a band key with ``text``: most shared bands first,
        then by pk; at most ``limit``."""
        return self.query(text, limit)[0]

    def query(self, text: str, limit: int = 64) -> tuple[list[int], Features]:
        """:meth:`candidates` of ``text`` and its features (for verifying them with
        :meth:`similarities`), from one analysis of the text."""
        a = _analyze_batch([text], self.params.ngram)
        feats = _row_features(a, 0)
        if not _eligible(a, self.params)[0]:
            return [], feats
        sig = _signatures(a.shingles, np.zeros(1, dtype=np.int64), self.params)
        return self._lookup(_band_ints(sig, self.params)[0], limit), feats

    def query_many(self, texts: list[str], limit: int = 64) -> list[tuple[list[int], Features]]:
        """:meth:`query` of several texts, from one batch analysis and one ranking of
        all their candidates (a few array operations for the batch, not per text)."""
        if not texts:
            return []
        a = _analyze_batch(texts, self.params.ngram)
        ok = np.flatnonzero(_eligible(a, self.params))
        keys = _band_ints(_signatures(a.shingles, ok, self.params), self.params)
        ranked = self._ranked_many(keys ^ self._salt, limit)
        cands: list[list[int]] = [[] for _ in texts]
        for j, i in enumerate(ok.tolist()):
            cands[i] = ranked[j]
        return [(cands[i], _row_features(a, i)) for i in range(len(texts))]

    def similarities(self, feats: Features, pks: list[int]) -> list[float | None]:
        """:func:`adsentry.link.templates.similarity` of a text (its ``feats``) to each
        indexed ad of ``pks`` (None for an ad not indexed), computed over the held
        features (no set is built per candidate)."""
        return self.similarities_many([(feats, pks)])[0]

    def similarities_many(
        self, items: list[tuple[Features, list[int]]]
    ) -> list[list[float | None]]:
        """:meth:`similarities` of several texts, each to its own candidates, in one
        set of array operations for all the (text, candidate) pairs: the term ids of
        both sides are tagged with the pair's number (``pair << 32 | id``) so that one
        sorted intersection counts the shared ids of every pair."""
        out: list[list[float | None]] = [[None] * len(pks) for _, pks in items]
        pair_row, pair_item, pair_at = [], [], []
        for n_item, (feats, pks) in enumerate(items):
            for j, pk in enumerate(pks):
                extra = self._extra_feats.get(pk)
                if extra is not None:
                    out[n_item][j] = similarity_to(as_sets(feats), [extra], self.params)[0]
                elif (i := self._row_of.get(pk)) is not None:
                    pair_row.append(i)
                    pair_item.append(n_item)
                    pair_at.append(j)
        if not pair_row:
            return out
        r = np.asarray(pair_row, dtype=np.int64)
        owner = np.asarray(pair_item, dtype=np.int64)
        n = len(r)
        pair_ids = np.arange(n, dtype=np.uint64)
        counts, sizes, mine_sizes = [], [], []
        for k in range(3):
            mine = [(f.terms, f.digits, f.names)[k] for f, _ in items]
            mine_len = np.asarray([len(m) for m in mine], dtype=np.int64)[owner]
            starts = self._ptr[k][r]
            lens = self._ptr[k][r + 1] - starts
            idx = np.arange(int(lens.sum())) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
            theirs = (np.repeat(pair_ids, lens) << np.uint64(32)) | self._vals[k][idx].astype(
                np.uint64
            )
            ours = np.concatenate(
                [
                    (pair_ids[owner == t][:, None] << np.uint64(32)) | m.astype(np.uint64)[None, :]
                    for t, m in enumerate(mine)
                    if len(m) and (owner == t).any()
                ]
                or [np.zeros((0, 0), dtype=np.uint64)],
                axis=None,
            )
            shared = np.intersect1d(theirs, ours, assume_unique=True)
            counts.append(np.bincount((shared >> np.uint64(32)).astype(np.int64), minlength=n))
            sizes.append(lens.astype(np.int64))
            mine_sizes.append(mine_len)
        inter, sd, sn = counts
        sims = _formula(
            inter,
            mine_sizes[0],
            sizes[0],
            sd,
            mine_sizes[1] + sizes[1] - 2 * sd,
            mine_sizes[2] + sizes[2] - 2 * sn,
            self.params,
        ).tolist()
        for n_item, j, sim in zip(pair_item, pair_at, sims, strict=True):
            out[n_item][j] = sim
        return out

    def _lookup(self, keys: NDArray[np.uint64], limit: int) -> list[int]:
        return self._ranked_many((keys ^ self._salt)[None, :], limit)[0]

    def _ranked_many(self, salted: NDArray[np.uint64], limit: int) -> list[list[int]]:
        """Candidates of each row of salted band keys (shape (texts, bands)): the pks
        sharing a key with the row, most shared keys first, then smallest pk; at most
        ``limit`` each. Where each key's run of equal keys starts is found by
        :meth:`_first_at_least`, where it ends by a binary search of the keys found
        only, and every (row, pk) pair is counted with one sort, whatever the number
        of rows. Raises ValueError for a negative ``limit``."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        m = salted.shape[0]
        flat = salted.ravel()
        lo = self._first_at_least(flat)
        found = lo < len(self._keys)
        found[found] = self._keys[lo[found]] == flat[found]
        lens = np.zeros(len(flat), dtype=np.int64)
        lens[found] = np.searchsorted(self._keys, flat[found], side="right") - lo[found]
        # every position of every matching run, with the row it belongs to
        idx = np.arange(int(lens.sum())) + np.repeat(lo - (np.cumsum(lens) - lens), lens)
        pks = self._pk_of[idx]
        rows = np.repeat(np.repeat(np.arange(m, dtype=np.int64), salted.shape[1]), lens)
        if self._extra:
            more = [
                (k // salted.shape[1], p)
                for k, key in enumerate(flat.tolist())
                for p in self._extra.get(key, ())
            ]
            if more:
                extra = np.asarray(more, dtype=np.int64)
                rows = np.concatenate([rows, extra[:, 0]])
                pks = np.concatenate([pks, extra[:, 1]])
        out: list[list[int]] = [[] for _ in range(m)]
        if not len(pks):
            return out
        order = np.lexsort((pks, rows))
        rows, pks = rows[order], pks[order]
        first = np.flatnonzero(
            np.concatenate(([True], (rows[1:] != rows[:-1]) | (pks[1:] != pks[:-1])))
        )
        counts = np.diff(np.append(first, len(pks)))
        rows, pks = rows[first], pks[first]
        order = np.lexsort((pks, -counts, rows))  # by row, most shared bands, smallest pk
        rows, pks = rows[order], pks[order]
        bounds = np.searchsorted(rows, np.arange(m + 1)).tolist()
        for r in range(m):
            out[r] = pks[bounds[r] : min(bounds[r + 1], bounds[r] + limit)].tolist()
        return out

    def _first_at_least(self, flat: NDArray[np.uint64]) -> NDArray[np.int64]:
        """``np.searchsorted(self._keys, flat, side="left")``, in two steps: a binary
        search of every ``_STRIDE``-th key (``_top``: 0.5 MB for 4.2 M keys, which stays
        in the CPU's cache) picks each key's block, then the block (one ``_STRIDE``-key
        row read in order) is counted. A binary search of the whole array (34 MB for
        100k ads) misses the cache at nearly every step. For the 252 keys of six ads,
        under line_profiler: 0.48 ms in one step, 0.36 ms in two."""
        n = len(self._keys)
        if n == 0:
            return np.zeros(len(flat), dtype=np.int64)
        block = np.maximum(np.searchsorted(self._top, flat, side="left") - 1, 0)
        cols = block[:, None] * _STRIDE + np.arange(_STRIDE)
        rows = self._keys[np.minimum(cols, n - 1)]
        below = (rows < flat[:, None]) & (cols < n)
        return block * _STRIDE + below.sum(axis=1)

    def add(self, pk: int, text: str) -> bool:
        """Index one more stored ad; False when its text is too short to link."""
        a = _analyze_batch([text], self.params.ngram)
        if not _eligible(a, self.params)[0]:
            return False
        sig = _signatures(a.shingles, np.zeros(1, dtype=np.int64), self.params)
        for k in (_band_ints(sig, self.params)[0] ^ self._salt).tolist():
            self._extra.setdefault(k, []).append(pk)
        self._extra_feats[pk] = as_sets(_row_features(a, 0))
        self._indexed += 1
        return True


class SetFeatures(NamedTuple):
    """:class:`Features` as Python sets (small sets intersect faster as sets than as
    arrays): all terms, digit terms, first names."""

    terms: frozenset[int]
    digits: frozenset[int]
    names: frozenset[int]


def as_sets(f: Features) -> SetFeatures:
    """The same features as sets."""
    return SetFeatures(
        frozenset(f.terms.tolist()), frozenset(f.digits.tolist()), frozenset(f.names.tolist())
    )


def similarity_to(
    feats: SetFeatures, others: list[SetFeatures], params: TemplateParams = DEFAULT_PARAMS
) -> list[float]:
    """:func:`adsentry.link.templates.similarity` of one text to each of ``others``,
    from their features (the same formula, counts taken with set operations)."""
    if not others:
        return []

    def arr(values: list[int]) -> NDArray[np.int64]:
        return np.asarray(values, dtype=np.int64)

    inter = [len(feats.terms & o.terms) for o in others]
    sd = [len(feats.digits & o.digits) for o in others]
    sn = [len(feats.names & o.names) for o in others]
    n_d, n_n = len(feats.digits), len(feats.names)
    sims: list[float] = _formula(
        arr(inter),
        np.full(len(others), len(feats.terms), dtype=np.int64),
        arr([len(o.terms) for o in others]),
        arr(sd),
        arr([n_d + len(o.digits) - 2 * k for o, k in zip(others, sd, strict=True)]),
        arr([n_n + len(o.names) - 2 * k for o, k in zip(others, sn, strict=True)]),
        params,
    ).tolist()
    return sims


def stored_band_keys(
    store: Store, params: TemplateParams = DEFAULT_PARAMS
) -> tuple[NDArray[np.int64], NDArray[np.uint64]] | None:
    """The band keys the last link run stored (``ad_bands``) as ``(pks, keys)`` for
    :meth:`TemplateLookup.build`, or None when nothing was linked or the run used
    other parameters (then its keys are not these params' keys). Rows of replaced
    versions come too; a build looks up only the pks it indexes."""
    from adsentry.link.networks import params_fingerprint

    state = store.link_state()
    if state is None or state.params != params_fingerprint(params):
        return None
    return read_band_keys(store, params)


def read_band_keys(
    store: Store, params: TemplateParams = DEFAULT_PARAMS
) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
    """Every row of ``ad_bands`` with keys, by pk: ``(pks, keys)`` of shapes (n,) int64
    and (n, ``params.bands``) uint64 (the stored big-endian bytes read back), whatever
    parameters computed them (callers check those)."""
    pks: list[int] = []
    parts: list[bytes] = []
    for chunk in store.iter_band_keys():
        pks.extend(p for p, _ in chunk)
        parts.append(b"".join(k for _, k in chunk))
    keys = np.frombuffer(b"".join(parts), dtype=">u8").astype(np.uint64)
    return np.asarray(pks, dtype=np.int64), keys.reshape(len(pks), params.bands)
