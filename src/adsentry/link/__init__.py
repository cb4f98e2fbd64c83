"""Linking ads: template micro-clusters of the text (:mod:`adsentry.link.templates`),
identifier links with the generic-identifier filter (:mod:`adsentry.link.identifiers`),
and networks fused from both, with ``relink`` (:mod:`adsentry.link.networks`)."""

from adsentry.link.templates import (
    DEFAULT_PARAMS,
    Slot,
    Template,
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
    "TemplateParams",
    "band_keys",
    "build_template",
    "cluster",
    "similarity",
]
