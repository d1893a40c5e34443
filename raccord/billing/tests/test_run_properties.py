"""Property tests of the monthly run (B2-B8, M2, M3): for random lives, every day of service is
billed exactly once, no day is forgotten, each line is the rule's amount, every total is the
sum of its lines, and numbering has no gap."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raccord.billing.models import Document, DocumentLine
from raccord.billing.run import billing_run
from raccord.conftest import paris
from raccord.contracts.models import Subscription
from raccord.core.money import round_half_up

pytestmark = pytest.mark.django_db

START = date(2027, 1, 1)


def _months(first: date, count: int) -> list[date]:
    months, current = [], first
    for _ in range(count):
        months.append(current)
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


lives = st.fixed_dictionaries(
    {
        "activation": st.integers(min_value=0, max_value=120),
        "end_after": st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
        # the end becomes known this many months after activation (credits when it is late)
        "end_known_after": st.integers(min_value=0, max_value=6),
        "change_after": st.one_of(st.none(), st.integers(min_value=1, max_value=200)),
        "price_cents": st.integers(min_value=100, max_value=9999),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(life=lives)
def test_every_day_is_billed_once_and_every_line_follows_the_rule__B2_B3_B4_M3(
    life, signup_request, activate
):
    # each example starts from the same database: its writes are rolled back at the end
    with transaction.atomic():
        _check_life(life, signup_request, activate)
        transaction.set_rollback(True)


def _check_life(life, signup_request, activate):
    # given a random life: activation, maybe an offer change, maybe an end known late
    activation = START + timedelta(days=life["activation"])
    contract = activate(signup_request, on=activation, option_codes=[])
    price = Decimal(life["price_cents"]) / 100
    Subscription.objects.filter(contract=contract).update(monthly_price=price)
    end = activation + timedelta(days=life["end_after"]) if life["end_after"] is not None else None
    change = (
        activation + timedelta(days=life["change_after"])
        if life["change_after"] is not None
        else None
    )
    if change is not None and end is not None and change > end:
        change = None
    months = _months(activation.replace(day=1), 18)
    end_known_month = months[min(life["end_known_after"], len(months) - 1)]
    change_done = False
    for month in months:
        # the offer change and the end are recorded when they become known, between runs
        if change is not None and not change_done and month >= change.replace(day=1):
            old = Subscription.objects.get(contract=contract, kind="offer", start_date__lt=change)
            known_end = old.end_date
            old.end_date = change - timedelta(days=1)
            old.save(update_fields=["end_date"])
            Subscription.objects.create(
                contract=contract,
                kind="offer",
                product="FIBRE300",
                label="Fibre 300",
                monthly_price=price + Decimal("10.00"),
                vat_rate=Decimal("0.20"),
                start_date=change,
                end_date=known_end,
            )
            change_done = True
        if end is not None and month >= end_known_month:
            Subscription.objects.filter(contract=contract, end_date__isnull=True).update(
                end_date=end
            )
            Subscription.objects.filter(contract=contract, end_date__gt=end).update(end_date=end)
        billing_run(month=month, at=paris(month.year, month.month, 2, 6), render_pdfs=False)
    if end is not None:
        Subscription.objects.filter(contract=contract, end_date__isnull=True).update(end_date=end)
        for month in _months(months[-1], 2)[1:]:
            billing_run(month=month, at=paris(month.year, month.month, 2, 6), render_pdfs=False)

    # then each subscription's days are charged exactly once between its start and its end
    lines = DocumentLine.objects.filter(
        contract=contract, kind__in=["subscription", "subscription_credit"]
    )
    last_run = _months(months[-1], 2)[-1]
    for sub in Subscription.objects.filter(contract=contract):
        coverage: Counter[date] = Counter()
        for line in lines.filter(product=sub.product):
            assert line.period_start is not None and line.period_end is not None
            if line.period_start < sub.start_date:
                continue
            day = line.period_start
            while day <= line.period_end:
                coverage[day] += 1 if line.kind == "subscription" else -1
                day += timedelta(days=1)
        billed_to = sub.billed_through
        expected_end = sub.end_date if sub.end_date is not None else billed_to
        billed_days = {d for d, n in coverage.items() if n != 0}
        assert all(n in (0, 1) for n in coverage.values()), "a day billed twice"
        if expected_end is None or expected_end < sub.start_date:
            assert billed_days == set()
            continue
        expected = {
            sub.start_date + timedelta(days=i)
            for i in range((expected_end - sub.start_date).days + 1)
        }
        assert billed_days == expected, "a day forgotten or billed outside the subscription"
        assert billed_to is not None
        assert billed_to <= last_run.replace(
            day=calendar.monthrange(last_run.year, last_run.month)[1]
        )
    # each line is the rule's amount: price × days / days in month, rounded once (M2, M3)
    for line in lines:
        assert line.period_start is not None and line.period_end is not None
        days = (line.period_end - line.period_start).days + 1
        dim = calendar.monthrange(line.period_start.year, line.period_start.month)[1]
        exact = Fraction(Decimal(line.data["monthly_price"])) * days / dim
        assert abs(line.amount) == round_half_up(exact)
    # every total is the sum of its lines, and the series have no gap (B6, B7)
    for document in Document.objects.all():
        assert document.total == sum(line.amount for line in document.lines.all())
        assert (document.kind == "invoice") == (document.total >= 0)
        # only an invoice with something to pay has a debit date (P1); a credit note or a
        # 0.00 invoice has none, so that the debit file never takes it
        assert (document.due_date is not None) == (document.total > 0)
    for kind in ("invoice", "credit_note"):
        per_year: dict[str, list[int]] = {}
        for number in (
            Document.objects.filter(kind=kind).order_by("id").values_list("number", flat=True)
        ):
            series, counter = number.split("-")
            per_year.setdefault(series, []).append(int(counter))
        for counters in per_year.values():
            assert counters == list(range(1, len(counters) + 1))
