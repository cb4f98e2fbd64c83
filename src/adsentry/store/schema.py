"""Tables of the case database (SQLAlchemy Core), shared by every backend.

- ``ads``: every version of every ad; key ``(source, ad_id, version)``; ``is_current``
  marks the latest version. ``raw_sha256`` is the hash of the record as read (chain of
  custody) and ``ingested_at`` the UTC time it was stored.
- ``entities``: what the extractors found, one row per mention, pointing at
  ``ads.pk`` (a star: ad to identifier, never pairs of ads).
- ``quarantine``: records that could not be read, with file, line and reason; unique
  on ``(file, line, raw_sha256)`` so that a re-run adds nothing twice.
- ``meta``: schema version and other key/value facts.
- ``indicators``: the risk cues the indicator stage found, one row per evidence span,
  pointing at ``ads.pk`` (``source`` is the study or the reason the cue is folk, as
  claimed when the ad was analyzed).
- ``assessments``: the score of each current ad (``subject`` ``"ad"``, ``subject_id``
  the ad's pk as text) and each network (``"network"``, the network id), with the
  decision and the contributions (JSON list) that add up to it; replaced as a whole
  after each relink (:func:`adsentry.score.rescore`).
- ``ad_templates``, ``network_members``, ``generic_identifiers``: what linking found
  (:func:`adsentry.link.networks.relink` replaces them as a whole). Evidence
  stays a star: ad to template (``similarity`` of the ad to its template's anchor), ad
  to network; identifier evidence is the ``entities`` rows minus the generic values.
  Updated in place for the ads a new run touches (incremental linking,
  :mod:`adsentry.link.incremental`).
- ``ad_bands``: the LSH band keys of each linked ad's masked text (one row per ad,
  ``band_keys`` NULL for a text too short to link), so that a later run finds the stored
  ads a new ad's template links to without recomputing MinHash, and its template
  component (``component``: the smallest ad key of its connected component of template
  links before the cut into micro-clusters; NULL when it links to no other text); a
  linked ad that is no longer current keeps its row until the next run withdraws its
  links.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = "1"

metadata = MetaData()

ads = Table(
    "ads",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("source", String, nullable=False),
    Column("ad_id", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("posted_at", String),  # ISO 8601 UTC, e.g. 2017-03-04T21:15:00+00:00
    Column("images", Text, nullable=False),  # JSON list
    Column("site_fields", Text, nullable=False),  # JSON object
    Column("raw_sha256", String(64), nullable=False),
    Column("ingested_at", String, nullable=False),  # ISO 8601 UTC
    UniqueConstraint("source", "ad_id", "version", name="uq_ads_key_version"),
)
Index("ix_ads_key", ads.c.ad_id, ads.c.source)
Index("ix_ads_current_posted", ads.c.is_current, ads.c.posted_at)

entities = Table(
    "entities",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String, nullable=False),
    Column("value", Text, nullable=False),
    Column("field", String, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("obfuscated", Boolean, nullable=False),
    Column("extractor", String, nullable=False),
)
# covering for "which ads carry this identifier" (the screening hot path)
Index("ix_entities_kind_value_ad", entities.c.kind, entities.c.value, entities.c.ad_pk)
Index("ix_entities_ad", entities.c.ad_pk)

quarantine = Table(
    "quarantine",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("reason", String, nullable=False),
    Column("detail", Text, nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("raw", Text, nullable=False),
    Column("recorded_at", String, nullable=False),
    UniqueConstraint("file", "line", "raw_sha256", name="uq_quarantine_where"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

ad_templates = Table(
    "ad_templates",
    metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("template_id", String, nullable=False),
    Column("similarity", Float, nullable=False),
)
Index("ix_ad_templates_template", ad_templates.c.template_id)

network_members = Table(
    "network_members",
    metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("network_id", String, nullable=False),
)
Index("ix_network_members_network", network_members.c.network_id)

ad_bands = Table(
    "ad_bands",
    metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("band_keys", LargeBinary),  # bands x 8 bytes, big-endian uint64; NULL: too short
    Column("component", Text),  # template component (smallest ad key); NULL: no link
)
Index("ix_ad_bands_component", ad_bands.c.component)

generic_identifiers = Table(
    "generic_identifiers",
    metadata,
    Column("kind", String, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("ads", Integer, nullable=False),
)

indicators = Table(
    "indicators",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("code", String, nullable=False),
    Column("validated", Boolean, nullable=False),
    Column("source", Text, nullable=False),
    Column("language", String, nullable=False),
    Column("field", String, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
)
Index("ix_indicators_ad", indicators.c.ad_pk)
Index("ix_indicators_code", indicators.c.code)

assessments = Table(
    "assessments",
    metadata,
    Column("subject", String, primary_key=True),
    Column("subject_id", String, primary_key=True),
    Column("score", Float, nullable=False),
    Column("decision", String, nullable=False),
    Column("contributions", Text, nullable=False),  # JSON list
)
Index("ix_assessments_score", assessments.c.subject, assessments.c.score)
# covers the counts by decision (Store.assessment_counts) without reading the JSON
Index("ix_assessments_decision", assessments.c.subject, assessments.c.decision)

#: Entity kinds whose value is not a plain string and is stored as JSON text.
JSON_VALUE_KINDS = frozenset({"age", "price"})


def value_to_text(kind: str, value: Any) -> str:
    """Store form of an entity value: strings as they are, other values as JSON."""
    if kind in JSON_VALUE_KINDS or not isinstance(value, str):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def value_from_text(kind: str, text: str) -> Any:
    """Inverse of :func:`value_to_text`."""
    if kind in JSON_VALUE_KINDS:
        return json.loads(text)
    return text
