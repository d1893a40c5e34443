"""The usage chart's geometry: readable on a phone as in the back-office (the stylesheet enlarges
its text when the figure is narrow, the drawing leaves room for it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from raccord.contracts.models import Contract
from raccord.network.charts import HEIGHT, WIDTH, usage_chart
from raccord.network.selectors import UsageDay, UsageSeries


def _series(days: int = 30) -> UsageSeries:
    first = date(2027, 5, 22)
    return UsageSeries(
        contract=cast(Contract, None),
        days=[
            UsageDay(first + timedelta(days=i), input_octets=10**8, output_octets=(i + 1) * 10**8)
            for i in range(days)
        ],
    )


def test_one_day_in_five_is_labelled_and_one_label_in_two_is_minor():
    # when
    chart = usage_chart(_series())
    # then: the labels count back from the last day; a narrow chart keeps one in ten
    labelled = [(bar.label, bar.label_minor) for bar in chart.bars if bar.label]
    assert labelled == [
        ("26/05", True),
        ("31/05", False),
        ("05/06", True),
        ("10/06", False),
        ("15/06", True),
        ("20/06", False),
    ]


def test_the_last_day_label_ends_at_its_bar_inside_the_drawing():
    # when
    chart = usage_chart(_series())
    # then
    last = chart.bars[-1]
    assert last.label_anchor == "end"
    assert last.label_x == round(last.x + last.width, 1) <= chart.right < WIDTH
    assert {bar.label_anchor for bar in chart.bars[:-1]} == {"middle"}


def test_the_margins_leave_room_for_the_enlarged_text():
    # when
    chart = usage_chart(_series())
    # then: tick labels of up to ~96 units ("250 Mo" at 26) end left of the axis
    assert chart.tick_x < chart.left and chart.tick_x >= 96
    # the day labels sit below the axis, their baseline inside the drawing
    assert chart.baseline + 26 < chart.label_y < HEIGHT
    assert all(tick.y - 13 >= 0 for tick in chart.ticks)
