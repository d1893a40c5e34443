"""The usage chart, drawn on the server as SVG bars (no script): one bar per day, what the
line received stacked under what it sent. Pages show the same figures in a table beside it.

The drawing is 640 units wide and shrinks with its box: on a phone a unit is half a pixel, so
the stylesheet enlarges the text when the box is narrow (container queries on .network-usage)
and hides the minor day labels. The margins leave room for that larger text."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format

from raccord.network.selectors import UsageSeries, unit_for, volume

WIDTH, HEIGHT = 640, 240
# LEFT fits "250 Mo" at the largest font size (26 units: ~96), BOTTOM the day labels below the axis.
LEFT, RIGHT, TOP, BOTTOM = 108, 16, 16, 36
LABEL_GAP = 8  # the labels' baseline above the bottom edge; the tick labels' gap before the axis


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    received_y: float
    received_height: float
    sent_y: float
    sent_height: float
    title: str
    label: str  # the day under the axis, one day in five
    label_x: float
    label_minor: bool  # one label in two, hidden when the chart is narrow
    label_anchor: str  # "end" for the last day's, which would otherwise overflow the right edge


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class UsageChart:
    width: int
    height: int
    left: int
    right: int
    baseline: float
    tick_x: int  # where the tick labels end, left of the axis
    label_y: int  # the baseline of the day labels
    bars: list[Bar]
    ticks: list[Tick]
    summary: str
    empty: bool


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 × a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def usage_chart(series: UsageSeries) -> UsageChart:
    days = series.days
    unit = unit_for(series.peak or 1)
    top = _nice_ceiling(series.peak / unit[1]) * unit[1] if series.peak else unit[1]
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.7, 1.0)
    baseline = TOP + plot_height
    bars = []
    for index, day in enumerate(days):
        received_h = plot_height * day.output_octets / top
        sent_h = plot_height * day.input_octets / top
        x = LEFT + index * slot + (slot - bar_width) / 2
        is_last = index == len(days) - 1
        title = (
            f"{date_format(day.day, 'l j F')} : {volume(day.output_octets)} reçus, "
            f"{volume(day.input_octets)} envoyés"
        )
        bars.append(
            Bar(
                x=round(x, 1),
                width=round(bar_width, 1),
                received_y=round(baseline - received_h, 1),
                received_height=round(received_h, 1),
                sent_y=round(baseline - received_h - sent_h, 1),
                sent_height=round(sent_h, 1),
                title=title,
                label=f"{day.day:%d/%m}" if (len(days) - 1 - index) % 5 == 0 else "",
                label_x=round(x + (bar_width if is_last else bar_width / 2), 1),
                label_minor=(len(days) - 1 - index) % 10 == 5,
                label_anchor="end" if is_last else "middle",
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_height * fraction, 1), label=volume(int(top * fraction), unit))
        for fraction in (0, 0.5, 1)
    ]
    first, last = days[0].day, days[-1].day
    summary = (
        f"Du {first:%d/%m/%Y} au {last:%d/%m/%Y} : {volume(series.received)} reçus et "
        f"{volume(series.sent)} envoyés, au plus {volume(series.peak)} en un jour."
    )
    return UsageChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        baseline=baseline,
        tick_x=LEFT - LABEL_GAP,
        label_y=HEIGHT - LABEL_GAP,
        bars=bars,
        ticks=ticks,
        summary=summary,
        empty=series.total == 0,
    )
