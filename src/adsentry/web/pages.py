"""The investigator's pages and their JSON twins under ``/api``.

Routes (HTML / JSON): ``/`` and ``/api``; ``/search`` and ``/api/search``;
``/ads/{source}/{ad_id}`` and ``/api/ads/...``; ``/identifiers/{kind}/{value}`` and
``/api/identifiers/...``; ``/networks/{network_id}`` (JSON: the existing
``/api/networks/{network_id}``, plus ``/api/networks/{network_id}/graph``) with the
exports ``/networks/{id}/ads.csv``, ``/networks/{id}/links.csv``,
``/networks/{id}/export.json`` and the printable ``/networks/{id}/report``.

Jinja2 renders with autoescape on: ad text is data, never markup. An unknown or
malformed id is a 404 HTML page (JSON ``{"detail"}`` under ``/api``) with a clear
message. Search requests carrying ``HX-Request`` (htmx) get only the results part.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from adsentry.web import views
from adsentry.web.charts import timeline_svg
from adsentry.web.highlight import entity_annotation, highlight, indicator_annotation

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # ad text is data: always escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(
    ad_url=views.ad_url,
    identifier_url=views.identifier_url,
    network_url=views.network_url,
    generic_reasons=views.GENERIC_REASONS,
)


_SLOT = re.compile(r"\[SLOT(\d+)\]")


def slot_parts(text: str) -> list[dict[str, Any]]:
    """A template's text cut at its ``[SLOTn]`` markers: ``{"text", "slot"}`` parts,
    ``slot`` the 1-based slot number or None for shared text."""
    parts: list[dict[str, Any]] = []
    at = 0
    for m in _SLOT.finditer(text):
        if m.start() > at:
            parts.append({"text": text[at : m.start()], "slot": None})
        parts.append({"text": f"[slot {m.group(1)}]", "slot": int(m.group(1))})
        at = m.end()
    if at < len(text):
        parts.append({"text": text[at:], "slot": None})
    return parts


_env.filters["slot_parts"] = slot_parts
templates = Jinja2Templates(env=_env)

router = APIRouter()


def _store(request: Request) -> Any:
    return request.app.state.store


def _network_view(request: Request, network_id: str) -> dict[str, Any]:
    """:func:`views.network_view` through the page cache (a large network's view costs
    a few hundred ms; its page, graph and exports reuse it until the data changes)."""
    store = _store(request)
    view: dict[str, Any] = _cache(request).get(
        store, f"network:{network_id}", lambda: views.network_view(store, network_id)
    )
    return view


def _network_export(request: Request, network_id: str) -> dict[str, Any]:
    """:func:`views.network_export` through the page cache."""
    store = _store(request)
    export: dict[str, Any] = _cache(request).get(
        store, f"export:{network_id}", lambda: views.network_export(store, network_id)
    )
    return export


def _cache(request: Request) -> views.PageCache:
    cache = getattr(request.app.state, "page_cache", None)
    if cache is None:
        cache = request.app.state.page_cache = views.PageCache()
    return cache


def _region(request: Request) -> str:
    screener = getattr(request.app.state, "screener", None)
    try:
        return str(screener.pipeline.config.region)  # type: ignore[union-attr]
    except AttributeError:
        return "US"


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def not_found_page(request: Request, message: str) -> HTMLResponse:
    """The 404 page with ``message``."""
    return _page(request, "error.html", {"title": "Not found", "message": message}, 404)


def _json_404(message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=404)


# -- home --------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home_page(request: Request) -> HTMLResponse:
    """Home: corpus figures, top networks, recent ads, the quarantine."""
    return _page(request, "home.html", {"v": views.home_view(_store(request), _cache(request))})


@router.get("/api", summary="Home page data: figures, top networks, recent ads, quarantine.")
def api_home(request: Request) -> dict[str, Any]:
    return views.home_view(_store(request), _cache(request))


# -- search ------------------------------------------------------------------------


def _search_params(
    q: str,
    source: str,
    city: str,
    date_from: str,
    date_to: str,
    min_score: str,
    sort: str,
    page: int,
) -> views.SearchParams:
    try:
        score = float(min_score) if min_score.strip() else None
    except ValueError:
        raise views.BadQuery("The lowest score must be a number between 0 and 1.") from None
    return views.SearchParams(
        q=q,
        source=source,
        city=city,
        date_from=date_from.strip(),
        date_to=date_to.strip(),
        min_score=score,
        sort=sort,
        page=page,
    )


_Q = Query("", description="Full text (FTS5 syntax), or a phone/e-mail/platform:handle.")


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(
    request: Request,
    q: str = _Q,
    source: str = "",
    city: str = "",
    date_from: str = Query("", alias="from"),
    date_to: str = Query("", alias="to"),
    min_score: str = "",
    sort: str = "score",
    page: str = "1",
) -> HTMLResponse:
    """Search page (full text and identifiers, facets, sort, paging)."""
    form = {
        "q": q,
        "source": source,
        "city": city,
        "from": date_from,
        "to": date_to,
        "min_score": min_score,
        "sort": sort,
    }
    template = "_results.html" if request.headers.get("hx-request") else "search.html"
    try:
        if not page.strip().isdigit() or not 1 <= int(page) <= 100_000:
            raise views.BadQuery("The page must be a whole number from 1 to 100,000.")
        params = _search_params(q, source, city, date_from, date_to, min_score, sort, int(page))
        v = views.search_view(_store(request), params, _region(request), _cache(request))
    except views.BadQuery as exc:
        return _page(request, template, {"v": None, "form": form, "error": str(exc)}, 400)
    return _page(request, template, {"v": v, "form": form, "error": None})


@router.get("/api/search", summary="Search ads: full text or an identifier, with facets.")
def api_search(
    request: Request,
    q: str = _Q,
    source: str = "",
    city: str = "",
    date_from: str = Query("", alias="from", description="YYYY-MM-DD"),
    date_to: str = Query("", alias="to", description="YYYY-MM-DD"),
    min_score: str = "",
    sort: str = Query("score", pattern="^(score|date|relevance)$"),
    page: int = Query(1, ge=1, le=100_000),
) -> Any:
    try:
        params = _search_params(q, source, city, date_from, date_to, min_score, sort, page)
        return views.search_view(_store(request), params, _region(request), _cache(request))
    except views.BadQuery as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)


# -- ad ----------------------------------------------------------------------------


def _highlighted(v: dict[str, Any]) -> dict[str, Any]:
    by_field: dict[str, list[Any]] = {}
    for e in v["entities"]:
        by_field.setdefault(e["field"], []).append(entity_annotation(e))
    for ind in v["indicators"]:
        for s in ind["spans"]:
            by_field.setdefault(s["field"], []).append(
                indicator_annotation(ind["code"], ind["validated"], s["start"], s["end"], s["text"])
            )
    return {
        name: highlight(v[name], by_field.get(name, ()))
        for name in ("title", "body", "url", "location")
    }


@router.get("/ads/{source}/{ad_id:path}", response_class=HTMLResponse, include_in_schema=False)
def ad_page(request: Request, source: str, ad_id: str) -> HTMLResponse:
    """One ad with its entities and indicators highlighted."""
    try:
        v = views.ad_view(_store(request), source, ad_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    return _page(request, "ad.html", {"v": v, "marked": _highlighted(v)})


@router.get(
    "/api/ads/{source}/{ad_id:path}", summary="One ad: fields, entities, indicators, score."
)
def api_ad(request: Request, source: str, ad_id: str) -> Any:
    try:
        return views.ad_view(_store(request), source, ad_id)
    except views.NotFound as exc:
        return _json_404(str(exc))


# -- identifier --------------------------------------------------------------------


@router.get(
    "/identifiers/{kind}/{value:path}", response_class=HTMLResponse, include_in_schema=False
)
def identifier_page(request: Request, kind: str, value: str) -> HTMLResponse:
    """A phone, e-mail or handle: its ads, names, cities, timeline, generic or not."""
    try:
        v = views.identifier_view(_store(request), kind, value)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    chart = timeline_svg(((t["day"], t["ads"]) for t in v["timeline"]), label="")
    return _page(request, "identifier.html", {"v": v, "chart": chart})


@router.get(
    "/api/identifiers/{kind}/{value:path}",
    summary="A phone, e-mail or handle: ads, names, cities, timeline, generic or not.",
)
def api_identifier(request: Request, kind: str, value: str) -> Any:
    try:
        return views.identifier_view(_store(request), kind, value)
    except views.NotFound as exc:
        return _json_404(str(exc))


# -- network -----------------------------------------------------------------------


@router.get("/networks/{network_id}", response_class=HTMLResponse, include_in_schema=False)
def network_page(request: Request, network_id: str) -> HTMLResponse:
    """A network: graph, summary, timeline, cities, templates, assessment, exports."""
    try:
        v = _network_view(request, network_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    chart = timeline_svg((t["day"], t["ads"]) for t in v["timeline"])
    return _page(request, "network.html", {"v": v, "chart": chart})


@router.get(
    "/api/networks/{network_id}/graph",
    summary="A network's graph (Cytoscape.js elements with the evidence of each link).",
)
def api_network_graph(request: Request, network_id: str) -> Any:
    try:
        return _network_view(request, network_id)["graph"]
    except views.NotFound as exc:
        return _json_404(str(exc))


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading quote
    (E.164 phone numbers and dates stay as they are)."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(" ", "").isdigit()
    ):
        return "'" + text
    return text


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...], filename: str) -> Response:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/networks/{network_id}/ads.csv", include_in_schema=False)
def network_ads_csv(request: Request, network_id: str) -> Response:
    """The network's ads as CSV (with raw_sha256 and ingested_at)."""
    try:
        x = _network_export(request, network_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    return _csv(x["ads"], views.ADS_COLUMNS, f"{network_id}-ads.csv")


@router.get("/networks/{network_id}/links.csv", include_in_schema=False)
def network_links_csv(request: Request, network_id: str) -> Response:
    """The network's links (ad-identifier, ad-template) with their evidence as CSV."""
    try:
        x = _network_export(request, network_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    return _csv(x["links"], views.LINKS_COLUMNS, f"{network_id}-links.csv")


@router.get("/networks/{network_id}/export.json", include_in_schema=False)
def network_json(request: Request, network_id: str) -> Response:
    """The network's summary, assessment, templates, ads and links as one JSON file."""
    try:
        x = _network_export(request, network_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    return Response(
        json.dumps(x, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{network_id}.json"'},
    )


@router.get("/networks/{network_id}/report", response_class=HTMLResponse, include_in_schema=False)
def network_report(request: Request, network_id: str) -> HTMLResponse:
    """A printable evidence report: summary, assessment, links and every ad's
    raw_sha256 and ingest time."""
    try:
        x = _network_export(request, network_id)
    except views.NotFound as exc:
        return not_found_page(request, str(exc))
    made = datetime.now(UTC).isoformat(timespec="seconds")
    return _page(request, "report.html", {"x": x, "made": made})


# -- malformed addresses -------------------------------------------------------------


@router.get("/ads/{rest:path}", response_class=HTMLResponse, include_in_schema=False)
def ad_malformed(request: Request, rest: str) -> HTMLResponse:
    return not_found_page(request, "An ad address is /ads/SOURCE/AD_ID.")


@router.get("/identifiers/{rest:path}", response_class=HTMLResponse, include_in_schema=False)
def identifier_malformed(request: Request, rest: str) -> HTMLResponse:
    return not_found_page(request, "An identifier address is /identifiers/KIND/VALUE.")


@router.get("/networks/{rest:path}", response_class=HTMLResponse, include_in_schema=False)
def network_malformed(request: Request, rest: str) -> HTMLResponse:
    return not_found_page(request, "A network address is /networks/NETWORK_ID.")
