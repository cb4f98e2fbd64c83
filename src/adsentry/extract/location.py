"""Locations named in an ad's title and body, through :mod:`adsentry.gazetteer`.

What counts (the labelling rules of ``shared/data/gold/README.md``, names-locations):
cities, neighbourhoods, landmark areas, counties, regions and states where the person
is, works or travels to ("PT LOMA", "Inland Empire", "SD", "OC", "Marina District",
"near LAX", "downtown Los Angeles"). Left out: street names ("Santa Monica Blvd"),
intersections, freeways and ZIP codes (not in the gazetteer or dropped as streets), the
state or country that qualifies a city ("West Hollywood,CA 90046" gives West
Hollywood), places of origin ("from Costa Rica"), ethnicities ("Korean" is no place
name), and site boilerplate ("... - Melbourne escorts - backpage.com" at the end of a
title). The separate ``location`` field and the URL are not read: they are the site's,
not the poster's.

Each Entity: ``value`` is the normalized place ("OC" -> "Orange County, CA", "Los
Angeles" -> "Los Angeles, CA"), ``text`` the name as written, case kept, without a
possessive ("Irvine's" gives "Irvine"); ``ad.<field>[start:end] == text``. Every
mention is returned (a name written twice gives two entities). The scan runs on the
normalized view of the field (so that look-alike letters read as letters) and maps the
spans back to the original.
"""

from __future__ import annotations

import re

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, scoped
from adsentry.gazetteer import find_mentions
from adsentry.model import Entity
from adsentry.text import NormalizedText

_FIELDS = ("title", "body")

# Site boilerplate at the end of a title: " - Melbourne escorts - backpage.com".
_SITE_TAIL = re.compile(r"\s+-\s*backp[\w.]*\s*$", re.IGNORECASE)
_CATEGORY = re.compile(
    r"\b(?:escorts?|escort\w*|eskort\w*|body ?rubs|anuncios|clasificados|strippers?)\b",
    re.IGNORECASE,
)
_CATEGORY_TAIL = re.compile(
    r"\s+-\s+[^\n]{0,40}?\b(?:escorts?|eskortlar|body rubs|anuncios clasificados)\s*$",
    re.IGNORECASE,
)


def boilerplate_start(title: str) -> int:
    """Where the site's own tail of a title begins ("- Melbourne escorts - backpage"),
    or ``len(title)`` when there is none."""
    cut = len(title)
    low = title.lower()
    if " -" not in title or not (
        "backp" in low or "escort" in low or "eskort" in low or "rubs" in low or "anuncios" in low
    ):
        return cut
    m = _SITE_TAIL.search(title)
    if m is not None:
        cut = m.start()
        k = title.rfind(" - ", 0, cut)
        if k >= 0 and _CATEGORY.search(title, k, cut):
            cut = k
        return cut
    m = _CATEGORY_TAIL.search(title)
    return m.start() if m is not None else cut


@register("location")
def extract_locations(ctx: ExtractionContext) -> list[Entity]:
    """Places in the title and body where the person is, works or travels to."""
    out: list[Entity] = []
    region = ctx.default_region
    for field in _FIELDS:
        original = ctx.text(field)
        if not original:
            continue
        memo = scoped(_MEMOS, (field, region))
        found = memo.get(original)
        if found is None:
            found = memo.put(original, tuple(_scan(field, ctx.view(field), region)))
        out.extend(found)
    return out


# (field, default region) -> text -> places
_MEMOS: dict[tuple[str, str], FieldMemo[tuple[Entity, ...]]] = {}


def _scan(field: str, nt: NormalizedText, region: str) -> list[Entity]:
    """The places of one field's view, as entities with original spans."""
    view = nt.text
    if field == "title":
        view = view[: boilerplate_start(view)]
    out: list[Entity] = []
    for m in find_mentions(view, region):
        if m.role != "place":
            continue
        start, end = nt.to_original(m.start, m.end)
        written = nt.original[start:end]
        out.append(
            Entity("location", m.place.normalized, field, start, end, written, False, "location")
        )
    return out
