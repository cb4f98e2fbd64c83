"""Web addresses written in the ad text (not the ad's own ``url`` field)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext
from adsentry.model import Entity

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]+")
_TRAILING = ".,;:!?)]}>'\""


def normalize_url(written: str) -> str:
    """Canonical form: scheme added when missing, scheme and host lower-case, no
    trailing slash on an empty path, fragment dropped (RFC 3986 section 6.2.2)."""
    candidate = written if "://" in written else "http://" + written
    parts = urlsplit(candidate)
    path = parts.path if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


@register("url")
def extract_urls(ctx: ExtractionContext) -> list[Entity]:
    """URLs starting with ``http(s)://`` or ``www.`` in title, body and location."""
    out: list[Entity] = []
    for field in ctx.fields:
        if field == "url":
            continue
        text = ctx.text(field)
        if "http" not in text and "www" not in text and "WWW" not in text and "HTTP" not in text:
            continue
        for m in _URL.finditer(text):
            written = m.group().rstrip(_TRAILING)
            if len(written) < 8:
                continue
            start = m.start()
            try:
                value = normalize_url(written)
            except ValueError:
                continue
            out.append(
                Entity("url", value, field, start, start + len(written), written, False, "url")
            )
    return out
