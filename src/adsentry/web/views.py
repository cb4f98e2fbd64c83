"""What each investigator page shows, as plain data (dicts and lists of JSON types).

The HTML pages (:mod:`adsentry.web.pages`) render these with Jinja2 and the JSON API
returns them as they are, so a page and its ``/api`` twin never disagree. Each view
costs a fixed, small number of indexed queries (no query per row, no scan of all ads);
figures that need a pass over the corpus (home page counts, facet values) are cached
until :meth:`~adsentry.store.base.Store.data_version` changes.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from adsentry.errors import StoreError
from adsentry.store.base import AdSearch, Store, StoredAd

#: Identifier kinds that have a page.
IDENTIFIER_KINDS: tuple[str, ...] = ("phone", "email", "handle")
#: Network ids as :func:`adsentry.link.networks.network_id_of` makes them.
NETWORK_ID = re.compile(r"n-[0-9a-f]{16}")
#: Longest id, source, identifier value or search query accepted.
MAX_ID_CHARS = 512
MAX_QUERY_CHARS = 500
PER_PAGE = 20
#: Most ads the network graph draws.
GRAPH_MAX_ADS = 300
#: Most ads an identifier page lists.
IDENTIFIER_MAX_ADS = 200
SORTS: tuple[str, ...] = ("score", "date", "relevance")


class NotFound(Exception):
    """An unknown or malformed id; the message says which and why."""


class BadQuery(Exception):
    """A search request that cannot be run (e.g. too long); the message says why."""


# -- links -------------------------------------------------------------------------


def ad_url(source: str, ad_id: str) -> str:
    """The page of an ad."""
    return f"/ads/{quote(source, safe='')}/{quote(ad_id, safe='')}"


def identifier_url(kind: str, value: str) -> str:
    """The page of an identifier."""
    return f"/identifiers/{quote(kind, safe='')}/{quote(value, safe='')}"


def network_url(network_id: str) -> str:
    """The page of a network."""
    return f"/networks/{quote(network_id, safe='')}"


def _plausible(*parts: str) -> bool:
    return all(0 < len(p) <= MAX_ID_CHARS and p.isprintable() and "\x00" not in p for p in parts)


# -- cache -------------------------------------------------------------------------


class PageCache:
    """Values that cost a pass over many rows (corpus figures, a large network's
    view), kept until the data changes (more ads stored, links rebuilt): checked
    against :meth:`Store.data_version` (two index reads) on every use; at most
    ``max_entries``, the least recently used dropped first. Thread-safe. Callers must
    not change a value they get."""

    def __init__(self, max_entries: int = 256) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self.max_entries = max_entries

    def get(self, store: Store, name: str, compute: Callable[[], Any]) -> Any:
        """The cached value of ``name``, recomputed with ``compute`` when stale."""
        version = store.data_version()
        with self._lock:
            hit = self._entries.get(name)
            if hit is not None and hit[0] == version:
                self._entries.move_to_end(name)
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[name] = (version, value)
            self._entries.move_to_end(name)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


# -- pieces ------------------------------------------------------------------------


def _assessment(stored: tuple[float, str, list[dict[str, Any]]] | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    score, decision, contributions = stored
    ordered = sorted(contributions, key=lambda c: (-float(c["weight"]), str(c["code"])))
    return {"score": score, "decision": decision, "contributions": ordered}


def ad_summary(
    ad: StoredAd, score: float | None = None, network_id: str | None = None
) -> dict[str, Any]:
    """What lists show of an ad: key, title, a snippet of the body, date, place,
    score, network and the page's address."""
    body = " ".join(ad.body.split())
    return {
        "source": ad.source,
        "ad_id": ad.ad_id,
        "title": ad.title,
        "snippet": body[:200] + ("…" if len(body) > 200 else ""),
        "posted_at": ad.posted_at,
        "location": ad.location,
        "score": score,
        "network_id": network_id,
        "url": ad_url(ad.source, ad.ad_id),
    }


def _summaries(store: Store, ads: list[StoredAd]) -> list[dict[str, Any]]:
    pks = [a.pk for a in ads]
    scores = store.assessments_of("ad", [str(p) for p in pks])
    nets = store.networks_of(pks)
    return [
        ad_summary(a, scores[str(a.pk)][0] if str(a.pk) in scores else None, nets.get(a.pk))
        for a in ads
    ]


# -- home --------------------------------------------------------------------------


def home_view(store: Store, cache: PageCache) -> dict[str, Any]:
    """Corpus figures, top networks by score, recent ads and the quarantine."""
    from adsentry.score import top_scores

    def figures() -> dict[str, Any]:
        stats = store.stats()
        networks, in_networks = store.network_count()
        return {
            **stats,
            "networks": networks,
            "ads_in_networks": in_networks,
            "quarantine_reasons": [
                {"reason": r, "records": n} for r, n in store.quarantine_reasons()
            ],
        }

    top = top_scores(store, "network", 10)
    for t in top:
        t["url"] = network_url(t["network_id"])
    return {
        "figures": cache.get(store, "figures", figures),
        "top_networks": top,
        "recent_ads": _summaries(store, store.recent_ads(10)),
    }


# -- search ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParams:
    """The search form: query, facets, sort and page (1-based)."""

    q: str = ""
    source: str = ""
    city: str = ""
    date_from: str = ""
    date_to: str = ""
    min_score: float | None = None
    sort: str = "score"
    page: int = 1


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def search_view(
    store: Store, params: SearchParams, region: str, cache: PageCache
) -> dict[str, Any]:
    """Run a search: a phone (any written form), e-mail or ``platform:handle`` is
    looked up among the extracted identifiers, anything else is a full-text query; a
    full-text query the parser rejects is searched again as a phrase, and ``message``
    says so (never a silently empty list). Raises BadQuery for a request that cannot
    run (too long a query, a malformed date)."""
    from adsentry.query import identifier_query

    q = params.q.strip()
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"The query is {len(q):,} characters long; the most accepted is "
            f"{MAX_QUERY_CHARS}. Shorten it and search again."
        )
    for name, value in (("from", params.date_from), ("to", params.date_to)):
        if value and not _DATE.fullmatch(value):
            raise BadQuery(f"The {name} date must be written YYYY-MM-DD (got {value[:40]!r}).")
    if params.min_score is not None and not 0.0 <= params.min_score <= 1.0:
        raise BadQuery("The lowest score must be between 0 and 1.")
    sort = params.sort if params.sort in SORTS else "score"
    page = max(1, params.page)
    ident = identifier_query(q, region) if q else None
    searched = "all ads" if not q else "text"
    if ident is not None:
        searched = {"phone": "that phone number", "email": "that e-mail address"}.get(
            ident[0], "that handle"
        )
    if sort == "relevance" and (not q or ident is not None):
        sort = "score"
    spec = AdSearch(
        text=q if q and ident is None else None,
        identifier=ident,
        source=params.source or None,
        city=params.city.strip() or None,
        date_from=params.date_from or None,
        date_to=params.date_to or None,
        min_score=params.min_score,
        sort=sort,
        offset=(page - 1) * PER_PAGE,
        limit=PER_PAGE,
    )
    message = None
    try:
        hits, total = store.search_ads(spec)
    except StoreError as exc:
        reason = str(exc).rsplit("failed: ", 1)[-1]
        phrase = '"' + q.replace('"', '""') + '"'
        message = (
            f"The search could not read this query as full text ({reason}). "
            "It was searched as an exact phrase instead. Quote words, use AND, OR, NOT "
            'and a trailing * for prefixes, e.g. "new in town" OR visiting.'
        )
        searched = "phrase"
        try:
            hits, total = store.search_ads(dataclasses.replace(spec, text=phrase))
        except StoreError:
            hits, total = [], 0
            message = (
                f"The search could not read this query ({reason}), not even as a phrase. "
                "Remove special characters such as quotes, brackets and * and try again."
            )
    ads = {a.pk: a for a in store.stored_ads([p for p, _ in hits])}
    nets = store.networks_of(list(ads))
    results = [ad_summary(ads[p], s, nets.get(p)) for p, s in hits if p in ads]
    if total == 0 and message is None and q:
        message = "No ads match. Check the spelling, remove a facet or widen the dates."
    facets = cache.get(store, "facets", store.facet_values)
    return {
        "query": q,
        "searched": searched,
        "identifier": (
            None
            if ident is None
            else {"kind": ident[0], "value": ident[1], "url": identifier_url(*ident)}
        ),
        "message": message,
        "filters": {
            "source": params.source,
            "city": params.city,
            "date_from": params.date_from,
            "date_to": params.date_to,
            "min_score": params.min_score,
        },
        "sort": sort,
        "page": page,
        "per_page": PER_PAGE,
        "pages": max(1, -(-total // PER_PAGE)),
        "total": total,
        "results": results,
        "facets": {
            "sources": [{"value": s, "ads": n} for s, n in facets["sources"]],
            "cities": [{"value": c, "ads": n} for c, n in facets["cities"]],
        },
    }


# -- ad ----------------------------------------------------------------------------


def shown_value(kind: str, value: Any) -> str:
    """An entity value as a person reads it: a price ``{"amount": 150, "currency":
    "USD", "minutes": 30}`` as ``150 USD / 30 min``; anything else as text."""
    if kind == "price" and isinstance(value, dict):
        amount = value.get("amount")
        money = f"{amount:g}" if isinstance(amount, int | float) else str(amount)
        cur = value.get("currency") or ""
        minutes = value.get("minutes")
        per = f" / {minutes} min" if minutes else ""
        return f"{money} {cur}".strip() + per
    return str(value)


def ad_view(store: Store, source: str, ad_id: str) -> dict[str, Any]:
    """One ad: its fields, entities, indicators (with their spans), score with
    contributions and network. Raises NotFound for an unknown or malformed key."""
    if not _plausible(source, ad_id):
        raise NotFound("That is not a valid ad address (source and id must be printable text).")
    ad = store.ad_by_key(source, ad_id)
    if ad is None:
        raise NotFound(f"No ad {ad_id!r} from source {source!r} in this database.")
    entities = store.entity_rows_of(ad.pk)
    for e in entities:
        e["url"] = identifier_url(e["kind"], e["value"]) if e["kind"] in IDENTIFIER_KINDS else None
        e["shown"] = shown_value(e["kind"], e["value"])
    indicators = [
        {
            "code": i.code,
            "validated": i.validated,
            "source": i.source,
            "language": i.language,
            "spans": [s.to_dict() for s in i.spans],
        }
        for i in store.indicators_of([ad.pk]).get(ad.pk, [])
    ]
    assessment = _assessment(store.assessments_of("ad", [str(ad.pk)]).get(str(ad.pk)))
    network = None
    nid = store.networks_of([ad.pk]).get(ad.pk)
    if nid is not None:
        network = {
            "network_id": nid,
            "size": store.network_sizes([nid]).get(nid, 0),
            "url": network_url(nid),
        }
    return {
        "source": ad.source,
        "ad_id": ad.ad_id,
        "version": ad.version,
        "versions": store.count_versions(ad.source, ad.ad_id),
        "title": ad.title,
        "body": ad.body,
        "url": ad.url,
        "location": ad.location,
        "posted_at": ad.posted_at,
        "site_fields": ad.site_fields,
        "images": ad.images,
        "raw_sha256": ad.raw_sha256,
        "ingested_at": ad.ingested_at,
        "entities": entities,
        "indicators": indicators,
        "assessment": assessment,
        "network": network,
    }


# -- identifier --------------------------------------------------------------------


def identifier_view(store: Store, kind: str, value: str) -> dict[str, Any]:
    """One phone, e-mail or handle (value as stored): the ads carrying it (newest
    first, at most :data:`IDENTIFIER_MAX_ADS`), the names and cities written with it,
    postings per day, its networks, and whether linking judged it generic and why.
    Raises NotFound for another kind, a malformed value or a value no ad carries."""
    if kind not in IDENTIFIER_KINDS:
        raise NotFound(
            f"There are no identifier pages of kind {kind[:40]!r}: "
            "the kinds are phone, email and handle."
        )
    if not _plausible(value):
        raise NotFound("That is not a valid identifier value.")
    total = store.count_with_entity(kind, value)
    generic = store.generic_reason(kind, value)
    if total == 0 and generic is None:
        raise NotFound(f"No ad in this database carries the {kind} {value!r}.")
    ads = store.ads_with_entity(kind, value, IDENTIFIER_MAX_ADS)
    summaries = _summaries(store, ads)
    companions = store.companions_of(kind, value)
    days = store.timeline_with_entity(kind, value)
    networks = Counter(s["network_id"] for s in summaries if s["network_id"])
    sizes = store.network_sizes(list(networks))
    return {
        "kind": kind,
        "value": value,
        "ads_total": total,
        "ads": summaries,
        "ads_shown": len(summaries),
        "names": [{"value": v, "ads": n} for v, n in companions.get("name", [])],
        "cities": [{"value": v, "ads": n} for v, n in companions.get("location", [])],
        "timeline": [{"day": d, "ads": n} for d, n in days],
        "generic": None if generic is None else {"reason": generic[0], "ads": generic[1]},
        "networks": [
            {"network_id": n, "ads_here": c, "size": sizes.get(n, 0), "url": network_url(n)}
            for n, c in networks.most_common()
        ],
    }


GENERIC_REASONS: dict[str, str] = {
    "placeholder": "a placeholder value (repeated or consecutive digits, test or example "
    "names) that unrelated posters write",
    "spread": "written in ads naming 10 or more places across 10 or more states or "
    "countries, the pattern of a booking service or directory",
    "share": "carried by more than 10 % of all ads (and at least 500): a site-wide or "
    "service contact",
}


# -- network -----------------------------------------------------------------------


def network_view(store: Store, network_id: str) -> dict[str, Any]:
    """One network: :func:`adsentry.link.networks.network_detail` (summary, ads,
    templates with slots, identifier evidence) with its assessment, the ads' titles,
    places and scores, the timeline and the graph (at most :data:`GRAPH_MAX_ADS` ads
    drawn; ``graph.capped`` says so). Raises NotFound for an unknown or malformed id."""
    from adsentry.link.networks import network_detail

    if not NETWORK_ID.fullmatch(network_id):
        raise NotFound(
            f"{network_id[:80]!r} is not a network id (they look like n-0123456789abcdef)."
        )
    detail = network_detail(store, network_id)
    if detail is None:
        raise NotFound(f"No network {network_id!r} in this database (ids change after a relink).")
    detail["assessment"] = _assessment(
        store.assessments_of("network", [network_id]).get(network_id)
    )
    members = store.network_members_of(network_id)
    pks = [p for p, _, _ in members]
    link_ads = {(a.source, a.ad_id): a for a in store.link_ads_by_pk(pks)}
    pk_of = {k: a.pk for k, a in link_ads.items()}
    scores = store.assessments_of("ad", [str(p) for p in pks])
    for ad in detail["ads"]:
        la = link_ads.get((ad["source"], ad["ad_id"]))
        ad["title"] = la.title if la else ""
        ad["location"] = la.location if la else ""
        pk = pk_of.get((ad["source"], ad["ad_id"]))
        sc = scores.get(str(pk)) if pk is not None else None
        ad["score"] = sc[0] if sc else None
        ad["url"] = ad_url(ad["source"], ad["ad_id"])
    detail["ads"].sort(key=lambda a: (a["posted_at"] or "", a["source"], a["ad_id"]))
    day_counts = Counter((a["posted_at"] or "")[:10] for a in detail["ads"] if a["posted_at"])
    detail["timeline"] = [{"day": d, "ads": n} for d, n in sorted(day_counts.items())]
    for ident in detail["identifiers"]:
        ident["url"] = identifier_url(ident["kind"], ident["value"])
    detail["graph"] = network_graph(detail)
    detail["url"] = network_url(network_id)
    return detail


def network_graph(detail: dict[str, Any], max_ads: int = GRAPH_MAX_ADS) -> dict[str, Any]:
    """Cytoscape.js elements of a network: ad nodes, identifier and template nodes,
    and one edge per ad-identifier or ad-template link with its evidence text. At most
    ``max_ads`` ads are drawn (by date); ``capped`` and ``ads_drawn`` say so."""
    ads = detail["ads"][:max_ads]
    drawn = {(a["source"], a["ad_id"]) for a in ads}

    def ad_node(source: str, ad_id: str) -> str:
        return "ad:" + source + "\x1f" + ad_id

    nodes: list[dict[str, Any]] = [
        {
            "data": {
                "id": ad_node(a["source"], a["ad_id"]),
                "kind": "ad",
                "label": a["ad_id"],
                "evidence": f"ad {a['ad_id']} ({a['source']}), posted {a['posted_at'] or '?'}"
                + (f", {a['location']}" if a.get("location") else ""),
                "href": a["url"],
            }
        }
        for a in ads
    ]
    edges: list[dict[str, Any]] = []
    for ident in detail["identifiers"]:
        carriers = [c for c in ident["ads"] if (c["source"], c["ad_id"]) in drawn]
        if not carriers:
            continue
        nid = f"id:{ident['kind']}:{ident['value']}"
        n_ads = len({(c["source"], c["ad_id"]) for c in ident["ads"]})
        nodes.append(
            {
                "data": {
                    "id": nid,
                    "kind": ident["kind"],
                    "label": ident["value"],
                    "evidence": f"{ident['kind']} {ident['value']}, carried by {n_ads} ads",
                    "href": ident.get("url"),
                }
            }
        )
        for i, c in enumerate(carriers):
            how = "obfuscated, " if c["obfuscated"] else ""
            edges.append(
                {
                    "data": {
                        "id": f"e:{nid}:{i}",
                        "source": ad_node(c["source"], c["ad_id"]),
                        "target": nid,
                        "kind": ident["kind"],
                        "evidence": f"ad {c['ad_id']} writes the {ident['kind']} "
                        f"{ident['value']} as “{c['text']}” ({how}shared identifier)",
                    }
                }
            )
    for t in detail["templates"]:
        mem = [m for m in t["members"] if (m["source"], m["ad_id"]) in drawn]
        if not mem:
            continue
        tid = "tpl:" + t["template_id"]
        nodes.append(
            {
                "data": {
                    "id": tid,
                    "kind": "template",
                    "label": t["template_id"],
                    "evidence": f"template {t['template_id']}: {len(t['members'])} ads, "
                    f"{len(t['slots'])} slots, coverage {t['coverage']:.0%}",
                    "href": f"#{t['template_id']}",
                }
            }
        )
        for i, m in enumerate(mem):
            edges.append(
                {
                    "data": {
                        "id": f"e:{tid}:{i}",
                        "source": ad_node(m["source"], m["ad_id"]),
                        "target": tid,
                        "kind": "template",
                        "evidence": f"ad {m['ad_id']} follows template {t['template_id']} "
                        f"(similarity {m['similarity']:.2f} to its anchor)",
                    }
                }
            )
    return {
        "elements": {"nodes": nodes, "edges": edges},
        "ads_total": len(detail["ads"]),
        "ads_drawn": len(ads),
        "capped": len(detail["ads"]) > len(ads),
    }


# -- exports -----------------------------------------------------------------------

ADS_COLUMNS: tuple[str, ...] = (
    "source", "ad_id", "version", "posted_at", "location", "title", "url", "score",
    "template_id", "raw_sha256", "ingested_at",
)  # fmt: skip
LINKS_COLUMNS: tuple[str, ...] = (
    "source", "ad_id", "link", "value", "text", "obfuscated", "similarity",
)  # fmt: skip


def network_export(store: Store, network_id: str) -> dict[str, Any]:
    """A network's ads (with raw_sha256 and ingested_at, for chain of custody) and its
    links (ad-identifier and ad-template, with their evidence) as rows of
    :data:`ADS_COLUMNS` and :data:`LINKS_COLUMNS`, with the summary and assessment.
    Raises NotFound like :func:`network_view`."""
    view = network_view(store, network_id)
    members = store.network_members_of(network_id)
    stored = {(a.source, a.ad_id): a for a in store.stored_ads([p for p, _, _ in members])}
    ads = []
    for a in view["ads"]:
        s = stored.get((a["source"], a["ad_id"]))
        ads.append(
            {
                "source": a["source"],
                "ad_id": a["ad_id"],
                "version": s.version if s else None,
                "posted_at": a["posted_at"],
                "location": a["location"],
                "title": a["title"],
                "url": s.url if s else "",
                "score": a["score"],
                "template_id": a["template_id"],
                "raw_sha256": s.raw_sha256 if s else "",
                "ingested_at": s.ingested_at if s else "",
            }
        )
    links = []
    for ident in view["identifiers"]:
        for c in ident["ads"]:
            links.append(
                {
                    "source": c["source"],
                    "ad_id": c["ad_id"],
                    "link": ident["kind"],
                    "value": ident["value"],
                    "text": c["text"],
                    "obfuscated": c["obfuscated"],
                    "similarity": None,
                }
            )
    for t in view["templates"]:
        for m in t["members"]:
            links.append(
                {
                    "source": m["source"],
                    "ad_id": m["ad_id"],
                    "link": "template",
                    "value": t["template_id"],
                    "text": "",
                    "obfuscated": None,
                    "similarity": m["similarity"],
                }
            )
    return {
        "network_id": network_id,
        "summary": view["summary"],
        "assessment": view["assessment"],
        "templates": view["templates"],
        "ads": ads,
        "links": links,
    }
