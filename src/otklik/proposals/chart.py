"""The before/after chart as inline SVG, drawn on the server: no script, no CDN."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from otklik.proposals.selectors import Volume

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 24, 36


def volume_svg(volume: Volume) -> SafeString:
    """Weekly bars (grey before, green after the implementation week) and each period's mean."""
    weeks = volume.weeks
    if not weeks:
        return mark_safe("")
    peak = max([w.count for w in weeks] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(weeks)
    bar_w = max(step * 0.7, 2)

    def y(value: float) -> float:
        return TOP + plot_h - value / peak * plot_h

    title = _("Cases per week on the topic")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="volume-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="11" text-anchor="end">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    for i, week in enumerate(weeks):
        x = LEFT + i * step + (step - bar_w) / 2
        top = y(week.count)
        period = "after" if week.after else "before"
        colour = "#2e7d32" if week.after else "#9e9e9e"
        label = f"{week.start:%d.%m}: {week.count}"
        parts.append(
            f'<rect class="bar bar-{period}" data-period="{period}" x="{x:.1f}" y="{top:.1f}" '
            f'width="{bar_w:.1f}" height="{TOP + plot_h - top:.1f}" fill="{colour}">'
            f"<title>{escape(label)}</title></rect>"
        )
        if i % max(1, len(weeks) // 8) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                f'text-anchor="middle">{week.start:%d.%m}</text>'
            )
    implemented = _("implemented")
    first_after = next((i for i, w in enumerate(weeks) if w.after), None)
    if first_after is not None:
        x = LEFT + first_after * step
        parts.append(
            f'<line class="split" x1="{x:.1f}" y1="{TOP - 10}" x2="{x:.1f}" y2="{TOP + plot_h}" '
            'stroke="#c62828" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x + 4:.1f}" y="{TOP - 12 + 10}" font-size="11" fill="#c62828">'
            f"{escape(implemented)}</text>"
        )
    for avg, period, colour in (
        (volume.before_avg, "before", "#616161"),
        (volume.after_avg, "after", "#1b5e20"),
    ):
        if avg is None:
            continue
        idx = [i for i, w in enumerate(weeks) if w.after == (period == "after")]
        x1, x2 = LEFT + idx[0] * step, LEFT + (idx[-1] + 1) * step
        parts.append(
            f'<line class="mean mean-{period}" x1="{x1:.1f}" y1="{y(avg):.1f}" x2="{x2:.1f}" '
            f'y2="{y(avg):.1f}" stroke="{colour}" stroke-width="2"/>'
        )
    legend = _("before: %(before)s a week · after: %(after)s a week") % {
        "before": "—" if volume.before_avg is None else volume.before_avg,
        "after": "—" if volume.after_avg is None else volume.after_avg,
    }
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 4}" font-size="11" class="legend">{escape(legend)}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only
