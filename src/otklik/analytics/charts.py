"""Server-side SVG charts: no script, no CDN, readable without colour.

Each chart is an <svg role="img"> with a <title> and a <desc> that says the figures in
words (the text alternative); the page shows the same numbers in a table next to it.
Labels are escaped; numbers are formatted by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28


def _num(value) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, (int, float, Decimal)) else None


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(
    *,
    title: str,
    points: Sequence[tuple[str, object]],
    compare: Sequence[tuple[str, object]] | None = None,
    unit: str = "",
    chart_id: str = "",
) -> SafeString:
    """A line over the period (gaps where there is no data), an optional dashed line for
    the previous period, y axis from 0 (or the minimum if negative, e.g. NPS)."""
    values = [_num(v) for _label, v in points]
    others = [_num(v) for _label, v in (compare or [])]
    known = [v for v in values + others if v is not None]
    top = max([*known, 0.0]) or 1.0
    bottom = min([*known, 0.0])
    span = (top - bottom) or 1.0
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = max(len(points), 1)

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return PAD_TOP + inner_h * (1 - (v - bottom) / span)

    def path(series: list[float | None]) -> str:
        parts, pen = [], "M"
        for i, v in enumerate(series):
            if v is None:
                pen = "M"
                continue
            parts.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        return " ".join(parts)

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" id="{escape(chart_id)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(describe(points, unit))}</desc>',
    ]
    for tick in (bottom, bottom + span / 2, top):
        ty = y(tick)
        out.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}"/><text class="axis" x="{PAD_LEFT - 6}" y="{ty + 4:.1f}" '
            f'text-anchor="end">{escape(_fmt(tick))}</text>'
        )
    step = max(1, n // 8)
    for i, (label, _v) in enumerate(points):
        if i % step == 0:
            out.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if compare:
        out.append(f'<path class="line previous" d="{path(others)}"/>')
    out.append(f'<path class="line current" d="{path(values)}"/>')
    for i, v in enumerate(values):
        if v is not None:
            out.append(
                f'<circle class="dot" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3">'
                f"<title>{escape(points[i][0])}: {escape(_fmt(v))}{escape(unit)}</title></circle>"
            )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


def bar_chart(*, title: str, bars: Sequence[tuple[str, int]], chart_id: str = "") -> SafeString:
    """Horizontal bars (e.g. the backlog by age), the value written at the end of each."""
    n = max(len(bars), 1)
    row_h = 26
    height = n * row_h + 8
    top = max([v for _l, v in bars] + [1])
    inner_w = WIDTH - 140 - 60
    out = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" id="{escape(chart_id)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(describe(bars, ""))}</desc>',
    ]
    for i, (label, value) in enumerate(bars):
        y0 = 4 + i * row_h
        w = inner_w * value / top
        out.append(
            f'<text class="axis" x="132" y="{y0 + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="140" y="{y0 + 4}" width="{w:.1f}" height="{row_h - 8}"/>'
            f'<text class="value" x="{140 + w + 6:.1f}" y="{y0 + 17}">{value}</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


def describe(points: Sequence[tuple[str, object]], unit: str) -> str:
    """The text alternative: every point in words, "no data" where there is none."""
    parts = []
    for label, value in points:
        v = _num(value)
        parts.append(f"{label}: {_fmt(v)}{unit}" if v is not None else f"{label}: —")
    return "; ".join(parts)
