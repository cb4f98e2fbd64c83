"""Highlights as real markup: ``<mark class="KIND" title="...">original text</mark>``.

Every entity and indicator span of a field becomes a ``<mark>`` around the original
characters (the text itself is escaped, so ad text can never become markup). Spans
may overlap; the rules keep the markup well nested and the text unchanged:

- spans with the same ``(start, end)`` become one ``<mark>`` whose ``class`` lists
  every kind and whose ``title`` names every annotation;
- a span inside another is nested in it;
- a span that crosses the end of an open one is split there: the first part nests in
  the open span, the rest follows it with ``data-continued="true"``.

Spans whose offsets do not fit the text (or whose recorded text differs from what
the offsets cover) are left out rather than drawn in the wrong place.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Annotation:
    """One span to highlight in a field: ``[start, end)``, its CSS classes and the
    hover text (``title``)."""

    start: int
    end: int
    classes: tuple[str, ...]
    title: str
    text: str | None = None


def highlight(text: str, annotations: Iterable[Annotation]) -> Markup:
    """``text`` escaped, with each annotation wrapped in a ``<mark>`` (see the module
    docstring for overlaps)."""
    merged: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
    for ann in annotations:
        if not 0 <= ann.start < ann.end <= len(text):
            continue
        if ann.text is not None and text[ann.start : ann.end] != ann.text:
            continue
        classes, titles = merged.setdefault((ann.start, ann.end), ([], []))
        classes.extend(c for c in ann.classes if c not in classes)
        if ann.title not in titles:
            titles.append(ann.title)
    heap: list[tuple[int, int, int, bool]] = []
    labels: list[tuple[str, str]] = []
    for seq, ((start, end), (classes, titles)) in enumerate(sorted(merged.items())):
        labels.append((" ".join(classes), "; ".join(titles)))
        heap.append((start, -end, seq, False))
    heapq.heapify(heap)
    out: list[str] = []
    pos = 0
    stack: list[int] = []  # ends of the open marks; the innermost (smallest) last

    def close_until(limit: int) -> None:
        nonlocal pos
        while stack and stack[-1] <= limit:
            end = stack.pop()
            out.append(str(escape(text[pos:end])))
            out.append("</mark>")
            pos = end

    while heap:
        start, neg_end, seq, continued = heapq.heappop(heap)
        end = -neg_end
        close_until(start)
        if stack and end > stack[-1]:  # crosses the end of the open mark: split
            heapq.heappush(heap, (stack[-1], -end, seq, True))
            end = stack[-1]
        if start >= end:
            continue
        out.append(str(escape(text[pos:start])))
        pos = start
        cls, title = labels[seq]
        more = ' data-continued="true"' if continued else ""
        out.append(f'<mark class="{escape(cls)}" title="{escape(title)}"{more}>')
        stack.append(end)
    close_until(len(text))
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def entity_annotation(entity: dict[str, object]) -> Annotation:
    """The highlight of one stored entity (a dict as
    :meth:`adsentry.store.base.Store.entity_rows_of` gives it): class = its kind;
    title = kind, extractor and whether it was obfuscated."""
    kind = str(entity["kind"])
    title = f"{kind} (extractor: {entity['extractor']}"
    title += ", obfuscated)" if entity.get("obfuscated") else ")"
    return Annotation(
        int(entity["start"]),  # type: ignore[call-overload]
        int(entity["end"]),  # type: ignore[call-overload]
        (kind,),
        title,
        str(entity["text"]),
    )


def indicator_annotation(
    code: str, validated: bool, start: int, end: int, text: str | None = None
) -> Annotation:
    """The highlight of one indicator span: classes ``indicator`` and ``validated`` or
    ``folk``; title = the indicator code and whether it is validated or folk."""
    status = "validated" if validated else "folk"
    return Annotation(start, end, ("indicator", status), f"indicator {code} ({status})", text)
