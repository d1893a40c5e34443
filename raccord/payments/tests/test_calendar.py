from datetime import date

import pytest

from raccord.payments.calendar import invoice_debit_date, next_target2_business_day


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 6, 5), date(2027, 6, 7)),  # Saturday → Monday (the rulebook's example)
        (date(2026, 4, 5), date(2026, 4, 7)),  # Easter Sunday → Tuesday after Easter Monday
        (date(2027, 1, 1), date(2027, 1, 4)),  # 1 January (a Friday) → Monday
        (date(2027, 5, 1), date(2027, 5, 3)),  # 1 May
        (date(2027, 3, 26), date(2027, 3, 30)),  # Good Friday → after Easter Monday
        (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas (Fri) and 26th (Sat)
        (date(2027, 2, 5), date(2027, 2, 5)),  # an ordinary Friday stays
    ],
)
def test_debits_move_to_the_next_target2_business_day__P1(day, expected):
    assert next_target2_business_day(day) == expected


def test_an_invoice_issued_on_the_2nd_is_debited_on_the_5th__P1_P3(db):
    assert invoice_debit_date(issue_date=date(2027, 2, 2)) == date(2027, 2, 5)
    assert invoice_debit_date(issue_date=date(2027, 6, 2)) == date(2027, 6, 7)


def test_an_invoice_issued_too_late_waits_for_the_next_debit_date__P3(db):
    # issued 4 February: the 5th is only one day later, less than the 2-day notice
    assert invoice_debit_date(issue_date=date(2027, 2, 4)) == date(2027, 3, 5)
    assert invoice_debit_date(issue_date=date(2027, 2, 3)) == date(2027, 2, 5)
