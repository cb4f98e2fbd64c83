"""Networks: connected groups of ads fused from identifier links and template links.

:func:`compute` links a set of ads; :func:`relink` rebuilds everything from the stored
extractions, and :mod:`adsentry.link.incremental` runs :func:`compute` over only the
networks and template components that new ads touch, with the same result. The graph
is a star, never all pairs: its nodes are the current ads, the kept identifiers
(:mod:`adsentry.link.identifiers`, generic values filtered out as in Freeman et al.,
2025) and the template micro-clusters (:func:`adsentry.link.templates.cluster`,
InfoShield-style, Lee et al. 2021); its edges are ad-identifier and ad-template. A
*network* is a connected component (scipy.sparse.csgraph) with two ads or more.

Ids are stable for the same input: a network is ``"n-"`` + the xxh64 hex digest of its
smallest ``(source, ad_id)`` (as ``source + "\\x1f" + ad_id``); a template is ``"t-"`` +
the digest of its micro-cluster's smallest ad key. An ad that links to nothing has
neither.

The text a template sees: ``title + "\\n" + body`` of the current version, with the
stored spans of its phones, e-mails, handles and URLs replaced by ``[PHONE]``,
``[EMAIL]``, ``[HANDLE]``, ``[URL]`` (so a shared identifier is never counted twice).
An ad's template ``similarity`` is :func:`adsentry.link.templates.similarity` of its
masked text to the text of its micro-cluster's anchor (smallest ad key), 1.0 for the
anchor itself.

API: :func:`compute` ``(ads, entities) -> LinkResult`` (pure); :func:`relink`
``(store) -> LinkReport`` (read, compute, replace in one transaction);
:func:`network_detail` ``(store, network_id) -> dict | None`` (summary, templates with
slots, evidence of each link).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xxhash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

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
from adsentry.link.templates import (
    DEFAULT_PARAMS,
    BandKeyTable,
    BucketCuts,
    TemplateParams,
    build_template,
    cluster,
    pair_similarities,
)
from adsentry.store.base import LinkAd, LinkEntity, Store

#: Entity kinds masked in the text templates see, with their mask.
MASKS: dict[str, str] = {
    "phone": "[PHONE]",
    "email": "[EMAIL]",
    "handle": "[HANDLE]",
    "url": "[URL]",
}
#: Members a template's slots are aligned over in :func:`network_detail`.
TEMPLATE_SAMPLE = 30

#: Entity kinds :func:`compute` reads (masks and places).
COMPUTE_KINDS: tuple[str, ...] = (*MASKS, "location")
#: What :func:`compute` reads of the entities once the texts are masked.
_AFTER_MASKING = frozenset((*IDENTIFIER_KINDS, "location"))
#: Entity kinds a network's evidence shows (:func:`network_detail`).
LINK_KINDS: tuple[str, ...] = (*COMPUTE_KINDS, "name")


def _digest(text: str) -> str:
    return xxhash.xxh64_hexdigest(text.encode("utf-8"))


def ad_key(source: str, ad_id: str) -> str:
    """The key of an ad in template clustering: ``source + "\\x1f" + ad_id``."""
    return f"{source}\x1f{ad_id}"


def network_id_of(source: str, ad_id: str) -> str:
    """The id of the network whose smallest ``(source, ad_id)`` is the one given."""
    return "n-" + _digest(ad_key(source, ad_id))


def template_id_of(anchor_key: str) -> str:
    """The id of the template whose micro-cluster's smallest ad key is ``anchor_key``."""
    return "t-" + _digest(anchor_key)


def masked_text(ad: LinkAd, entities: Sequence[LinkEntity]) -> str:
    """``title + "\\n" + body`` with the spans of phones, e-mails, handles and URLs
    replaced by their masks (overlapping spans: the earlier, then longer, one wins)."""
    parts: list[str] = []
    for name, text in (("title", ad.title), ("body", ad.body)):
        spans = sorted(
            (e.start, -e.end, MASKS[e.kind])
            for e in entities
            if e.field == name and e.kind in MASKS and 0 <= e.start < e.end <= len(text)
        )
        out, at = [], 0
        for start, neg_end, mask in spans:
            if start < at:
                continue
            out.append(text[at:start])
            out.append(mask)
            at = -neg_end
        out.append(text[at:])
        parts.append("".join(out))
    return "\n".join(parts)


@dataclass(slots=True)
class LinkResult:
    """What linking found over a set of ads (keys are ad pks).

    ``templates``: ad pk -> ``(template_id, similarity)``; ``networks``: ad pk ->
    network id (ads in no network left out); ``generic``: the generic identifiers
    (empty when the caller gave them); ``identifiers``: kept identifiers carried by two
    ads or more -> their ad pks; ``bands``: the LSH band keys and template components
    of the masked texts, by ad key (``ad_keys``: ad pk -> ad key).
    """

    templates: dict[int, tuple[str, float]] = field(default_factory=dict)
    networks: dict[int, str] = field(default_factory=dict)
    generic: list[GenericIdentifier] = field(default_factory=list)
    identifiers: dict[IdKey, list[int]] = field(default_factory=dict)
    bands: BandKeyTable = field(default_factory=BandKeyTable)
    ad_keys: dict[int, str] = field(default_factory=dict)

    def band_rows(
        self, pks: Collection[int] | None = None
    ) -> Iterator[tuple[int, bytes | None, str | None]]:
        """``(ad_pk, band keys, template component)`` as the store keeps them
        (:func:`band_bytes`), for the ads ``pks`` (every ad when None), by pk."""
        for pk in sorted(self.ad_keys if pks is None else pks):
            key = self.ad_keys[pk]
            keys = self.bands.of(key)
            yield (
                pk,
                None if keys is None else band_bytes(keys),
                self.bands.component_of.get(key),
            )


def band_bytes(keys: np.ndarray) -> bytes:
    """The stored form of one ad's band keys: big-endian uint64, 8 bytes per band."""
    return np.asarray(keys, dtype=">u8").tobytes()


def params_fingerprint(
    template_params: TemplateParams = DEFAULT_PARAMS,
    generic_params: GenericParams = DEFAULT_GENERIC,
) -> str:
    """A short digest of the linking parameters, stored with the links: stored band
    keys and generic judgements are reused only under the same parameters."""
    return _digest(f"links v1 {template_params!r} {generic_params!r}")


@dataclass(frozen=True, slots=True)
class LinkReport:
    """Counts after one link run: networks, ads in networks, templates
    (micro-clusters), generic identifiers, current ads; ``relinked``: how many ads an
    incremental run linked again (None for a full relink)."""

    networks: int
    ads_in_networks: int
    templates: int
    generic: int
    ads: int
    relinked: int | None = None

    def line(self) -> str:
        """The one-line summary ``relink`` and ``analyze`` print on stderr."""
        how = "relink" if self.relinked is None else f"links ({self.relinked:,} ads relinked)"
        return (
            f"{how}: {self.networks:,} networks, {self.ads_in_networks:,} of {self.ads:,} "
            f"ads in networks, {self.templates:,} templates, "
            f"{self.generic:,} generic identifiers"
        )


def compute(
    ads: Sequence[LinkAd],
    entities: Sequence[LinkEntity],
    *,
    template_params: TemplateParams = DEFAULT_PARAMS,
    generic_params: GenericParams = DEFAULT_GENERIC,
    generic: Collection[IdKey] | None = None,
    cuts: BucketCuts | None = None,
    texts: Mapping[int, bytes] | None = None,
) -> LinkResult:
    """Templates, identifier links and networks of ``ads`` from their ``entities``.

    Deterministic: the same ads and entities give the same ids, whatever their order.
    ``generic``: the identifiers to treat as generic, when they were judged over more
    ads than these (incremental linking); by default they are judged here
    (:func:`adsentry.link.identifiers.find_generic` over ``ads``). ``cuts``: the LSH
    buckets' hub cuts over every linked ad, likewise (see
    :func:`adsentry.link.templates.bucket_cuts`). ``texts``: the ads' masked texts by
    pk as UTF-8 (:func:`masked_text`), when the caller made them (then ``ads`` need no
    title and body, and ``entities`` only identifiers and locations).
    """
    result = LinkResult()
    by_ad: dict[int, list[LinkEntity]] = defaultdict(list)
    for e in entities:
        by_ad[e.ad_pk].append(e)
    ads = sorted(ads, key=lambda a: (a.source, a.ad_id))
    index = {a.pk: i for i, a in enumerate(ads)}
    n = len(ads)

    # identifiers: star ad -> (kind, value), generic ones filtered
    carriers: dict[IdKey, set[int]] = defaultdict(set)
    for e in entities:
        if e.kind in IDENTIFIER_KINDS and e.ad_pk in index:
            carriers[(e.kind, e.value)].add(e.ad_pk)
    if generic is None:
        need = needs_places(carriers, generic_params)
        places = {
            a.pk: ad_places((e.value for e in by_ad[a.pk] if e.kind == "location"), a.location)
            for a in ads
            if a.pk in need
        }
        found = find_generic(carriers, places, n, generic_params)
        result.generic = sorted(found.values(), key=lambda g: (-g.ads, g.kind, g.value))
        generic = found.keys()
    result.identifiers = {
        k: sorted(v) for k, v in sorted(carriers.items()) if k not in generic and len(v) > 1
    }

    # templates: micro-clusters of the masked texts
    if texts is None:
        texts = {a.pk: masked_text(a, by_ad[a.pk]).encode() for a in ads}
    key_pk = {ad_key(a.source, a.ad_id): a.pk for a in ads}
    result.ad_keys = {pk: k for k, pk in key_pk.items()}
    labels = cluster(
        ((k, texts[pk].decode()) for k, pk in key_pk.items()),
        template_params,
        keys_out=result.bands,
        cuts=cuts,
    )
    clusters: dict[str, list[int]] = defaultdict(list)
    for k, lab in labels.items():
        if lab is not None:
            clusters[lab].append(key_pk[k])
    # each member's similarity to its anchor, one batch for all distinct text pairs
    text_no: dict[bytes, int] = {}
    pair_no: dict[tuple[int, int], int] = {}
    todo: list[tuple[int, str, tuple[int, int] | None]] = []
    for anchor, pks in sorted(clusters.items()):
        tid = template_id_of(anchor)
        a_no = text_no.setdefault(texts[key_pk[anchor]], len(text_no))
        for pk in pks:
            t_no = text_no.setdefault(texts[pk], len(text_no))
            pair = None if t_no == a_no else (t_no, a_no)
            if pair is not None:
                pair_no.setdefault(pair, len(pair_no))
            todo.append((pk, tid, pair))
    sims = pair_similarities(
        list(text_no), np.asarray(list(pair_no), dtype=np.int64), template_params
    ).tolist()
    for pk, tid, pair in todo:
        result.templates[pk] = (tid, 1.0 if pair is None else round(sims[pair_no[pair]], 4))

    # networks: components of the star graph ads + identifiers + templates
    rows: list[int] = []
    cols: list[int] = []
    node = n
    for pks in result.identifiers.values():
        rows.extend(index[p] for p in pks)
        cols.extend([node] * len(pks))
        node += 1
    for pks in clusters.values():
        rows.extend(index[p] for p in pks)
        cols.extend([node] * len(pks))
        node += 1
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(node, node))
    _, comp = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):  # ads sorted by (source, ad_id): the first of a group is its smallest
        groups[int(comp[i])].append(i)
    for members in groups.values():
        if len(members) < 2:
            continue
        first = ads[members[0]]
        nid = network_id_of(first.source, first.ad_id)
        for i in members:
            result.networks[ads[i].pk] = nid
    return result


def stored_masked_texts(
    store: Store, kinds: Sequence[str] = tuple(MASKS), after: int = 0
) -> Iterator[tuple[LinkAd, list[LinkEntity], str]]:
    """Every current ad with a pk over ``after``, with its entities of ``kinds``
    (which should hold :data:`MASKS`) and its :func:`masked_text`, by pk, read a page
    at a time."""
    for page, ents in store.iter_current_link(kinds, after=after):
        by_ad: dict[int, list[LinkEntity]] = defaultdict(list)
        for e in ents:
            by_ad[e.ad_pk].append(e)
        for a in page:
            mine = by_ad[a.pk]
            yield a, mine, masked_text(a, mine)


def relink(
    store: Store,
    *,
    template_params: TemplateParams = DEFAULT_PARAMS,
    generic_params: GenericParams = DEFAULT_GENERIC,
) -> LinkReport:
    """Rebuild templates, generic identifiers and networks from the stored current ads
    and their entities, and replace them in the store in one transaction.

    Memory: the ads are read a page at a time and only their masked texts (UTF-8) and
    the entities that linking uses after masking are kept, about 1.5 KB an ad."""
    ads: list[LinkAd] = []
    texts: dict[int, bytes] = {}
    entities: list[LinkEntity] = []
    for a, ents, text in stored_masked_texts(store, COMPUTE_KINDS):
        texts[a.pk] = text.encode()
        ads.append(replace(a, title="", body=""))
        entities.extend(e for e in ents if e.kind in _AFTER_MASKING)
    res = compute(
        ads,
        entities,
        template_params=template_params,
        generic_params=generic_params,
        texts=texts,
    )
    del texts, entities
    store.replace_links(
        [(pk, tid, sim) for pk, (tid, sim) in sorted(res.templates.items())],
        sorted(res.networks.items()),
        [(g.kind, g.value, g.reason, g.ads) for g in res.generic],
        list(res.band_rows()),
        params_fingerprint(template_params, generic_params),
    )
    store.optimize()  # the planner's statistics, after the bulk writes of a run
    return LinkReport(
        networks=len(set(res.networks.values())),
        ads_in_networks=len(res.networks),
        templates=len({tid for tid, _ in res.templates.values()}),
        generic=len(res.generic),
        ads=len(ads),
    )


def network_detail(
    store: Store, network_id: str, *, template_sample: int = TEMPLATE_SAMPLE
) -> dict[str, Any] | None:
    """Summary, templates and link evidence of one network, or None when unknown.

    A template's text and slots are aligned over its first ``template_sample`` members
    (by ``(source, ad_id)``; the alignment's medoid costs O(n**2)): ``sample`` says how
    many, ``slots[k][i]`` is slot ``k`` of member ``i`` for ``i < sample``, and
    ``members`` lists every member with its similarity.

    Shape: ``{"network_id", "summary": {"ads", "phones", "names", "cities",
    "first_seen", "last_seen"}, "ads": [{"source", "ad_id", "posted_at",
    "template_id"}], "templates": [{"template_id", "text", "coverage", "sample", "slots":
    [[value per member]], "members": [{"source", "ad_id", "similarity"}]}],
    "identifiers": [{"kind", "value", "ads": [{"source", "ad_id", "text",
    "obfuscated"}]}]}``. Identifier evidence lists the kept identifiers two ads or more
    of the network carry; ``phones``, ``names``, ``cities`` are distinct values.
    """
    members = store.network_members_of(network_id)
    if not members:
        return None
    pks = [p for p, _, _ in members]
    ads = {a.pk: a for a in store.link_ads_by_pk(pks)}
    ents = store.link_entities_of(pks, LINK_KINDS)
    generic = {(k, v) for k, v, _, _ in store.generic_identifiers()}
    by_ad: dict[int, list[LinkEntity]] = defaultdict(list)
    for e in ents:
        by_ad[e.ad_pk].append(e)

    def values(kind: str) -> list[str]:
        return sorted({e.value for e in ents if e.kind == kind})

    seen = sorted(a.posted_at for a in ads.values() if a.posted_at)
    summary = {
        "ads": len(pks),
        "phones": values("phone"),
        "names": values("name"),
        "cities": values("location"),
        "first_seen": seen[0] if seen else None,
        "last_seen": seen[-1] if seen else None,
    }
    tmpl: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for pk, tid, sim in members:
        if tid is not None:
            tmpl[tid].append((pk, float(sim or 0.0)))
    templates = []
    for tid, mem in sorted(tmpl.items()):
        mem.sort(key=lambda m: (ads[m[0]].source, ads[m[0]].ad_id))
        sample = mem[:template_sample]
        t = build_template([masked_text(ads[p], by_ad[p]) for p, _ in sample])
        templates.append(
            {
                "template_id": tid,
                "text": t.text,
                "coverage": round(t.coverage, 4),
                "sample": len(sample),
                "slots": [list(s.values) for s in t.slots],
                "members": [
                    {"source": ads[p].source, "ad_id": ads[p].ad_id, "similarity": s}
                    for p, s in mem
                ],
            }
        )
    carried: dict[IdKey, list[LinkEntity]] = defaultdict(list)
    for e in ents:
        if e.kind in IDENTIFIER_KINDS and (e.kind, e.value) not in generic:
            carried[(e.kind, e.value)].append(e)
    identifiers = []
    for (kind, value), es in sorted(carried.items()):
        if len({e.ad_pk for e in es}) < 2:
            continue
        identifiers.append(
            {
                "kind": kind,
                "value": value,
                "ads": [
                    {
                        "source": ads[e.ad_pk].source,
                        "ad_id": ads[e.ad_pk].ad_id,
                        "text": e.text,
                        "obfuscated": e.obfuscated,
                    }
                    for e in es
                ],
            }
        )
    return {
        "network_id": network_id,
        "summary": summary,
        "ads": [
            {
                "source": ads[p].source,
                "ad_id": ads[p].ad_id,
                "posted_at": ads[p].posted_at,
                "template_id": tid,
            }
            for p, tid, _ in members
        ],
        "templates": templates,
        "identifiers": identifiers,
    }
