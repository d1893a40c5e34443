"""The usage chart, drawn on the server as SVG bars (no script): one bar per day, what the
line received stacked under what it sent. Pages show the same figures in a table beside it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format

from raccord.network.selectors import UsageSeries, unit_for, volume

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 28


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
                label_x=round(x + bar_width / 2, 1),
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
        bars=bars,
        ticks=ticks,
        summary=summary,
        empty=series.total == 0,
    )
