"""E-mail addresses (RFC 5322 addr-spec, the common dot-atom subset), lower-cased."""

from __future__ import annotations

import re

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext
from adsentry.model import Entity

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)


@register("email")
def extract_emails(ctx: ExtractionContext) -> list[Entity]:
    """E-mail addresses written plainly in title, body and location (value lower-case)."""
    out: list[Entity] = []
    for field in ctx.fields:
        if field == "url":
            continue
        text = ctx.text(field)
        if "@" not in text:
            continue
        for m in _EMAIL.finditer(text):
            written = m.group()
            out.append(
                Entity("email", written.lower(), field, m.start(), m.end(), written, False, "email")
            )
    return out
