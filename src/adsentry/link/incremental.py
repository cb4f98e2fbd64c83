"""Incremental linking: link the ads of a new run against what is stored, no rebuild.

A full relink (:func:`adsentry.link.networks.relink`) reads every current ad. This
module recomputes only the part of the graph a run can change and gives the same
templates, networks and generic identifiers as a full relink over the same ads (a test
checks it table by table). The argument:

1. **Generic identifiers** are judged per identifier from its current carriers, their
   places and the number of current ads (:func:`adsentry.link.identifiers.find_generic`).
   A run changes the carriers only of the identifiers that its new ads carry or that
   the versions it replaced carried; the number of ads only grows, so a kept
   identifier carried by no new ad stays kept, and a generic one may turn kept (the
   ``share`` rule). So exactly these are judged again: the identifiers of the new ads,
   of the replaced versions, and every stored generic one.
2. **Seeds**: the new ads; every current carrier of a judged identifier, unless it was
   generic before and still is (an identifier that turns generic withdraws its links,
   one that turns kept welds its carriers); the stored ads a new ad's template links
   to (those sharing an LSH band key with it, read from ``ad_bands``, whose
   :func:`adsentry.link.templates.similarity` reaches the threshold, with a margin of
   0.01 so that rounding never loses one); the texts whose candidate pairs change
   because the run moved the hub cut of an LSH bucket (a large bucket pairs its texts
   only with its hubs, :func:`adsentry.link.templates.bucket_cuts`; new texts and
   replaced versions can move the cut of the buckets they are in: :func:`_cut_changes`);
   and the ads of the replaced versions' networks.
3. **Affected ads** = the seeds plus every ad of their stored networks and stored
   *template components* (``ad_bands.component``: the connected components of template
   links before chaining control cuts them into micro-clusters; an ad can link to a
   neighbour and still stand alone, and a new link can move a component's medoid and
   re-cut it whole), repeated until nothing is added. A link between an affected ad
   and any other ad is either new or changed (found in step 2), or an identifier link
   inside one stored network, or a template link inside one stored component, so the affected ads
   are a union of whole networks and components of the new graph. Template links,
   their cut into micro-clusters (which depends only on one component's texts and
   links) and the networks are computed over the affected ads alone
   (:func:`adsentry.link.networks.compute`, with the generic set and the hub cuts
   computed over every current text), and their rows replace the old ones in one
   transaction.

Cost: reading the band keys of every linked ad (8 bytes per band, 336 bytes per ad,
paged 50k at a time: about 30 s for one new ad into 1M demo ads, bench/RESULTS.md),
plus a relink of the affected ads. When the new ads are more than
half of all current ads, or the stored links were made with other parameters or
before band keys were kept, a full relink is done instead (same result).

API: :func:`link_stored` ``(store) -> (LinkReport, LinkScope | None)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from adsentry.link.identifiers import (
    DEFAULT_GENERIC,
    IDENTIFIER_KINDS,
    GenericIdentifier,
    GenericParams,
    IdKey,
    ad_places,
    find_generic,
    needs_places,
)
from adsentry.link.lookup import read_band_keys
from adsentry.link.networks import (
    COMPUTE_KINDS,
    MASKS,
    LinkReport,
    compute,
    masked_text,
    params_fingerprint,
    relink,
)
from adsentry.link.templates import (
    DEFAULT_PARAMS,
    TemplateParams,
    band_key_matrix,
    bucket_cuts,
    hub_hashes,
    in_sorted,
    pair_similarities,
)
from adsentry.store.base import LinkAd, LinkEntity, Store

#: A run whose new ads are more than this share of all current ads relinks in full.
MAX_NEW_SHARE = 0.5
#: Template links to stored ads are looked for down to ``threshold - SEED_MARGIN``.
SEED_MARGIN = 0.01


@dataclass(frozen=True, slots=True)
class LinkScope:
    """What an incremental link run changed, for rescoring only that: ``ads``, the
    current ads whose links were recomputed (whole networks); ``withdrawn``, replaced
    versions whose links were removed; ``networks_before``, the network ids the ads of
    both had before the run."""

    ads: frozenset[int]
    withdrawn: frozenset[int]
    networks_before: frozenset[str]


def link_stored(
    store: Store,
    *,
    template_params: TemplateParams = DEFAULT_PARAMS,
    generic_params: GenericParams = DEFAULT_GENERIC,
    max_new_share: float = MAX_NEW_SHARE,
) -> tuple[LinkReport, LinkScope | None]:
    """Bring the stored links up to date with the stored ads: incrementally when the
    stored links allow it (see the module docstring), else by a full :func:`relink`
    (then the scope is None: everything changed). Raises StoreError when the database
    fails; the links are written in one transaction either way."""
    state = store.link_state()
    fingerprint = params_fingerprint(template_params, generic_params)
    if state is None or state.params != fingerprint or state.current != state.banded:
        return _full(store, template_params, generic_params)
    new_ads = store.link_ads_after(state.stamp)
    withdrawn = store.unlinked_versions()
    n_current = store.count_current()
    if len(new_ads) > max_new_share * n_current:
        return _full(store, template_params, generic_params)
    scope = _update(store, new_ads, withdrawn, n_current, template_params, generic_params)
    nets, in_nets, templates, generic = store.link_counts()
    return (
        LinkReport(nets, in_nets, templates, generic, n_current, relinked=len(scope.ads)),
        scope,
    )


def _full(
    store: Store, template_params: TemplateParams, generic_params: GenericParams
) -> tuple[LinkReport, None]:
    return relink(store, template_params=template_params, generic_params=generic_params), None


def _update(
    store: Store,
    new_ads: Sequence[LinkAd],
    withdrawn: Sequence[int],
    n_current: int,
    template_params: TemplateParams,
    generic_params: GenericParams,
) -> LinkScope:
    new_pks = [a.pk for a in new_ads]
    new_ents = store.link_entities_of(new_pks, COMPUTE_KINDS)
    old_ents = store.link_entities_of(withdrawn, IDENTIFIER_KINDS)
    stored_generic = {(k, v) for k, v, _, _ in store.generic_identifiers()}
    judged = {(e.kind, e.value) for e in new_ents if e.kind in IDENTIFIER_KINDS}
    judged |= {(e.kind, e.value) for e in old_ents} | stored_generic
    carriers = store.current_carriers(sorted(judged))
    generic_now = _judge(store, carriers, n_current, generic_params)

    seeds = set(new_pks)
    for key in judged:
        if not (key in stored_generic and key in generic_now):
            seeds.update(carriers.get(key, ()))
    gone = set(withdrawn)
    stored = _stored_bands(store, template_params)
    texts, new = _new_bands(new_ads, new_ents, template_params)
    current = stored.take(~in_sorted(stored.pks, np.asarray(sorted(gone | set(new_pks)))))
    after = current.join(new)
    touched = new.join(stored.take(in_sorted(stored.pks, np.asarray(sorted(gone)))))
    seeds |= _cut_changes(stored, after, touched, template_params)
    seeds |= _template_links(store, current, texts, new, new_pks, template_params)
    del stored, current
    affected, before = _closure(store, seeds, gone)

    pks = sorted(affected)
    generic_keys = (stored_generic - judged) | generic_now.keys()
    mine = after.take(in_sorted(after.pks, np.asarray(pks, dtype=np.int64)))
    res = compute(
        store.link_ads_by_pk(pks),
        store.link_entities_of(pks, COMPUTE_KINDS),
        template_params=template_params,
        generic=generic_keys,
        cuts=bucket_cuts(after.keys, after.hubs, template_params, _bucket_keys(mine)),
    )
    rows = sorted(generic_now.values(), key=lambda g: (-g.ads, g.kind, g.value))
    store.update_links(
        sorted(affected | gone),
        [(pk, tid, sim) for pk, (tid, sim) in sorted(res.templates.items())],
        sorted(res.networks.items()),
        list(res.band_rows()),
        sorted(judged),
        [(g.kind, g.value, g.reason, g.ads) for g in rows],
        params_fingerprint(template_params, generic_params),
    )
    return LinkScope(frozenset(affected), frozenset(gone), frozenset(before))


def _closure(store: Store, seeds: set[int], gone: set[int]) -> tuple[set[int], set[str]]:
    """The seeds (current ads) plus every ad of their stored networks and template
    components, and of those of the ``gone`` versions, to a fixpoint; and the stored
    network ids met."""
    affected = seeds - gone
    networks: set[str] = set()
    components: set[str] = set()
    frontier = seeds | gone
    while frontier:
        nets = set(store.networks_of(sorted(frontier)).values()) - networks
        comps = store.components_of(sorted(frontier)) - components
        networks |= nets
        components |= comps
        more = set(store.members_of_networks(sorted(nets)))
        more |= set(store.members_of_components(sorted(comps)))
        frontier = more - affected - gone
        affected |= frontier
    return affected, networks


def _judge(
    store: Store,
    carriers: dict[IdKey, list[int]],
    n_current: int,
    params: GenericParams,
) -> dict[IdKey, GenericIdentifier]:
    """:func:`find_generic` of some identifiers over their current carriers, reading
    the places only of carriers of identifiers that the ``spread`` rule may judge."""
    need = sorted(needs_places(carriers, params))
    places: dict[int, frozenset[str]] = {}
    if need:
        values: dict[int, list[str]] = defaultdict(list)
        for e in store.link_entities_of(need, ("location",)):
            values[e.ad_pk].append(e.value)
        fields = store.dates_places_of(need)
        places = {pk: ad_places(values[pk], fields.get(pk, (None, ""))[1]) for pk in need}
    return find_generic(carriers, places, n_current, params)


class _Bands(NamedTuple):
    """Band key rows of some ads: ``pks`` (n,) int64, ``keys`` (n, bands) uint64 and
    their :func:`adsentry.link.templates.hub_hashes` ``hubs`` (n,)."""

    pks: NDArray[np.int64]
    keys: NDArray[np.uint64]
    hubs: NDArray[np.uint64]

    @classmethod
    def of(cls, pks: NDArray[np.int64], keys: NDArray[np.uint64]) -> _Bands:
        return cls(pks, keys, hub_hashes(keys))

    def take(self, mask: NDArray[np.bool_]) -> _Bands:
        return _Bands(self.pks[mask], self.keys[mask], self.hubs[mask])

    def join(self, other: _Bands) -> _Bands:
        return _Bands(
            np.concatenate((self.pks, other.pks)),
            np.concatenate((self.keys, other.keys)),
            np.concatenate((self.hubs, other.hubs)),
        )


def _stored_bands(store: Store, params: TemplateParams) -> _Bands:
    """The band keys of every ad of the last link run (``ad_bands``), by pk."""
    return _Bands.of(*read_band_keys(store, params))


def _new_bands(
    new_ads: Sequence[LinkAd], new_ents: Sequence[LinkEntity], params: TemplateParams
) -> tuple[list[str], _Bands]:
    """The masked texts of the new ads, and the band keys of those that can link."""
    by_ad: dict[int, list[LinkEntity]] = defaultdict(list)
    for e in new_ents:
        by_ad[e.ad_pk].append(e)
    texts = [masked_text(a, by_ad[a.pk]) for a in new_ads]
    ok, keys = band_key_matrix(texts, params)
    pks = np.asarray([a.pk for a in new_ads], dtype=np.int64)
    return texts, _Bands.of(pks[ok], keys[ok])


def _bucket_keys(bands: _Bands) -> list[NDArray[np.uint64]]:
    """Per band, the distinct bucket keys of these rows."""
    return [np.unique(bands.keys[:, b]) for b in range(bands.keys.shape[1])]


def _cut_changes(
    before: _Bands, after: _Bands, touched: _Bands, params: TemplateParams
) -> set[int]:
    """Pks of current ads whose candidate pairs change because a bucket's hub cut moved.

    Only the buckets of ``touched`` rows (new ads, replaced versions) can move. A cut
    that falls takes hub status from the texts between the two cuts: their pairs with
    non-hubs go, and they are seeds (the ads they linked to share their stored
    component). A cut that rises gives hub status to texts that may now link to any
    member of the bucket: every member is a seed."""
    only = _bucket_keys(touched)
    old = bucket_cuts(before.keys, before.hubs, params, only)
    new = bucket_cuts(after.keys, after.hubs, params, only)
    seeds: set[int] = set()
    for b, wanted in enumerate(only):
        was, now = old.of(b, wanted), new.of(b, wanted)
        moved = was != now
        if not moved.any():
            continue
        keys, lo, hi = wanted[moved], np.minimum(was, now)[moved], np.maximum(was, now)[moved]
        rose = (now > was)[moved]
        col = after.keys[:, b]
        rows = np.flatnonzero(in_sorted(col, keys))
        at = np.searchsorted(keys, col[rows])
        hub = after.hubs[rows]
        hit = rose[at] | ((hub > lo[at]) & (hub <= hi[at]))
        seeds.update(after.pks[rows[hit]].tolist())
    return seeds


def _template_links(
    store: Store,
    stored: _Bands,
    texts: Sequence[str],
    new: _Bands,
    new_pks: Sequence[int],
    params: TemplateParams,
) -> set[int]:
    """Pks of stored current ads that share an LSH band key with a new ad and whose
    similarity to it reaches ``threshold - SEED_MARGIN`` (every member of the bucket is
    tried, hub or not: a superset of the pairs a relink enumerates)."""
    row_of = {pk: i for i, pk in enumerate(new_pks)}
    pairs: dict[int, set[int]] = defaultdict(set)  # stored pk -> new ads sharing a key
    for b in range(new.keys.shape[1]):
        rows_of: dict[int, list[int]] = defaultdict(list)  # key -> new ads
        for pk, key in zip(new.pks.tolist(), new.keys[:, b].tolist(), strict=True):
            rows_of[key].append(row_of[pk])
        col = stored.keys[:, b]
        for r in np.flatnonzero(in_sorted(col, np.unique(new.keys[:, b]))).tolist():
            pairs[int(stored.pks[r])].update(rows_of[int(col[r])])
    return _verified(store, pairs, texts, params)


def _verified(
    store: Store,
    pairs: dict[int, set[int]],
    texts: Sequence[str],
    params: TemplateParams,
) -> set[int]:
    if not pairs:
        return set()
    pks = sorted(pairs)
    by_ad: dict[int, list[LinkEntity]] = defaultdict(list)
    for e in store.link_entities_of(pks, tuple(MASKS)):
        by_ad[e.ad_pk].append(e)
    stored = [(a.pk, masked_text(a, by_ad[a.pk])) for a in store.link_ads_by_pk(pks)]
    n = len(texts)
    rows = [(i, n + j) for j, (pk, _) in enumerate(stored) for i in sorted(pairs[pk])]
    all_texts = [*texts, *(t for _, t in stored)]
    sims = pair_similarities(all_texts, np.asarray(rows, dtype=np.int64), params)
    keep = sims >= params.threshold - SEED_MARGIN
    return {stored[j - n][0] for (_, j), ok in zip(rows, keep.tolist(), strict=True) if ok}
