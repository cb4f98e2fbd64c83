"""What a search box query means: one identifier (a phone in any written form, an
e-mail address, a ``platform:handle``) or a full-text query."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
HANDLE_PLATFORMS: tuple[str, ...] = (
    "instagram", "snapchat", "twitter", "kik", "telegram", "whatsapp", "wechat", "line",
    "onlyfans", "tiktok",
)  # fmt: skip


def phone_query(query: str, region: str) -> str | None:
    """The E.164 number when ``query`` is one phone number in any written form (the
    whole query, allowing a few words like "call" around it), else None."""
    from adsentry.extract import extract_all
    from adsentry.model import Ad

    phones = extract_all(
        Ad(ad_id="query", source="query", body=query), region=region, names=["phone"]
    )
    if len(phones) != 1:
        return None
    p = phones[0]
    rest = (query[: p.start] + query[p.end :]).strip()
    if sum(ch.isalnum() for ch in rest) > 8:
        return None
    return str(p.value)


def identifier_query(query: str, region: str) -> tuple[str, str] | None:
    """``(kind, value)`` in store form when ``query`` is one phone (any written form),
    one e-mail address or one ``platform:handle``; None for a full-text query."""
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
    return None
