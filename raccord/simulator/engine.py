"""Playing a scenario through the real services, day by day (SIMULATOR.md).

This module owns no rule: each event is mapped to the service a person or a system would call
(sign-up, delivery, activation, withdrawal, offer change, termination, gesture, equipment),
each day then runs the real daily jobs and, on the run day, the real monthly run; the result
is read back from what those services wrote. If a rule changes in the engine, the simulator's
answer changes with it.

An event the rules refuse (a withdrawal after the deadline, a gesture for a 48-hour outage…)
is not an invalid scenario: the service's refusal is listed in ``errors`` with its date and
the run goes on, as it would for a real subscriber."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from raccord.billing.run import billing_run, run_date_of
from raccord.catalog.models import CGVVersion, EquipmentModel, Offer, Option, Zone, ZoneOffer
from raccord.contracts.daily import daily_run
from raccord.contracts.gesture import gesture_grant
from raccord.contracts.models import Contract
from raccord.contracts.offer_change import contract_offer_change
from raccord.contracts.services import (
    contract_activate,
    contract_cancel,
    contract_equipment_receive,
    contract_ineligible_declare,
    contract_installation_book,
    contract_kit_ship,
)
from raccord.contracts.signup import SignupErrors, SignupRequest, signup_create
from raccord.contracts.termination import contract_termination_request
from raccord.contracts.withdrawal import contract_withdraw
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.customers.models import Customer
from raccord.eligibility.models import Address
from raccord.equipment.selectors import equipment_returns_awaited
from raccord.equipment.services import (
    equipment_exchange,
    equipment_return_confirm,
    equipment_return_record,
    equipment_units_assign,
)
from raccord.payments.ledger import payment_record
from raccord.payments.mandates import mandate_change
from raccord.payments.models import Mandate, Payment
from raccord.simulator.result import simulation_result
from raccord.simulator.scenario import Event, Scenario, ScenarioError, scenario_parse

PARIS = ZoneInfo("Europe/Paris")
# The made-up commune where the simulated subscriber lives: no real INSEE code is 99999.
COMMUNE_INSEE = "99999"
SYSTEM = Actor.system("Simulateur")


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=PARIS)


class NotEmptyDatabase(RuntimeError):
    """The simulator plays one subscriber on a database of its own: the daily jobs and the
    monthly run it calls act on every contract they find."""


@dataclass
class _World:
    """The catalogue rows and people a scenario needs."""

    address: Address
    cgv: CGVVersion
    agent: Actor


@dataclass
class _Play:
    scenario: Scenario
    world: _World
    contract: Contract | None = None
    customer_actor: Actor = SYSTEM
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, event: Event | None, day: date, message: str, kind: str = "") -> None:
        self.errors.append(
            {"date": day.isoformat(), "event": event.type if event else kind, "message": message}
        )


def _world_build(scenario: Scenario) -> _World:
    """Catalogue rows from the scenario, one zone over a made-up commune with one address,
    CGV in force from the sign-up, the policy overrides, and an agent for agents' acts."""
    policy = Policy.get()
    for name, value in scenario.policy.items():
        setattr(policy, name, value)
    if scenario.policy:
        policy.save()
    models = {
        spec.model: EquipmentModel.objects.create(
            code=spec.model,
            label=spec.label,
            price=spec.price,
            non_return_fee=spec.non_return_fee,
            vat_rate=spec.vat_rate,
        )
        for spec in scenario.equipment
    }
    zone = Zone.objects.create(
        code="simulation",
        name="Commune simulée",
        communes=[COMMUNE_INSEE],
        subsidy_authority="Collectivité (simulation)"
        if any(o.setup_subsidy for o in scenario.offers)
        else "",
    )
    offers = {}
    for position, spec in enumerate(scenario.offers):
        offer = Offer.objects.create(
            code=spec.code,
            label=spec.label,
            technology="radio",
            download_mbps=30,
            upload_mbps=5,
            monthly_price=spec.monthly_price,
            setup_fee=spec.setup_fee,
            change_fee=spec.change_fee,
            termination_fee=spec.termination_fee,
            commitment_months=spec.commitment_months,
            subsidised_equipment=spec.subsidised_equipment,
            vat_rate=spec.vat_rate,
            position=position,
        )
        lent = spec.equipment if spec.equipment is not None else tuple(models)
        offer.equipment.set([models[code] for code in lent])
        ZoneOffer.objects.create(zone=zone, offer=offer, setup_subsidy=spec.setup_subsidy)
        offers[spec.code] = offer
    for option_spec in scenario.options:
        option = Option.objects.create(
            code=option_spec.code,
            label=option_spec.label,
            monthly_price=option_spec.monthly_price,
            vat_rate=option_spec.vat_rate,
        )
        compatible = option_spec.offers if option_spec.offers is not None else tuple(offers)
        option.offers.set([offers[code] for code in compatible])
    address = Address.objects.create(
        ban_id=f"{COMMUNE_INSEE}_0001_00001",
        numero=1,
        nom_voie="Rue de la Simulation",
        code_postal="99000",
        code_insee=COMMUNE_INSEE,
        nom_commune="Simulville",
    )
    cgv = CGVVersion.objects.create(version="simulation", effective_date=scenario.start)
    user = User.objects.create_user(
        username="agent.simulation", is_staff=True, first_name="Agent", last_name="Simulation"
    )
    return _World(address=address, cgv=cgv, agent=Actor.agent(user, "Simulateur (conseiller)"))


# --- events ----------------------------------------------------------------------------------


def _signup(play: _Play, event: Event) -> None:
    scenario = play.scenario
    request = SignupRequest(
        address_id=play.world.address.pk,
        offer_code=event.data["offer"],
        option_codes=list(event.get("options", ())),
        civility="mme",
        first_name="Camille",
        last_name="Simulation",
        email="abonne@simulation.example.org",
        phone="06 12 34 56 78",
        payment_method=scenario.payment_method,
        iban=scenario.iban,
        account_holder="Camille Simulation" if scenario.payment_method == "sepa" else "",
        installation_mode=scenario.installation_mode,
        cgv_version_id=play.world.cgv.pk,
        cgv_accepted=True,
        express_start=scenario.express_start,
        channel=Contract.Channel.ONLINE,
        signup_ip="192.0.2.1",
    )
    try:
        contract = signup_create(request=request, actor=Actor.customer(None), at=_noon(event.date))
    except SignupErrors as exc:
        # Nothing else can happen to a subscriber who could not sign up.
        raise ScenarioError(
            "events[0] (signup)",
            "la souscription est refusée : " + " ; ".join(e.message for e in exc.errors),
        ) from None
    except DomainError as exc:
        raise ScenarioError(
            "events[0] (signup)", f"la souscription est refusée : {exc.message}"
        ) from None
    play.contract = contract
    play.customer_actor = Actor.customer(contract.customer.user)


def _lent_models(contract: Contract, event: Event) -> list[str]:
    """The models the event lends: its ``equipment`` (an empty list: none), else the offer's."""
    if "equipment" in event.data:
        return list(event.data["equipment"])
    return list(contract.offer.equipment.order_by("code").values_list("code", flat=True))


def _equipment_received(play: _Play, event: Event, contract: Contract) -> None:
    if contract.installation_mode == Contract.InstallationMode.KIT:
        contract = contract_kit_ship(contract=contract, on=event.date, actor=SYSTEM)
    contract_equipment_receive(contract=contract, on=event.date, actor=SYSTEM)
    equipment_units_assign(
        contract=contract, models=_lent_models(contract, event), on=event.date, actor=SYSTEM
    )


def _installation(play: _Play, event: Event, contract: Contract) -> None:
    # The installer's visit counts as the reception (C4).
    contract = contract_installation_book(
        contract=contract, on=event.date, appointment=event.date, actor=play.world.agent
    )
    contract_equipment_receive(contract=contract, on=event.date, actor=play.world.agent)
    equipment_units_assign(
        contract=contract,
        models=_lent_models(contract, event),
        on=event.date,
        actor=play.world.agent,
    )


def _first_connection(play: _Play, event: Event, contract: Contract) -> None:
    # N2: the first accounting record seen for the subscriber's login (C4).
    contract_activate(contract=contract, on=event.date, source="radius", actor=SYSTEM)


def _ineligible(play: _Play, event: Event, contract: Contract) -> None:
    contract_ineligible_declare(
        contract=contract,
        on=event.date,
        source=event.get("source", "study"),
        note=event.get("note", ""),
        actor=play.world.agent,
    )


def _cancellation(play: _Play, event: Event, contract: Contract) -> None:
    contract_cancel(
        contract=contract, on=event.date, reason=event.get("reason", ""), actor=play.customer_actor
    )


def _withdrawal(play: _Play, event: Event, contract: Contract) -> None:
    contract_withdraw(
        contract=contract, on=event.date, reason=event.get("reason", ""), actor=play.customer_actor
    )


def _offer_change(play: _Play, event: Event, contract: Contract) -> None:
    contract_offer_change(
        contract=contract,
        offer_code=event.data["offer"],
        effective_date=event.get("effective_date") or event.date,
        on=event.date,
        actor=play.customer_actor,
    )


def _bank_details_change(play: _Play, event: Event, contract: Contract) -> None:
    # P4: a new mandate signed online that day, pending until the debit month the rule gives;
    # the daily job (mandates_daily_run) then puts it in force and the invoices name it.
    customer = contract.customer
    current = contract.mandate
    mandate_change(
        customer=customer,
        iban=event.data["iban"],
        debtor_name=current.debtor_name if current is not None else customer.full_name,
        signed_at=_noon(event.date),
        method=Mandate.SignatureMethod.ONLINE,
        ip=None,
        actor=play.customer_actor,
    )


def _outage(play: _Play, event: Event, contract: Contract) -> None:
    # No network app records outages yet: the simulator keeps the span for the gesture request.
    play.outages.append((event.data["start"], event.data["end"]))


def _gesture_request(play: _Play, event: Event, contract: Contract) -> None:
    if not play.outages:
        raise DomainError("Aucune coupure n'a été signalée avant cette demande de geste.")
    # The request is about the latest outage over by the request day; if none is over yet,
    # the latest one reported, and the service says why it cannot be granted.
    over = [o for o in play.outages if o[1].date() <= event.date]
    start, end = max(over, key=lambda o: o[1]) if over else play.outages[-1]
    gesture_grant(
        contract=contract,
        outage_start=start,
        outage_end=end,
        requested_on=event.date,
        actor=play.customer_actor,
    )


def _termination_request(play: _Play, event: Event, contract: Contract) -> None:
    reason = event.get("reason")
    # C13: a legitimate reason is recorded by an agent with its proof.
    contract_termination_request(
        contract=contract,
        requested_on=event.date,
        requested_date=event.get("requested_date"),
        legitimate_reason=reason,
        proof=event.get("proof", "justificatif reçu (simulation)") if reason else "",
        actor=play.world.agent if reason else play.customer_actor,
    )


def _equipment_exchange(play: _Play, event: Event, contract: Contract) -> None:
    equipment_exchange(
        contract=contract,
        models=list(event.data["equipment"]),
        delivered=event.get("delivered") or event.date,
        actor=play.world.agent,
    )


def _equipment_returned(play: _Play, event: Event, contract: Contract) -> None:
    deposit = event.get("deposit_date")
    awaited = equipment_returns_awaited(contract=contract)
    for code in event.data["equipment"]:
        item = next((r for r in awaited if r.unit.model.code == code), None)
        if item is None:
            play.refuse(
                event,
                event.date,
                f"Aucun retour de matériel « {code} » n'est attendu pour ce contrat.",
            )
            continue
        awaited.remove(item)
        item = equipment_return_record(
            return_=item, returned_on=event.date, deposit_date=deposit, actor=SYSTEM
        )
        if deposit is not None:
            # S2: a late return with its proof of deposit is refunded once an agent confirms it
            # (nothing happens for a return in time: there is no fee to refund).
            equipment_return_confirm(return_=item, on=event.date, actor=play.world.agent)


def _cheque_received(play: _Play, event: Event, contract: Contract) -> None:
    # P5: the cheque pays the oldest invoices due; late when received on or after their due day.
    payment_record(
        customer=contract.customer,
        method=Payment.Method.CHEQUE,
        amount=event.data["amount"],
        received_on=event.date,
        reference=f"Chèque reçu le {event.date:%d/%m/%Y}",
        actor=play.world.agent,
        at=_noon(event.date),
    )


HANDLERS = {
    "equipment_received": _equipment_received,
    "installation": _installation,
    "first_connection": _first_connection,
    "ineligible": _ineligible,
    "cancellation": _cancellation,
    "withdrawal": _withdrawal,
    "offer_change": _offer_change,
    "bank_details_change": _bank_details_change,
    "outage": _outage,
    "gesture_request": _gesture_request,
    "termination_request": _termination_request,
    "equipment_exchange": _equipment_exchange,
    "equipment_returned": _equipment_returned,
    "cheque_received": _cheque_received,
}


def _event_play(play: _Play, event: Event) -> None:
    if event.type == "signup":
        _signup(play, event)
        return
    assert play.contract is not None  # the scenario starts with the sign-up
    # Each service locks and reloads the contract; start from what the database holds.
    contract = Contract.objects.get(pk=play.contract.pk)
    try:
        HANDLERS[event.type](play, event, contract)
    except DomainError as exc:
        play.refuse(event, event.date, exc.message)


# --- the clock -------------------------------------------------------------------------------


@contextmanager
def _quiet_daily_log() -> Iterator[None]:
    """The daily jobs log one line per day for the operator's monitoring; a simulated decade
    would print thousands of them."""
    logger = logging.getLogger("raccord.contracts.daily")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def simulate(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """Play ``scenario`` (the JSON of SIMULATOR.md, already decoded) and return its result.

    Runs on the current database, which must hold no customer: the command gives it a
    throw-away one; the tests give it the test database. Raises ``ScenarioError`` for a
    scenario that cannot be played."""
    parsed = scenario_parse(scenario)
    if Customer.objects.exists():
        raise NotEmptyDatabase(
            "the simulator needs a database without customers (use `raccord simulate`)"
        )
    with _quiet_daily_log():
        return _simulate(parsed)


def _simulate(parsed: Scenario) -> dict[str, Any]:
    play = _Play(scenario=parsed, world=_world_build(parsed))
    policy = Policy.get()
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in parsed.events:
        by_day[event.date].append(event)
    day = parsed.start
    while day <= parsed.until:
        # The order of a simulated day: its events, the daily jobs, then the monthly run.
        for event in by_day.get(day, ()):
            _event_play(play, event)
        report = daily_run(on=day, actor=SYSTEM)
        for message in report.errors:
            play.refuse(None, day, message, kind="daily")
        if run_date_of(day, policy) == day:
            billing_run(month=day.replace(day=1), at=_noon(day), render_pdfs=False)
        day += timedelta(days=1)
    assert play.contract is not None
    return simulation_result(contract_id=play.contract.pk, errors=play.errors)
