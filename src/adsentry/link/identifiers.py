"""Identifier links: ads that carry the same phone, e-mail or handle, minus generic ones.

The identifier half of linking (the text half is :mod:`adsentry.link.templates`).
Evidence is a star: each ad points at the identifiers it carries (the ``entities``
table); pairs of ads are derived only when shown.

A *generic identifier* is a value that many unrelated posters write, so that linking on
it would fuse unrelated ads into one giant network: placeholders, numbers of booking
services or directories, a site's own contact. Freeman et al. (2025) show that such
values must be filtered before the identifier graph is built. The rules here are
deliberately conservative: one phone with many working names in one region is the
typical trafficking signal and must stay a link.

Rules (each gives the ``reason`` stored with the value):

``placeholder``
    phones whose national number is one repeated digit (``+10000000000``,
    ``+15555555555``) or a run of consecutive digits (``123-456-7890`` =
    ``+11234567890``, ``987-654-3210``); e-mails whose local part is ``test``,
    ``example``, ``noreply``/``no-reply`` or ``donotreply``; handles whose name is
    ``test``, ``example``, ``username``, ``user``, ``none`` or ``null``. The 555-01xx
    numbers and ``userNNNN@example.com`` addresses of anonymized corpora are *not*
    placeholders (each stands for one real, distinct value), so the domain alone never
    makes an address generic.
``spread``
    the ads carrying the value name at least :attr:`GenericParams.min_places` (10)
    distinct places over at least :attr:`GenericParams.min_states` (10) distinct US
    states or countries (the issue's "10 or more states or metro areas"; the gazetteer
    has no metro areas, so states). A group touring a few states keeps its links: on
    the demo corpus a bar of 3 states flagged seven phones of organised groups. A
    place of an ad is the normalized value of its ``location`` entities that has a
    state or country ("Los Angeles, CA"); an ad without one uses the
    cities, counties and states that :func:`adsentry.gazetteer.resolve` finds in the
    comma-separated parts of its ``location`` field.
``share``
    the value is carried by more than :attr:`GenericParams.max_share` (10 %) of all
    current ads *and* by at least :attr:`GenericParams.min_share_ads` (500) ads. Set
    high on purpose: in a 5,000-ad demo corpus each organised group's phones carry
    2-7 % of all ads, and a lower share would hide exactly the networks investigators
    look for (the issue: "be conservative").

Shapes: :func:`find_generic` ``(carriers, places_of, n_ads) -> {(kind, value):
GenericIdentifier}``; :func:`placeholder_reason` ``(kind, value) -> str | None``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

#: Entity kinds that link ads.
IDENTIFIER_KINDS: tuple[str, ...] = ("phone", "email", "handle")

IdKey = tuple[str, str]  # (kind, normalized value)


@dataclass(frozen=True, slots=True)
class GenericParams:
    """Thresholds of the generic-identifier rules (see the module docstring)."""

    min_places: int = 10
    min_states: int = 10
    max_share: float = 0.10
    min_share_ads: int = 500


DEFAULT_GENERIC = GenericParams()


@dataclass(frozen=True, slots=True)
class GenericIdentifier:
    """An identifier kept out of the links: ``reason`` is ``placeholder``, ``spread``
    or ``share`` with its figures, e.g. ``"spread: 12 places in 4 states"``;
    ``ads``: how many current ads carry it."""

    kind: str
    value: str
    reason: str
    ads: int


_ASCENDING = "0123456789012345678901"
_DESCENDING = "9876543210987654321098"
_PLACEHOLDER_LOCAL = frozenset({"test", "example", "noreply", "no-reply", "donotreply"})
_PLACEHOLDER_HANDLES = frozenset({"test", "example", "username", "user", "none", "null"})


def _national_digits(e164: str) -> str:
    digits = re.sub(r"\D", "", e164)
    if e164.startswith("+1") and len(digits) == 11:
        return digits[1:]
    try:
        import phonenumbers

        return str(phonenumbers.parse(e164).national_number)
    except Exception:  # not a parseable number: judge all its digits
        return digits


def placeholder_reason(kind: str, value: str) -> str | None:
    """``"placeholder: ..."`` when ``value`` of ``kind`` is a made-up filler, else None."""
    if kind == "phone":
        nat = _national_digits(value)
        if len(nat) >= 7 and len(set(nat)) == 1:
            return "placeholder: one repeated digit"
        if len(nat) >= 7 and (nat in _ASCENDING or nat in _DESCENDING):
            return "placeholder: consecutive digits"
        return None
    if kind == "email":
        local = value.lower().partition("@")[0]
        if local in _PLACEHOLDER_LOCAL:
            return f"placeholder: {local}@ address"
        return None
    if kind == "handle":
        name = value.rsplit(":", 1)[-1].lower()
        if name in _PLACEHOLDER_HANDLES:
            return "placeholder: generic handle name"
    return None


@lru_cache(maxsize=65536)
def _field_places(location: str) -> tuple[str, ...]:
    from adsentry.gazetteer import resolve

    found = []
    for part in location.split(","):
        part = part.strip()
        if not part:
            continue
        place = resolve(part)
        if place is not None and place.kind in ("city", "county", "state"):
            found.append(place.normalized)
    return tuple(found)


def ad_places(location_values: Iterable[str], location_field: str) -> frozenset[str]:
    """The places of one ad for the ``spread`` rule: its location entity values that
    name a state or country ("Los Angeles, CA"), else the places of its location field."""
    vals = frozenset(v for v in location_values if ", " in v)
    if vals or not location_field.strip():
        return vals
    return frozenset(_field_places(location_field.strip()))


def needs_places(
    carriers: Mapping[IdKey, Collection[int]], params: GenericParams = DEFAULT_GENERIC
) -> set[int]:
    """The ad pks whose places :func:`find_generic` may read: the carriers of the
    identifiers with at least ``min_places`` carriers that are not placeholders (only
    the ``spread`` rule reads places, and only for those)."""
    return {
        pk
        for key, pks in carriers.items()
        if len(pks) >= params.min_places and placeholder_reason(*key) is None
        for pk in pks
    }


def _state(place: str) -> str:
    """ "Los Angeles, CA" -> "CA"; "Melbourne, Australia" -> "Australia"; a state alone
    ("California") -> itself."""
    return place.rsplit(", ", 1)[-1]


def find_generic(
    carriers: Mapping[IdKey, Iterable[int]],
    places_of: Mapping[int, frozenset[str]],
    n_ads: int,
    params: GenericParams = DEFAULT_GENERIC,
) -> dict[IdKey, GenericIdentifier]:
    """The generic identifiers among ``carriers`` (``(kind, value) -> ad pks``), with
    ``places_of`` (``ad pk -> places``, :func:`ad_places`) and ``n_ads`` (all current
    ads, for the ``share`` rule). Rules are tried in the order placeholder, share,
    spread; the first that applies names the reason."""
    out: dict[IdKey, GenericIdentifier] = {}
    for (kind, value), pks in carriers.items():
        ads = set(pks)
        reason = placeholder_reason(kind, value)
        if reason is None and len(ads) >= params.min_share_ads and n_ads > 0:
            share = len(ads) / n_ads
            if share > params.max_share:
                reason = f"share: {len(ads)} ads, {share:.1%} of all ads"
        if reason is None and len(ads) >= params.min_places:
            places: set[str] = set()
            for pk in ads:
                places |= places_of.get(pk, frozenset())
            states = {_state(p) for p in places}
            if len(places) >= params.min_places and len(states) >= params.min_states:
                reason = f"spread: {len(places)} places in {len(states)} states or countries"
        if reason is not None:
            out[(kind, value)] = GenericIdentifier(kind, value, reason, len(ads))
    return out
