"""Server-rendered SVG charts (no JavaScript): the timeline of postings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from markupsafe import Markup, escape


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def timeline_svg(
    days: Iterable[tuple[str, int]], *, width: int = 640, height: int = 120, label: str = ""
) -> Markup:
    """A bar chart of postings over time from ``(YYYY-MM-DD..., ads)`` pairs: one bar
    per day, or per week when the range is longer than 120 days. Each bar has a
    ``<title>`` (hover text and screen readers); the chart has ``role="img"`` and an
    ``aria-label`` summing it up. Empty input: a short note instead of a chart."""
    counts: Counter[date] = Counter()
    for text, n in days:
        d = _day(text)
        if d is not None:
            counts[d] += n
    if not counts:
        return Markup('<p class="note">No dated postings.</p>')
    first, last = min(counts), max(counts)
    weekly = (last - first).days > 120
    if weekly:
        binned: Counter[date] = Counter()
        for d, n in counts.items():
            binned[d - timedelta(days=d.weekday())] += n
        counts = binned
        first = first - timedelta(days=first.weekday())
        step = 7
    else:
        step = 1
    n_bins = (last - first).days // step + 1
    top = max(counts.values())
    pad, axis = 4, 18
    bar_w = max(1.0, (width - 2 * pad) / n_bins)
    total = sum(counts.values())
    unit = "week" if weekly else "day"
    summary = (
        f"{label}{total} postings from {first.isoformat()} to {last.isoformat()}, "
        f"busiest {unit} {top}"
    )
    parts = [
        f'<svg class="timeline" role="img" aria-label="{escape(summary)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    usable = height - axis - pad
    for i in range(n_bins):
        d = first + timedelta(days=i * step)
        n = counts.get(d, 0)
        if not n:
            continue
        h = max(1.0, usable * n / top)
        x = pad + i * bar_w
        y = pad + usable - h
        what = f"week of {d.isoformat()}" if weekly else d.isoformat()
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
            f'height="{h:.1f}"><title>{escape(what)}: {n} ads</title></rect>'
        )
    parts.append(
        f'<text x="{pad}" y="{height - 4}" class="axis">{escape(first.isoformat())}</text>'
        f'<text x="{width - pad}" y="{height - 4}" class="axis" text-anchor="end">'
        f"{escape(last.isoformat())}</text></svg>"
    )
    return Markup("".join(parts))
