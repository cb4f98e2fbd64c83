"""What a search box query means: one identifier (a phone in any written form, an
e-mail address, a ``platform:handle``) or a full-text query."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
HANDLE_PLATFORMS: tuple[str, ...] = (
    "instagram", "snapchat", "twitter", "kik", "telegram", "whatsapp", "wechat", "line",
    "onlyfans", "tiktok",
)  # fmt: skip


def _one_entity(query: str, kind: str, region: str) -> str | None:
    """The value of the one entity of ``kind`` the extractor finds in ``query`` when
    the query is that entity (a few words like "call" or "IG:" around it allowed),
    else None."""
    from adsentry.extract import extract_all
    from adsentry.model import Ad

    found = extract_all(Ad(ad_id="query", source="query", body=query), region=region, names=[kind])
    if len({str(e.value) for e in found}) != 1:
        return None
    rest = query
    for e in sorted(found, key=lambda e: -e.start):
        rest = rest[: e.start] + rest[e.end :]
    if sum(ch.isalnum() for ch in rest) > 8:
        return None
    return str(found[0].value)


def phone_query(query: str, region: str) -> str | None:
    """The E.164 number when ``query`` is one phone number in any written form (the
    whole query, allowing a few words like "call" around it), else None."""
    return _one_entity(query, "phone", region)


def identifier_query(query: str, region: str) -> tuple[str, str] | None:
    """``(kind, value)`` in store form when ``query`` is one phone, e-mail address or
    handle, written any way the extractors read them ("(619) 555-0142", "six1nine...",
    "name at gmail dot com", "IG: name", ``instagram:name``); None for a full-text
    query."""
    query = query.strip()
    if not query:
        return None
    e164 = phone_query(query, region)
    if e164 is not None:
        return "phone", e164
    if _EMAIL.fullmatch(query):
        return "email", query.lower()
    platform, sep, handle = query.partition(":")
    if sep and platform.lower() in HANDLE_PLATFORMS and handle.strip().lstrip("@"):
        return "handle", f"{platform.lower()}:{handle.strip().lstrip('@')}"
    for kind in ("email", "handle"):
        value = _one_entity(query, kind, region)
        if value is not None:
            return kind, value
    return None
