"""A small inline SVG bar chart of an uptime clause's daily availability, for the HTML statement.

Plain SVG markup built in Python (no script, no external reference), every text escaped, so the
statement stays one self-contained page that prints as it shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from html import escape

from monitor.statements.model import DayFigure

WIDTH, HEIGHT = 900, 230
LEFT, RIGHT, TOP, BOTTOM = 58, 110, 14, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 25)
MAX_TICKS = 5
OK_COLOUR, LOW_COLOUR, AXIS_COLOUR, TARGET_COLOUR = "#3f8f5a", "#c0392b", "#9aa3ad", "#1f2a36"


@dataclass(frozen=True)
class Scale:
    """The y axis: ``low`` percent at the bottom of the plot, 100% at the top, ticks every ``step``."""

    low: float
    step: float

    def y(self, percent: float) -> float:
        clamped = min(max(percent, self.low), 100.0)
        return TOP + (100.0 - clamped) / (100.0 - self.low) * PLOT_H

    def ticks(self) -> list[float]:
        count = round((100.0 - self.low) / self.step)
        return [100.0 - i * self.step for i in range(count + 1)]


def scale_for(values: list[float], target: float) -> Scale:
    """From a little below the lowest of the days and the target up to 100, on round ticks."""
    lowest = min([*values, target])
    margin = max((100.0 - lowest) * 0.12, 0.05)
    bottom = max(lowest - margin, 0.0)
    step = next((s for s in STEPS if (100.0 - bottom) / s <= MAX_TICKS), 25.0)
    low = max(math.floor(round(bottom / step, 9)) * step, 0.0)
    return Scale(low=round(low, 6), step=step)


def daily_chart(
    figures: list[DayFigure], target: float, name: str, chart_id: str, until: date | None = None
) -> str:
    """The SVG markup; days after ``until`` (a provisional month's clock) are drawn as not yet known."""
    scale = scale_for([f.attained_percent for f in figures if _known(f, until)], target)
    band = PLOT_W / max(len(figures), 1)
    parts = [
        _open_tag(chart_id),
        f'<title id="{chart_id}-title">{escape(name)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_summary(figures, target, until))}</desc>',
        *_grid(scale),
        *(_bar(i, f, band, scale, target, until) for i, f in enumerate(figures)),
        *_day_labels(figures, band),
        *_target_line(scale, target),
        "</svg>",
    ]
    return "\n".join(parts)


def _known(figure: DayFigure, until: date | None) -> bool:
    return until is None or figure.day <= until


def _open_tag(chart_id: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
    )


def _summary(figures: list[DayFigure], target: float, until: date | None) -> str:
    known = [f for f in figures if _known(f, until)]
    if not known:
        return "No daily figures yet."
    worst = min(known, key=lambda f: f.attained_percent)
    below = sum(1 for f in known if f.attained_percent < target)
    text = (
        f"Bars show each day's availability, the dashed line the target of {target:.3f}%. "
        f"{below} of {len(known)} days below target; lowest {worst.attained_percent:.3f}% on "
        f"{worst.day.isoformat()}."
    )
    if len(known) < len(figures):
        text += f" Days after {known[-1].day.isoformat()} are still to come."
    return text


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    return f"{value:.{decimals}f}%"


def _grid(scale: Scale) -> list[str]:
    lines = []
    for tick in scale.ticks():
        y = scale.y(tick)
        lines.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="{AXIS_COLOUR}" stroke-width="0.6" stroke-opacity="0.6"/>'
        )
        lines.append(
            f'<text x="{LEFT - 6}" y="{y + 3.5:.1f}" text-anchor="end" font-size="12" '
            f'fill="#4a5560">{_tick_label(tick, scale.step)}</text>'
        )
    return lines


def _bar(index: int, figure: DayFigure, band: float, scale: Scale, target: float, until: date | None) -> str:
    x = LEFT + index * band + band * 0.15
    width = band * 0.7
    label = f"{figure.day.isoformat()}: {figure.attained_percent:.3f}%"
    if not _known(figure, until):
        base = TOP + PLOT_H
        return (
            f'<rect x="{x:.1f}" y="{base - 2:.1f}" width="{width:.1f}" height="2" fill="{AXIS_COLOUR}">'
            f"<title>{figure.day.isoformat()}: still to come</title></rect>"
        )
    top = scale.y(figure.attained_percent)
    colour = OK_COLOUR if figure.attained_percent >= target else LOW_COLOUR
    height = max(TOP + PLOT_H - top, 0.5)
    return (
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{colour}">'
        f"<title>{escape(label)}</title></rect>"
    )


def _day_labels(figures: list[DayFigure], band: float) -> list[str]:
    y = TOP + PLOT_H + 15
    labels = [
        f'<text x="{LEFT + (i + 0.5) * band:.1f}" y="{y}" text-anchor="middle" font-size="11" '
        f'fill="#4a5560">{f.day.day}</text>'
        for i, f in enumerate(figures)
    ]
    labels.append(
        f'<text x="{LEFT + PLOT_W / 2:.1f}" y="{HEIGHT - 3}" text-anchor="middle" font-size="11" '
        f'fill="#4a5560">day of month</text>'
    )
    return labels


def _target_line(scale: Scale, target: float) -> list[str]:
    y = scale.y(target)
    return [
        f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{TARGET_COLOUR}" '
        f'stroke-width="1.4" stroke-dasharray="6 4"/>',
        f'<text x="{WIDTH - RIGHT + 6}" y="{y + 4:.1f}" font-size="12" font-weight="600" '
        f'fill="{TARGET_COLOUR}">target {target:.3f}%</text>',
    ]
