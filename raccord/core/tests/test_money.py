from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from raccord.core.money import prorata, round_half_up, vat_breakdown


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Fraction(1, 200), Decimal("0.01")),  # 0.005 → half-up
        (Fraction(-1, 200), Decimal("-0.01")),
        (Fraction(4999, 1000), Decimal("5.00")),
        (Fraction(4994, 1000), Decimal("4.99")),
        (Decimal("2.675"), Decimal("2.68")),  # a float would give 2.67
    ],
)
def test_round_half_up_once_at_the_cent__M2(exact, rounded):
    assert round_half_up(exact) == rounded


def test_prorata_counts_days_inclusively_over_the_month_length__M3():
    # 12 days (20 → 31 January) of 29.90 over 31 days = 11.5741… → 11.57
    assert round_half_up(
        prorata(Decimal("29.90"), date(2027, 1, 20), date(2027, 1, 31))
    ) == Decimal("11.57")
    # February 2028 has 29 days: the whole month is the monthly price exactly.
    assert prorata(Decimal("29.90"), date(2028, 2, 1), date(2028, 2, 29)) == Fraction(
        Decimal("29.90")
    )


def test_prorata_refuses_a_period_spanning_two_months__M3():
    with pytest.raises(ValueError):
        prorata(Decimal("10"), date(2027, 1, 20), date(2027, 2, 3))


def test_vat_breakdown_rounds_the_net_per_rate__M2():
    rows = vat_breakdown(
        [
            (Decimal("49.00"), Decimal("0.20")),
            (Decimal("11.57"), Decimal("0.20")),
            (Decimal("150.00"), Decimal("0")),
        ]
    )
    assert rows == [
        (Decimal("0"), Decimal("150.00"), Decimal("0.00")),
        (Decimal("0.20"), Decimal("50.48"), Decimal("10.09")),
    ]
