"""Linking ads: template micro-clusters of the text (:mod:`adsentry.link.templates`);
the identifier graph and network fusion come next to it."""

from adsentry.link.templates import (
    DEFAULT_PARAMS,
    Slot,
    Template,
    TemplateIndex,
    TemplateParams,
    band_keys,
    build_template,
    cluster,
    similarity,
)

__all__ = [
    "DEFAULT_PARAMS",
    "Slot",
    "Template",
    "TemplateIndex",
    "TemplateParams",
    "band_keys",
    "build_template",
    "cluster",
    "similarity",
]
