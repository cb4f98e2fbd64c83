"""The words of the architecture page as typed records.

Offsets are always character offsets (Python string indices) into one field of an
ad; ``ad.<field>[start:end] == text`` holds for every Span and Entity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: The text fields that per-ad stages read, in the order they are scanned.
#: ``site_fields`` is never read by extractors.
TEXT_FIELDS: tuple[str, ...] = ("title", "body", "url", "location")


@dataclass(slots=True)
class Ad:
    """One posting.

    ``ad_id`` is stable and unique within ``source``. ``posted_at`` is UTC (or None
    when the record gave no readable date). ``raw_sha256`` is the SHA-256 of the
    record as read (the JSON line's bytes, or the canonical JSON of a CSV row), kept
    for chain of custody. ``field_names`` maps a canonical text field (``body``) to
    the key it came from in the input record (``text``, ``description``) so that
    offsets can be reported against the input record.
    """

    ad_id: str
    source: str
    title: str = ""
    body: str = ""
    url: str = ""
    location: str = ""
    posted_at: datetime | None = None
    images: list[str] = field(default_factory=list)
    site_fields: dict[str, Any] = field(default_factory=dict)
    raw_sha256: str = ""
    field_names: dict[str, str] = field(default_factory=dict)

    def text_of(self, name: str) -> str:
        """Return the text of field ``name`` (one of TEXT_FIELDS); KeyError otherwise."""
        if name not in TEXT_FIELDS:
            raise KeyError(f"not a text field: {name!r}")
        value: str = getattr(self, name)
        return value

    def input_field(self, name: str) -> str:
        """The key of canonical field ``name`` in the input record (``body`` -> ``text``)."""
        return self.field_names.get(name, name)

    def __reduce__(self) -> tuple[type[Ad], tuple[Any, ...]]:
        # Pickled as the constructor's arguments: the process pools send every Ad and
        # what was found in it, and a slotted dataclass's own __setstate__ walks
        # dataclasses.fields() for every object (unpickling the per-ad results of
        # analyze took 34 µs an ad against 16.5 this way, backpage-ca-2017 masked).
        return (
            Ad,
            (
                self.ad_id, self.source, self.title, self.body, self.url, self.location,
                self.posted_at, self.images, self.site_fields, self.raw_sha256,
                self.field_names,
            ),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Span:
    """``(field, start, end)`` and the original text it covers."""

    field: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "start": self.start, "end": self.end, "text": self.text}

    def __reduce__(self) -> tuple[type[Span], tuple[Any, ...]]:
        return (Span, (self.field, self.start, self.end, self.text))  # see Ad.__reduce__


@dataclass(frozen=True, slots=True)
class Entity:
    """Something extracted from one field of an ad.

    ``kind``: phone, email, url, handle, age, price, name, location, ...
    ``value``: the normalized value: E.164 string for phones, lower-case e-mail,
    ``platform:handle``, an int (years) for ages, a dict ``{"amount", "currency",
    "minutes"}`` for prices, a string otherwise.
    ``obfuscated``: True when plain digit-stripping or a plain pattern would miss it.
    ``extractor``: the name of the extractor that found it.
    """

    kind: str
    value: Any
    field: str
    start: int
    end: int
    text: str
    obfuscated: bool = False
    extractor: str = ""

    @property
    def span(self) -> Span:
        return Span(self.field, self.start, self.end, self.text)

    def to_dict(self, field_name: str | None = None) -> dict[str, Any]:
        """JSON-ready form, as ``adsentry extract`` prints it.

        ``field_name`` overrides the field (to name the input record's own key).
        """
        return {
            "kind": self.kind,
            "value": self.value,
            "field": field_name or self.field,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "obfuscated": self.obfuscated,
            "extractor": self.extractor,
        }

    def __reduce__(self) -> tuple[type[Entity], tuple[Any, ...]]:
        return (
            Entity,
            (
                self.kind, self.value, self.field, self.start, self.end, self.text,
                self.obfuscated, self.extractor,
            ),
        )  # fmt: skip  # see Ad.__reduce__


@dataclass(frozen=True, slots=True)
class Indicator:
    """A risk cue found in one ad, with its evidence.

    ``code``: stable code (``youth_language``, ``obscured_contact``, ...; the validated
    codes are those of ../docs/indicators.md, from the JRSA/NIJ outcome study).
    ``validated``: True only for cues an outcome study found predictive; ``source``
    names that study, or says why the cue is folk wisdom. ``spans``: the evidence, as
    Spans into the ad's fields (offsets into the original text). ``language``: the
    lexicon that matched (``en``, ``es``, ``da``; ``""`` when the cue is not lexical,
    e.g. ``obscured_contact`` from an obfuscated entity).
    """

    code: str
    validated: bool
    source: str
    spans: tuple[Span, ...]
    language: str = ""

    def to_dict(self, field_names: dict[str, str] | None = None) -> dict[str, Any]:
        """JSON-ready form: ``{"code", "validated", "source", "language", "spans"}``.

        ``field_names`` maps a canonical field to the input record's own key.
        """
        names = field_names or {}
        return {
            "code": self.code,
            "validated": self.validated,
            "source": self.source,
            "language": self.language,
            "spans": [{**s.to_dict(), "field": names.get(s.field, s.field)} for s in self.spans],
        }

    def __reduce__(self) -> tuple[type[Indicator], tuple[Any, ...]]:
        args = (self.code, self.validated, self.source, self.spans, self.language)
        return (Indicator, args)  # see Ad.__reduce__
