"""Chart geometry for the statistics page, computed here so templates only place numbers.

The site draws its charts as inline SVG on the server: no JavaScript, and the CSP forbids
inline style, so every position is a presentation attribute computed below and every colour
is a CSS class.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# Roughly how wide one character of the chart's text is, in SVG units (13px system sans-serif);
# used to leave room for the value written after the longest bar.
CHAR_WIDTH = 7.5


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: Decimal
    value_text: str
    css_class: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    css_class: str
    y: float
    width: float
    height: float
    text_y: float
    value_x: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: labels on the left, bars from a zero line, values after them."""

    width: int
    height: int
    plot_left: float
    plot_width: float
    plot_bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least value (a round top
    for the axis, so the ticks read 0, 2,000, 4,000 ... rather than 0, 1,765.5 ...)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # unreachable: 10 * power >= value always holds


def tick_label(value: float, unit_suffix: str) -> str:
    text = f"{value:,.1f}".removesuffix(".0")
    return f"{text}{unit_suffix}"


def horizontal_bar_chart(
    points: Sequence[ChartPoint],
    *,
    width: int = 720,
    label_width: int = 230,
    bar_height: int = 22,
    gap: int = 10,
    axis_height: int = 28,
    tick_count: int = 5,
    unit_suffix: str = "",
) -> BarChart:
    """Lay out one bar per point, in the order given, scaled from zero to a round maximum."""
    top = round(nice_ceiling(max((float(p.value) for p in points), default=0)), 6)
    longest_value = max((len(p.value_text) for p in points), default=0)
    plot_width = max(width - label_width - longest_value * CHAR_WIDTH - 12, 40)
    bars = tuple(
        Bar(
            label=point.label,
            value_text=point.value_text,
            css_class=point.css_class,
            y=gap + i * (bar_height + gap),
            width=round(plot_width * float(point.value) / top, 2),
            height=bar_height,
            text_y=gap + i * (bar_height + gap) + bar_height * 0.7,
            value_x=round(label_width + plot_width * float(point.value) / top + 6, 2),
        )
        for i, point in enumerate(points)
    )
    plot_bottom = gap + len(points) * (bar_height + gap)
    ticks = tuple(
        Tick(
            x=round(label_width + plot_width * n / tick_count, 2),
            label=tick_label(top * n / tick_count, unit_suffix),
        )
        for n in range(tick_count + 1)
    )
    return BarChart(
        width=width,
        height=int(plot_bottom + axis_height),
        plot_left=label_width,
        plot_width=plot_width,
        plot_bottom=plot_bottom,
        bars=bars,
        ticks=ticks,
    )
