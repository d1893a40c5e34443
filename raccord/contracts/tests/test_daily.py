"""The daily jobs (C4 fallback, C10 effective dates, S2 deadlines) and ``raccord daily``."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from raccord.billing.models import PendingItem
from raccord.contracts.daily import daily_run
from raccord.contracts.models import Contract
from raccord.contracts.termination import contract_termination_request
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.equipment.services import equipment_units_assign

CUSTOMER = Actor.customer(None)
S = Contract.Status


def test_activation_falls_back_to_reception_plus_30_days__C4(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    assert daily_run(on=date(2027, 2, 10)).activated == []
    report = daily_run(on=date(2027, 2, 11))
    contract.refresh_from_db()
    assert report.activated == [contract.reference]
    assert contract.status == S.ACTIVE
    assert contract.activation_date == date(2027, 2, 11)
    assert Event.objects.get(verb="contract.activated").data["source"] == "fallback"


def test_a_late_daily_run_activates_on_the_fallback_date_not_on_the_run_date__C4(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    daily_run(on=date(2027, 3, 1))
    contract.refresh_from_db()
    assert contract.activation_date == date(2027, 2, 11)


def test_terminations_take_effect_on_E__C10(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 20))
    contract_termination_request(contract=contract, requested_on=date(2027, 3, 1), actor=CUSTOMER)
    assert daily_run(on=date(2027, 3, 10)).terminated == []
    assert daily_run(on=date(2027, 3, 11)).terminated == [contract.reference]
    contract.refresh_from_db()
    assert contract.status == S.TERMINATED


def test_running_a_day_twice_changes_nothing(subscribe, catalogue):
    # given: one contract of each kind of due work
    waiting = subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    leaving = subscribe(signed=date(2027, 1, 5), activated=date(2027, 1, 10))
    equipment_units_assign(contract=leaving, models=["ANT"], on=date(2027, 1, 8))
    contract_termination_request(contract=leaving, requested_on=date(2027, 1, 20), actor=CUSTOMER)
    # E = 2027-01-30, return deadline 2027-03-01
    first = daily_run(on=date(2027, 3, 2))
    assert (len(first.activated), len(first.terminated), len(first.non_return_fees)) == (1, 1, 1)
    events, items = Event.objects.count(), PendingItem.objects.count()
    # when
    second = daily_run(on=date(2027, 3, 2))
    # then
    assert second.changed == 0
    assert (Event.objects.count(), PendingItem.objects.count()) == (events, items)
    waiting.refresh_from_db()
    assert waiting.activation_date == date(2027, 2, 11)


def test_command_prints_what_it_did(subscribe):
    contract = subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    out = StringIO()
    call_command("daily", "--date", "2027-02-11", stdout=out)
    text = out.getvalue()
    assert "11/02/2027" in text
    assert contract.reference in text
    out = StringIO()
    call_command("daily", "--date", "2027-02-11", stdout=out)
    assert "rien à faire" in out.getvalue()


def test_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="2027-13-01"):
        call_command("daily", "--date", "2027-13-01")


def test_celery_task_runs_the_jobs_for_today(subscribe, settings):
    from raccord.contracts.tasks import daily_jobs

    result = daily_jobs.delay().get()
    assert set(result) >= {"on", "activated", "terminated", "non_return_fees", "errors"}


def test_a_day_with_nothing_due_costs_a_few_queries(subscribe, django_assert_max_num_queries):
    # contracts that are not due must not be loaded one by one: a few queries per job
    # (activations, offer changes, terminations, return deadlines, mandates, dunning, refunds,
    # outages), the same number whatever the number of contracts
    for _ in range(3):
        subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    with django_assert_max_num_queries(24) as few:
        report = daily_run(on=date(2027, 1, 20))
    assert report.changed == 0
    for _ in range(5):
        subscribe(signed=date(2027, 1, 5), received=date(2027, 1, 12))
    with django_assert_max_num_queries(24) as many:
        report = daily_run(on=date(2027, 1, 21))
    assert report.changed == 0
    assert len(many.captured_queries) == len(few.captured_queries)
