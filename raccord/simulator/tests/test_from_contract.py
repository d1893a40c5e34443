"""A scenario rebuilt from a real contract (the agents' « what if »): the simulator replays the
contract's real life to the same activation, commitment and invoices as the real engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from raccord.billing.models import Document
from raccord.billing.run import billing_run, run_date_of
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.models import Event, Policy
from raccord.simulator.from_contract import TEST_IBAN, scenario_from_contract
from raccord.simulator.sandbox import sandbox_play
from raccord.simulator.scenario import ScenarioError

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


@pytest.fixture
def active(signup_request: SignupRequest) -> Contract:
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    contract_equipment_receive(contract=contract, on=date(2027, 1, 12), actor=SYSTEM)
    return contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)


def _tables_count() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def test_the_rebuilt_life_follows_the_contract_dates_and_signed_prices(active: Contract) -> None:
    # given a catalogue price raised after the signature
    active.offer.monthly_price = Decimal("99.00")
    active.offer.save()
    # when
    scenario = scenario_from_contract(contract=active, until=date(2027, 6, 30), extra_events=[])
    # then the signed price, not today's catalogue, and the contract's dates
    offer = scenario["catalog"]["offers"][0]
    assert offer["code"] == "THD30"
    assert offer["monthly_price"] == str(active.monthly_price)
    assert offer["commitment_months"] == active.commitment_months
    assert [(e["date"], e["type"]) for e in scenario["events"]] == [
        ("2027-01-05", "signup"),
        ("2027-01-12", "equipment_received"),
        ("2027-01-20", "first_connection"),
    ]
    assert scenario["events"][0]["options"] == ["TEL"]
    assert scenario["policy"]["invoice_day"] == Policy.get().invoice_day


def test_the_real_iban_never_goes_into_the_scenario(signup_request: SignupRequest) -> None:
    # given a subscriber whose real IBAN is not the test one
    real_iban = "FR1420041010050500013M02606"
    contract = signup_create(
        request=replace(signup_request, iban=real_iban),
        actor=Actor.customer(None),
        at=paris(2027, 1, 5),
    )
    # when
    scenario = scenario_from_contract(contract=contract, until=date(2027, 6, 30), extra_events=[])
    # then the fixed test IBAN stands for it, and no personal data goes into the scenario
    text = json.dumps(scenario, ensure_ascii=False)
    assert real_iban != TEST_IBAN
    assert scenario["subscriber"]["iban"] == TEST_IBAN
    assert real_iban not in text and "0500013M026" not in text
    assert "Martin" not in text and "camille.martin" not in text


def test_hypothetical_events_come_after_the_real_life_in_date_order(active: Contract) -> None:
    extra: list[dict[str, Any]] = [
        {"date": "2027-04-10", "type": "termination_request", "requested_date": None},
        {"date": "2027-03-01", "type": "offer_change", "offer": "FIBRE300"},
    ]
    scenario = scenario_from_contract(contract=active, until=date(2027, 6, 30), extra_events=extra)
    types = [e["type"] for e in scenario["events"]]
    assert types[-2:] == ["offer_change", "termination_request"]
    codes = [o["code"] for o in scenario["catalog"]["offers"]]
    assert codes == ["THD30", "FIBRE300"]


def test_an_unplayable_hypothesis_is_refused_by_the_simulators_own_checks(
    active: Contract,
) -> None:
    with pytest.raises(ScenarioError) as refused:
        scenario_from_contract(
            contract=active,
            until=date(2027, 6, 30),
            extra_events=[{"date": "2027-04-10", "type": "offer_change", "offer": "NOPE"}],
        )
    assert "NOPE" in refused.value.message


def test_a_termination_and_a_gesture_of_the_real_life_are_replayed(active: Contract) -> None:
    from raccord.contracts.gesture import gesture_grant
    from raccord.contracts.termination import contract_termination_request

    gesture_grant(
        contract=active,
        outage_start=paris(2027, 2, 1, 8),
        outage_end=paris(2027, 2, 5, 9),
        requested_on=date(2027, 2, 6),
        actor=SYSTEM,
    )
    contract_termination_request(
        contract=Contract.objects.get(pk=active.pk),
        requested_on=date(2027, 3, 1),
        requested_date=date(2027, 4, 15),
        legitimate_reason=None,
        proof="",
        actor=SYSTEM,
    )
    active.refresh_from_db()
    scenario = scenario_from_contract(contract=active, until=date(2027, 6, 30), extra_events=[])
    by_type = {e["type"]: e for e in scenario["events"]}
    assert by_type["outage"]["start"] == "2027-02-01T08:00"
    assert by_type["gesture_request"]["date"] == "2027-02-06"
    assert by_type["termination_request"]["date"] == "2027-03-01"
    assert by_type["termination_request"]["requested_date"] == "2027-04-15"


def test_building_the_scenario_writes_nothing(active: Contract) -> None:
    before = _tables_count()
    scenario_from_contract(
        contract=active,
        until=date(2027, 6, 30),
        extra_events=[{"date": "2027-04-10", "type": "termination_request"}],
    )
    assert _tables_count() == before


@pytest.mark.slow
def test_the_simulator_replays_the_same_activation_commitment_and_invoices_as_the_real_run__B1_C4(
    active: Contract,
) -> None:
    # given the scenario of the real contract, played in the simulator's sandbox
    until = date(2027, 3, 31)
    scenario = scenario_from_contract(contract=active, until=until, extra_events=[])
    played = sandbox_play(json.dumps(scenario))
    assert played.returncode == 0, played.stderr
    simulated = json.loads(played.stdout)
    # when the real monthly run bills the same months on the real data
    events_before = Event.objects.count()
    for month in (date(2027, 2, 1), date(2027, 3, 1)):
        run_day = run_date_of(month)
        billing_run(month=month, at=paris(run_day.year, run_day.month, run_day.day))
    assert Event.objects.count() >= events_before
    real = list(
        Document.objects.filter(customer_id=active.customer_id)
        .order_by("issue_date", "pk")
        .prefetch_related("lines")
    )
    # then same activation, commitment and documents
    active.refresh_from_db()
    assert active.activation_date and active.commitment_start and active.commitment_end
    assert simulated["activation_date"] == active.activation_date.isoformat()
    assert simulated["commitment"]["start"] == active.commitment_start.isoformat()
    assert simulated["commitment"]["end"] == active.commitment_end.isoformat()
    assert real, "the real run issued no invoice"
    assert len(simulated["documents"]) == len(real)
    for document, copy in zip(real, simulated["documents"], strict=True):
        assert copy["issue_date"] == document.issue_date.isoformat()
        assert Decimal(copy["total"]) == document.total
        assert [(line["kind"], Decimal(line["amount"])) for line in copy["lines"]] == [
            (line.kind, line.amount) for line in document.lines.all()
        ]


@pytest.mark.slow
def test_a_richer_real_life_replays_to_the_same_documents__C9_C10_C11_S1(
    signup_request: SignupRequest,
) -> None:
    """Sign-up, activation, a gesture, an offer change recorded in advance and a termination,
    each done by the real services on its day while the real daily jobs and monthly runs go
    on: the scenario rebuilt from the result replays to the same documents."""
    from datetime import timedelta

    from raccord.contracts.daily import daily_run
    from raccord.contracts.gesture import gesture_grant
    from raccord.contracts.offer_change import contract_offer_change
    from raccord.contracts.termination import contract_termination_request
    from raccord.equipment.services import equipment_units_assign

    def fresh(pk: int) -> Contract:
        return Contract.objects.get(pk=pk)

    # given a real life, day by day on the test database
    until = date(2027, 7, 31)
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    pk = contract.pk

    def receive(day: date) -> None:
        # The kit arrives with its antenna (lent, to be returned at the end: S2).
        contract_equipment_receive(contract=fresh(pk), on=day, actor=SYSTEM)
        equipment_units_assign(contract=fresh(pk), models=["ANT"], on=day, actor=SYSTEM)

    acts: dict[date, Callable[[date], Any]] = {
        date(2027, 1, 12): receive,
        date(2027, 1, 20): lambda day: contract_activate(
            contract=fresh(pk), on=day, source="radius", actor=SYSTEM
        ),
        date(2027, 2, 6): lambda day: gesture_grant(
            contract=fresh(pk),
            outage_start=paris(2027, 2, 1, 8),
            outage_end=paris(2027, 2, 5, 9),
            requested_on=day,
            actor=SYSTEM,
        ),
        date(2027, 3, 10): lambda day: contract_offer_change(
            contract=fresh(pk),
            offer_code="FIBRE300",
            effective_date=date(2027, 4, 1),
            on=day,
            actor=SYSTEM,
        ),
        date(2027, 5, 10): lambda day: contract_termination_request(
            contract=fresh(pk), requested_on=day, actor=SYSTEM
        ),
    }
    day = date(2027, 1, 5)
    while day <= until:
        if day in acts:
            acts[day](day)
        daily_run(on=day, actor=SYSTEM)
        if run_date_of(day) == day:
            billing_run(month=day.replace(day=1), at=paris(day.year, day.month, day.day))
        day += timedelta(days=1)
    contract = fresh(pk)
    assert contract.status == Contract.Status.TERMINATED
    # when the rebuilt scenario is played in the sandbox
    scenario = scenario_from_contract(contract=contract, until=until, extra_events=[])
    played = sandbox_play(json.dumps(scenario))
    assert played.returncode == 0, played.stderr
    simulated = json.loads(played.stdout)
    # then the same end and the same documents, line by line
    assert "errors" not in simulated, simulated.get("errors")
    assert simulated["status"] == contract.status
    assert simulated["termination_effective_date"] == str(contract.termination_effective_date)
    real = list(
        Document.objects.filter(customer_id=contract.customer_id)
        .order_by("issue_date", "pk")
        .prefetch_related("lines")
    )
    kinds = {line.kind for document in real for line in document.lines.all()}
    assert {"gesture", "early_termination", "subscription_credit", "non_return_fee"} <= kinds
    assert [(d["issue_date"], Decimal(d["total"])) for d in simulated["documents"]] == [
        (d.issue_date.isoformat(), d.total) for d in real
    ]
    for document, copy in zip(real, simulated["documents"], strict=True):
        assert [
            (line["kind"], line["product"], Decimal(line["amount"])) for line in copy["lines"]
        ] == [(line.kind, line.product, line.amount) for line in document.lines.all()]


def test_a_cancellation_before_activation_is_replayed__C6(signup_request: SignupRequest) -> None:
    from raccord.contracts.services import contract_cancel

    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    contract_cancel(contract=contract, on=date(2027, 1, 8), reason="", actor=SYSTEM)
    contract.refresh_from_db()
    scenario = scenario_from_contract(contract=contract, until=date(2027, 3, 31), extra_events=[])
    assert [(e["date"], e["type"]) for e in scenario["events"]] == [
        ("2027-01-05", "signup"),
        ("2027-01-08", "cancellation"),
    ]


def test_a_withdrawal_after_activation_is_replayed__C6(signup_request: SignupRequest) -> None:
    from raccord.contracts.withdrawal import contract_withdraw

    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    contract_equipment_receive(contract=contract, on=date(2027, 1, 8), actor=SYSTEM)
    contract = contract_activate(
        contract=contract, on=date(2027, 1, 10), source="radius", actor=SYSTEM
    )
    contract_withdraw(contract=contract, on=date(2027, 1, 15), reason="", actor=SYSTEM)
    contract.refresh_from_db()
    scenario = scenario_from_contract(contract=contract, until=date(2027, 3, 31), extra_events=[])
    assert [(e["date"], e["type"]) for e in scenario["events"]][-2:] == [
        ("2027-01-10", "first_connection"),
        ("2027-01-15", "withdrawal"),
    ]
    assert scenario["subscriber"]["express_start"] is True


def _live(pk: int, until: date, acts: dict[date, Callable[[date], Any]]) -> Contract:
    """The real life, day by day on the test database: the acts of each day, then the real
    daily jobs and, on the run day, the real monthly run."""
    from datetime import timedelta

    from raccord.contracts.daily import daily_run

    day = Contract.objects.get(pk=pk).signup_date
    while day <= until:
        if day in acts:
            acts[day](day)
        daily_run(on=day, actor=SYSTEM)
        if run_date_of(day) == day:
            billing_run(month=day.replace(day=1), at=paris(day.year, day.month, day.day))
        day += timedelta(days=1)
    return Contract.objects.get(pk=pk)


def _replayed_like_the_real_documents(contract: Contract, until: date) -> list[Document]:
    """Play the scenario rebuilt from ``contract`` in the sandbox and check it gives the real
    documents line by line; returns the real documents."""
    scenario = scenario_from_contract(contract=contract, until=until, extra_events=[])
    played = sandbox_play(json.dumps(scenario))
    assert played.returncode == 0, played.stderr
    simulated = json.loads(played.stdout)
    assert "errors" not in simulated, simulated.get("errors")
    assert simulated["status"] == contract.status
    real = list(
        Document.objects.filter(customer_id=contract.customer_id)
        .order_by("issue_date", "pk")
        .prefetch_related("lines")
    )
    assert [(d["issue_date"], Decimal(d["total"])) for d in simulated["documents"]] == [
        (d.issue_date.isoformat(), d.total) for d in real
    ]
    for document, copy in zip(real, simulated["documents"], strict=True):
        assert [
            (line["kind"], line["product"], Decimal(line["amount"])) for line in copy["lines"]
        ] == [(line.kind, line.product, line.amount) for line in document.lines.all()]
    return real


def test_a_reception_that_lent_nothing_is_rebuilt_as_such__S2(active: Contract) -> None:
    # given a line received without any unit lent (the offer's catalogue lends an antenna)
    assert active.offer.equipment.exists()
    # when
    scenario = scenario_from_contract(contract=active, until=date(2027, 6, 30), extra_events=[])
    # then the reception says so: the simulator lends nothing either
    reception = next(e for e in scenario["events"] if e["type"] == "equipment_received")
    assert reception["equipment"] == []
    from raccord.backoffice.whatif_views import _life_lines

    assert "aucun matériel prêté" in _life_lines([reception])[0]["details"]


def test_an_exchange_of_the_real_life_is_rebuilt__S2(active: Contract) -> None:
    from raccord.equipment.services import equipment_exchange, equipment_units_assign

    # given an antenna lent at reception and exchanged, the replacement delivered on 1 March
    equipment_units_assign(contract=active, models=["ANT"], on=date(2027, 1, 12), actor=SYSTEM)
    equipment_exchange(contract=active, models=["ANT"], delivered=date(2027, 3, 1), actor=SYSTEM)
    # when
    scenario = scenario_from_contract(contract=active, until=date(2027, 6, 30), extra_events=[])
    # then the reception lends the antenna once and the exchange follows on its delivery day
    events = [e for e in scenario["events"] if e["type"].startswith("equipment")]
    assert events == [
        {"date": "2027-01-12", "type": "equipment_received", "equipment": ["ANT"]},
        {
            "date": "2027-03-01",
            "type": "equipment_exchange",
            "equipment": ["ANT"],
            "delivered": "2027-03-01",
        },
    ]


@pytest.mark.slow
def test_a_termination_without_equipment_replays_without_a_non_return_fee__S2(
    signup_request: SignupRequest,
) -> None:
    from raccord.contracts.termination import contract_termination_request

    # given a real line received without equipment, terminated, past every return deadline
    contract = signup_create(
        request=replace(signup_request, option_codes=[]),
        actor=Actor.customer(None),
        at=paris(2027, 1, 5),
    )
    pk = contract.pk
    until = date(2027, 6, 30)
    contract = _live(
        pk,
        until,
        {
            date(2027, 1, 12): lambda day: contract_equipment_receive(
                contract=Contract.objects.get(pk=pk), on=day, actor=SYSTEM
            ),
            date(2027, 1, 20): lambda day: contract_activate(
                contract=Contract.objects.get(pk=pk), on=day, source="radius", actor=SYSTEM
            ),
            date(2027, 3, 10): lambda day: contract_termination_request(
                contract=Contract.objects.get(pk=pk), requested_on=day, actor=SYSTEM
            ),
        },
    )
    assert contract.status == Contract.Status.TERMINATED
    # when its life is replayed, then the same documents, and no fee for equipment never lent
    real = _replayed_like_the_real_documents(contract, until)
    assert not any(line.kind == "non_return_fee" for d in real for line in d.lines.all())


@pytest.mark.slow
def test_an_exchange_not_returned_replays_to_the_same_non_return_fee__S2(
    signup_request: SignupRequest,
) -> None:
    from raccord.catalog.models import EquipmentModel
    from raccord.equipment.services import equipment_exchange, equipment_units_assign

    # given a real line whose antenna is exchanged and the old one never sent back
    contract = signup_create(
        request=replace(signup_request, option_codes=[]),
        actor=Actor.customer(None),
        at=paris(2027, 1, 5),
    )
    pk = contract.pk

    def receive(day: date) -> None:
        contract_equipment_receive(contract=Contract.objects.get(pk=pk), on=day, actor=SYSTEM)
        equipment_units_assign(
            contract=Contract.objects.get(pk=pk), models=["ANT"], on=day, actor=SYSTEM
        )

    until = date(2027, 6, 30)
    contract = _live(
        pk,
        until,
        {
            date(2027, 1, 12): receive,
            date(2027, 1, 20): lambda day: contract_activate(
                contract=Contract.objects.get(pk=pk), on=day, source="radius", actor=SYSTEM
            ),
            date(2027, 2, 25): lambda day: equipment_exchange(
                contract=Contract.objects.get(pk=pk),
                models=["ANT"],
                delivered=date(2027, 3, 1),
                actor=SYSTEM,
            ),
        },
    )
    # when its life is replayed, then the same documents, the exchange's fee included
    real = _replayed_like_the_real_documents(contract, until)
    assert [
        (line.product, line.amount)
        for d in real
        for line in d.lines.all()
        if line.kind == "non_return_fee"
    ] == [("ANT", EquipmentModel.objects.get(code="ANT").non_return_fee)]
