from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raccord.core.money import div_half_up, prorata, round_half_up, vat_breakdown


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


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_div_half_up_is_decimal_half_up_of_the_exact_quotient__M2(numerator, denominator):
    # The integer rounding the run and Factur-X use: half away from zero of the exact quotient,
    # as Fraction arithmetic says and as Decimal's ROUND_HALF_UP says (where its 28 digits are
    # enough: |quotient| < 10**9 is never within 10**-19 of a half without being one).
    quotient = Fraction(numerator, denominator)
    whole = int(quotient)  # toward zero
    rest = abs(quotient - whole)
    expected = whole + (1 if quotient >= 0 else -1) * (rest >= Fraction(1, 2))
    assert div_half_up(numerator, denominator) == expected
    if abs(numerator) < 10**9:
        exact = Decimal(numerator) / Decimal(denominator)
        assert div_half_up(numerator, denominator) == int(
            exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )


def test_div_half_up_refuses_a_non_positive_denominator():
    with pytest.raises(ValueError):
        div_half_up(1, 0)


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
