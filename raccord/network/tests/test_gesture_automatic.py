"""S1 granted by policy: the daily job grants the gesture of the outages and incidents that
ended the week before, on each active line they touched, once per outage, with the amount an
agent would have granted (``gesture_candidates``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from raccord.billing.models import LineKind, PendingItem
from raccord.conftest import paris
from raccord.contracts.daily import daily_run
from raccord.contracts.suspension import contract_suspend
from raccord.core.events import Actor
from raccord.core.models import Event, Policy
from raccord.core.money import round_half_up
from raccord.network.gestures import gestures_automatic
from raccord.network.incidents import incident_declare
from raccord.network.models import Outage
from raccord.network.tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db
# (29.90 + 5.00) × ceil(49 / 24) / 30 days of June
AMOUNT = round_half_up(Fraction(Decimal("34.90")) * 3 / 30)


@pytest.fixture
def automatic() -> Policy:
    policy = Policy.get()
    policy.gesture_automatic = True
    policy.save()
    return policy


@pytest.fixture
def line(make_line):
    # THD30 29.90 + TEL 5.00, in the commune 67482
    return make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))


def _outage(line, *, start, end) -> Outage:
    return Outage.objects.create(
        contract=line, started_at=start, ended_at=end, detected_on=end.date()
    )


def _gestures(line) -> list[Decimal]:
    return list(
        PendingItem.objects.filter(contract=line, kind=LineKind.GESTURE).values_list(
            "amount", flat=True
        )
    )


def test_an_outage_ended_yesterday_opens_its_gesture_once_without_a_request__S1(
    line, automatic
) -> None:
    # given an outage of 49 hours that ended on 3 June
    _outage(line, start=paris(2027, 6, 1, 8), end=paris(2027, 6, 3, 9))
    # when the daily jobs of 4 June run, then again, and the next day
    lines = gestures_automatic(on=date(2027, 6, 4))
    again = gestures_automatic(on=date(2027, 6, 4))
    next_day = gestures_automatic(on=date(2027, 6, 5))
    # then one gesture, of the rule's amount, dated the day of the job (next invoice)
    assert Decimal("3.49") == AMOUNT
    assert _gestures(line) == [-AMOUNT]
    item = PendingItem.objects.get(contract=line, kind=LineKind.GESTURE)
    assert item.created_on == date(2027, 6, 4)
    assert len(lines) == 1 and "3.49 €" in lines[0] and line.reference in lines[0]
    assert again == [] and next_day == []
    # and the customer's history says who granted it
    event = Event.objects.get(verb="contract.gesture_granted", subject_id=line.pk)
    assert event.actor_label == "Geste commercial automatique (politique de l'opérateur)"


def test_without_the_policy_the_gesture_waits_for_a_request__S1(line) -> None:
    _outage(line, start=paris(2027, 6, 1, 8), end=paris(2027, 6, 3, 9))
    assert Policy.get().gesture_automatic is False  # the default
    assert gestures_automatic(on=date(2027, 6, 4)) == []
    assert _gestures(line) == []


def test_short_unfinished_and_old_outages_are_not_granted_by_the_job__S1(line, automatic) -> None:
    # 48 hours exactly: not more than 48 (N3)
    _outage(line, start=paris(2027, 6, 1, 8), end=paris(2027, 6, 3, 8))
    # ended today: the job of 4 June only looks at what ended before 00:00
    _outage(line, start=paris(2027, 6, 2, 9), end=paris(2027, 6, 4, 12))
    # ended more than a week before: left to the agents
    _outage(line, start=paris(2027, 5, 20, 8), end=paris(2027, 5, 25, 8))
    assert gestures_automatic(on=date(2027, 6, 4)) == []
    assert _gestures(line) == []


def test_a_gesture_already_granted_by_an_agent_is_not_granted_again__S1(line, automatic) -> None:
    from raccord.contracts.gesture import gesture_grant

    outage = _outage(line, start=paris(2027, 6, 1, 8), end=paris(2027, 6, 3, 9))
    assert outage.ended_at is not None
    gesture_grant(
        contract=line,
        outage_start=outage.started_at,
        outage_end=outage.ended_at,
        requested_on=date(2027, 6, 3),
        actor=Actor.system("agent"),
    )
    assert gestures_automatic(on=date(2027, 6, 4)) == []
    assert _gestures(line) == [-AMOUNT]


def test_the_daily_job_grants_an_incident_s_gesture_to_the_active_lines_it_covered__S1(
    line, make_line, automatic
) -> None:
    # given a second line in the commune, suspended for non-payment
    suspended = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    contract_suspend(contract=suspended, on=date(2027, 5, 20), reason="impayé", actor=SYSTEM)
    incident_declare(
        title="Relais en panne",
        communes=["67482"],
        started_at=paris(2027, 6, 1, 8),
        ended_at=paris(2027, 6, 4, 8),
        actor=SYSTEM,
    )
    # when the daily jobs of 5 June run (twice)
    report = daily_run(on=date(2027, 6, 5))
    daily_run(on=date(2027, 6, 5))
    # then the active line gets 34.90 × 3 / 30, the suspended one nothing
    assert _gestures(line) == [-AMOUNT]
    assert _gestures(suspended) == []
    assert not report.errors
    assert any("incident réseau : relais en panne" in text for text in report.other["network"])
