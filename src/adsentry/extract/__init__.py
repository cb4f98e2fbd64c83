"""Extractors: one module per entity kind, each a function over one normalized ad.

An extractor is a callable ``(ctx: ExtractionContext) -> list[Entity]`` registered by
name with :func:`register`. It reads the text fields only (``TEXT_FIELDS``: title,
body, url, location), never ``site_fields``, through ``ctx.view(field)`` (the
normalized view with its offset map, see :mod:`adsentry.text`) or ``ctx.text(field)``.
Every Entity it returns has a span into the original field:
``ad.<field>[start:end] == text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from adsentry.extract.context import ExtractionContext
from adsentry.model import Ad, Entity

Extractor = Callable[[ExtractionContext], list[Entity]]

EXTRACTORS: dict[str, Extractor] = {}


def register(name: str) -> Callable[[Extractor], Extractor]:
    """Decorator: register an extractor under ``name`` (its entities' ``extractor``)."""

    def wrap(fn: Extractor) -> Extractor:
        EXTRACTORS[name] = fn
        return fn

    return wrap


def _load_builtin() -> None:
    # Imported for their @register side effect.
    from adsentry.extract import email, phone, url  # noqa: F401


def extract_all(ad: Ad, *, region: str = "US", names: Iterable[str] | None = None) -> list[Entity]:
    """Run the registered extractors (all, or those in ``names``) over one ad.

    ``region``: ISO 3166-1 alpha-2 code used for phone numbers written without a
    country code. Returns entities sorted by field order, then start offset.
    Raises KeyError for an unknown extractor name.
    """
    if not EXTRACTORS:
        _load_builtin()
    ctx = ExtractionContext(ad, default_region=region)
    selected = list(EXTRACTORS) if names is None else list(names)
    found: list[Entity] = []
    for name in selected:
        found.extend(EXTRACTORS[name](ctx))
    order = {f: i for i, f in enumerate(ctx.fields)}
    found.sort(key=lambda e: (order.get(e.field, 99), e.start, e.end, e.kind))
    return found


__all__ = ["EXTRACTORS", "ExtractionContext", "Extractor", "extract_all", "register"]
