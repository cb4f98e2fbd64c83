"""Extractors: one module per entity kind, each a function over one normalized ad.

An extractor is a callable ``(ctx: ExtractionContext) -> list[Entity]`` registered by
name with :func:`register`. It reads the text fields only (``TEXT_FIELDS``: title,
body, url, location), never ``site_fields``, through ``ctx.view(field)`` (the
normalized view with its offset map, see :mod:`adsentry.text`) or ``ctx.text(field)``.
Every Entity it returns has a span into the original field:
``ad.<field>[start:end] == text``.

Speed: ads repeat (reposts under new ids, shared location lines), so each built-in
extractor keeps what it found in a field in a bounded
:class:`~adsentry.extract.context.FieldMemo` keyed by the field's text, one memo for
each field name and setting the result depends on (the default region, the ad's
phone regions); a field seen before costs a dict look-up, and its normalized view is
not even computed. Results are the same as computed afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from adsentry.extract.context import ExtractionContext, FieldMemo
from adsentry.model import TEXT_FIELDS, Ad, Entity

Extractor = Callable[[ExtractionContext], list[Entity]]

EXTRACTORS: dict[str, Extractor] = {}


def register(name: str) -> Callable[[Extractor], Extractor]:
    """Decorator: register an extractor under ``name`` (its entities' ``extractor``)."""

    def wrap(fn: Extractor) -> Extractor:
        EXTRACTORS[name] = fn
        _AD_MEMO.clear()  # whole ads seen before were extracted without it
        return fn

    return wrap


_LOADED: list[bool] = [False]


def _load_builtin() -> None:
    """Import every module of this package for its ``@register`` side effect (once;
    a module imported directly before registers itself alone, so emptiness of the
    registry says nothing)."""
    import importlib
    import pkgutil

    if _LOADED[0]:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "context" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _LOADED[0] = True


def extract_all(
    ad: Ad,
    *,
    region: str = "US",
    source_regions: Mapping[str, str] | None = None,
    names: Iterable[str] | None = None,
) -> list[Entity]:
    """Run the registered extractors (all, or those in ``names``) over one ad.

    ``region``: ISO 3166-1 alpha-2 fallback for phone numbers written without a
    country code; ``source_regions``: source name -> region, consulted before it (see
    :meth:`ExtractionContext.phone_region`). Returns entities sorted by field order,
    then start offset. Raises KeyError for an unknown extractor name.
    """
    _load_builtin()
    key = None
    if names is None:
        # A repost (the same texts under a new id) is answered from the ad memo.
        source_region = source_regions.get(ad.source, "") if source_regions else ""
        parts = (region, source_region, ad.title, ad.body, ad.location, ad.url)
        key = ",".join([str(len(p)) for p in parts]) + ";" + "".join(parts)  # unambiguous
        seen = _AD_MEMO.get(key)
        if seen is not None:
            return list(seen)
    ctx = ExtractionContext(ad, default_region=region, source_regions=source_regions)
    selected = EXTRACTORS.values() if names is None else [EXTRACTORS[name] for name in names]
    found: list[Entity] = []
    for extractor in selected:
        found.extend(extractor(ctx))
    if len(found) > 1:
        found = _drop_names_inside_others(found)
        order = _FIELD_ORDER if ctx.fields is TEXT_FIELDS else _field_order(ctx.fields)
        found.sort(key=lambda e: (order.get(e.field, 99), e.start, e.end, e.kind))
    if key is not None:
        _AD_MEMO.put(key, tuple(found))
    return found


#: Entities of whole ads seen before, keyed by the region settings and the four texts
#: (what extraction reads: see ExtractionContext). Reposts are common in scraped dumps
#: (616 of the 5,276 ads of the masked backpage-ca-2017 corpus are exact copies); a
#: repost then costs one look-up instead of one per extractor and field.
_AD_MEMO: FieldMemo[tuple[Entity, ...]] = FieldMemo()


#: Kinds whose span a working name cannot overlap: a "name" inside a spelled-out phone
#: ("tre fire" in "Seks Ni - Tre Fire"), an address, a handle or a place ("York" in
#: "New York") is a misreading.
_NOT_NAMES = frozenset({"phone", "email", "handle", "url", "location"})


def _drop_names_inside_others(found: list[Entity]) -> list[Entity]:
    """Drop name entities whose span overlaps a phone, e-mail, handle, URL or
    location span of the same field."""
    taken = [(e.field, e.start, e.end) for e in found if e.kind in _NOT_NAMES]
    if not taken:
        return found
    return [
        e
        for e in found
        if e.kind != "name"
        or not any(f == e.field and s < e.end and e.start < t for f, s, t in taken)
    ]


def _field_order(fields: Iterable[str]) -> dict[str, int]:
    return {f: i for i, f in enumerate(fields)}


_FIELD_ORDER = _field_order(TEXT_FIELDS)


__all__ = ["EXTRACTORS", "ExtractionContext", "Extractor", "extract_all", "register"]
