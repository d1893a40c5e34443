"""A scenario (SIMULATOR.md) rebuilt from a real contract, for the agents' « what if ».

The scenario reproduces the contract's life so far from what the database holds: the
catalogue entries at the prices the contract was signed with (the contract's copies and its
``Subscription`` rows, never today's catalogue), the operator's current policy, the subscriber's
payment method and the events rebuilt from the contract's dates and its history. The agent's
hypothetical events are added after it, and the whole is checked by the simulator's own
``scenario_parse``. Nothing is written; the real IBAN never leaves the database (a fixed test
IBAN stands for it: the simulated documents show its masked form)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from raccord.billing.models import LineKind, PendingItem
from raccord.catalog.models import EquipmentModel, Offer
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.termination import termination_effective_date
from raccord.core.models import Event, Policy
from raccord.eligibility.services import eligibility_check
from raccord.equipment.models import EquipmentReturn, EquipmentUnit
from raccord.simulator.scenario import scenario_parse

PARIS = ZoneInfo("Europe/Paris")
# A valid French test IBAN (La Banque Postale's documentation example): the subscriber's real
# IBAN is never put in a scenario, which leaves the database for a child process.
TEST_IBAN = "FR7630006000011234567890189"
# Within a day, the order a real life follows; the agent's hypothetical events come last.
_RANK = {
    "signup": 0,
    "installation": 1,
    "equipment_received": 1,
    "first_connection": 2,
    "ineligible": 3,
    "cancellation": 3,
    "offer_change": 4,
    "outage": 5,
    "gesture_request": 6,
    "withdrawal": 7,
    "termination_request": 7,
    "equipment_exchange": 8,
    "equipment_returned": 9,
}


def _money(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


def _rate(rate: Decimal) -> str:
    value = Decimal(rate)
    two = value.quantize(Decimal("0.01"))
    return str(two) if two == value else str(value.normalize())


def _local_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def _policy() -> dict[str, Any]:
    """Every policy value in force, as JSON the scenario check accepts."""
    # Policy.get() would create the row on a database that has none: read, never write.
    policy = Policy.objects.filter(pk=1).first()
    if policy is None:
        policy = Policy(legitimate_reasons=list(Policy.DEFAULT_LEGITIMATE_REASONS))
    values: dict[str, Any] = {}
    for model_field in Policy._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = getattr(policy, model_field.attname)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        values[model_field.name] = value
    return values


def _equipment_codes(offer: Offer | None) -> list[str]:
    if offer is None:
        return []
    return list(offer.equipment.order_by("code").values_list("code", flat=True))


def _offer_entry(
    *,
    contract: Contract,
    code: str,
    subscription: Subscription | None,
    catalogue: Offer | None,
    monthly_price: Decimal | None = None,
    is_signup_offer: bool,
) -> dict[str, Any]:
    """One offer of the scenario: the contract's copies for the offer in force, the price of
    its subscription row, the catalogue only for what the contract does not copy."""
    current = contract.offer.code == code
    if monthly_price is None:
        monthly_price = (
            subscription.monthly_price
            if subscription is not None
            else contract.monthly_price
            if current
            else catalogue.monthly_price
            if catalogue is not None
            else Decimal("0")
        )
    vat = (
        subscription.vat_rate
        if subscription is not None
        else contract.vat_rate
        if current or catalogue is None
        else catalogue.vat_rate
    )

    def copy(name: str, default: Any) -> Any:
        if current:
            return getattr(contract, name)
        return getattr(catalogue, name) if catalogue is not None else default

    entry: dict[str, Any] = {
        "code": code,
        "label": subscription.label
        if subscription is not None
        else contract.offer_label
        if current
        else catalogue.label
        if catalogue is not None
        else code,
        "monthly_price": _money(monthly_price),
        # Only the offer signed for pays a set-up fee (C9: a change pays at most a change fee).
        "setup_fee": _money(contract.setup_fee if is_signup_offer else Decimal("0")),
        "setup_subsidy": _money(contract.setup_subsidy if is_signup_offer else Decimal("0")),
        "commitment_months": int(copy("commitment_months", 0)),
        "termination_fee": _money(copy("termination_fee", Decimal("0"))),
        "change_fee": _money(
            catalogue.change_fee if catalogue is not None and not is_signup_offer else Decimal("0")
        ),
        "subsidised_equipment": bool(copy("subsidised_equipment", False)),
        "vat_rate": _rate(vat),
        "equipment": _equipment_codes(catalogue),
    }
    return entry


def _lent_models(contract: Contract) -> list[str]:
    """Models of the units lent to the contract, still with it or already awaited back."""
    codes = set(
        EquipmentUnit.objects.filter(contract=contract).values_list("model__code", flat=True)
    ) | set(
        EquipmentReturn.objects.filter(contract=contract).values_list(
            "unit__model__code", flat=True
        )
    )
    return sorted(codes)


def _exchanges_rebuilt(contract: Contract) -> list[dict[str, Any]]:
    """S2: each exchange, from the returns it opened (one per model replaced, opened the day the
    replacements were delivered); the models replaced the same day make one exchange."""
    exchanged: dict[date, list[str]] = {}
    for opened_on, code in (
        EquipmentReturn.objects.filter(contract=contract, reason=EquipmentReturn.Reason.EXCHANGE)
        .order_by("opened_on", "pk")
        .values_list("opened_on", "unit__model__code")
    ):
        exchanged.setdefault(opened_on, []).append(code)
    return [
        {
            "date": delivered.isoformat(),
            "type": "equipment_exchange",
            "equipment": codes,
            "delivered": delivered.isoformat(),
        }
        for delivered, codes in exchanged.items()
    ]


def _events_rebuilt(contract: Contract, offers: list[Subscription]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    signup_offer = offers[0].product if offers else contract.offer.code
    events.append(
        {
            "date": contract.signup_date.isoformat(),
            "type": "signup",
            "offer": signup_offer,
            "options": [o.option.code for o in contract.options.all()],
        }
    )
    if contract.equipment_received_date is not None:
        kind = (
            "installation"
            if contract.installation_mode == Contract.InstallationMode.INSTALLER
            else "equipment_received"
        )
        received: dict[str, Any] = {
            "date": contract.equipment_received_date.isoformat(),
            "type": kind,
        }
        # The models really lent, none if none was (left out, the simulator would lend the
        # offer's equipment and could charge a non-return fee the real line never owes).
        received["equipment"] = _lent_models(contract)
        events.append(received)
    if contract.activation_date is not None:
        events.append({"date": contract.activation_date.isoformat(), "type": "first_connection"})
    history = Event.objects.filter(
        customer_id=contract.customer_id, subject_type="contract", subject_id=contract.pk
    ).order_by("at", "pk")
    requested_on: dict[tuple[str, str], date] = {}
    for logged in history:
        if logged.verb == "contract.offer_changed":
            key = (str(logged.data.get("to_offer")), str(logged.data.get("effective_date")))
            requested_on[key] = _local_day(logged.at)
        elif logged.verb == "contract.ineligible":
            events.append({"date": _local_day(logged.at).isoformat(), "type": "ineligible"})
    for subscription in offers[1:]:
        effective = subscription.start_date
        asked = requested_on.get((subscription.product, effective.isoformat()), effective)
        events.append(
            {
                "date": min(asked, effective).isoformat(),
                "type": "offer_change",
                "offer": subscription.product,
                "effective_date": effective.isoformat(),
            }
        )
    gestures = PendingItem.objects.filter(
        contract=contract, kind=LineKind.GESTURE, cancelled=False
    ).order_by("created_on", "pk")
    for gesture in gestures:
        start, end = gesture.data.get("outage_start"), gesture.data.get("outage_end")
        if not start or not end:
            continue
        events.append(
            {
                "date": gesture.created_on.isoformat(),
                "type": "outage",
                "start": datetime.fromisoformat(start).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
                "end": datetime.fromisoformat(end).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
            }
        )
        events.append({"date": gesture.created_on.isoformat(), "type": "gesture_request"})
    if contract.cancelled_on is not None:
        event: dict[str, Any] = {"date": contract.cancelled_on.isoformat(), "type": "cancellation"}
        if contract.cancel_reason.strip():
            event["reason"] = contract.cancel_reason.strip()[:300]
        events.append(event)
    if contract.withdrawn_on is not None:
        events.append({"date": contract.withdrawn_on.isoformat(), "type": "withdrawal"})
    if contract.termination_requested_on is not None:
        asked_on = contract.termination_requested_on
        effective_on = contract.termination_effective_date
        requested: date | None = None
        if effective_on is not None and effective_on != termination_effective_date(
            requested_on=asked_on
        ):
            requested = effective_on
        event = {
            "date": asked_on.isoformat(),
            "type": "termination_request",
            "requested_date": requested.isoformat() if requested else None,
        }
        if contract.legitimate_reason:
            event["reason"] = contract.legitimate_reason
            if contract.legitimate_reason_proof:
                event["proof"] = contract.legitimate_reason_proof[:300]
        events.append(event)
    events += _exchanges_rebuilt(contract)
    returns = (
        EquipmentReturn.objects.filter(contract=contract, returned_on__isnull=False)
        .select_related("unit__model")
        .order_by("returned_on", "pk")
    )
    for item in returns:
        assert item.returned_on is not None
        returned: dict[str, Any] = {
            "date": item.returned_on.isoformat(),
            "type": "equipment_returned",
            "equipment": [item.unit.model.code],
        }
        if item.deposit_date is not None:
            returned["deposit_date"] = item.deposit_date.isoformat()
        events.append(returned)
    return events


def scenario_from_contract(
    *, contract: Contract, until: date, extra_events: list[dict[str, Any]]
) -> dict[str, Any]:
    """The scenario of ``contract``'s real life so far followed by ``extra_events`` (the
    agent's hypotheses), played up to ``until``. Pure read of the database; raises the
    simulator's ``ScenarioError`` when the result cannot be played."""
    subscriptions = list(contract.subscriptions.order_by("start_date", "pk"))
    offer_rows = [s for s in subscriptions if s.kind == Subscription.Kind.OFFER]
    events = _events_rebuilt(contract, offer_rows)
    signup_code = str(events[0]["offer"])

    codes: list[str] = []
    for code in [signup_code, *(s.product for s in offer_rows), contract.offer.code]:
        if code not in codes:
            codes.append(code)
    hypothetical_offers = [
        str(e["offer"])
        for e in extra_events
        if isinstance(e, Mapping) and e.get("type") == "offer_change" and e.get("offer")
    ]
    catalogue = {o.code: o for o in Offer.objects.filter(code__in=[*codes, *hypothetical_offers])}
    offers = []
    for code in codes:
        first = next((s for s in offer_rows if s.product == code), None)
        offers.append(
            _offer_entry(
                contract=contract,
                code=code,
                subscription=first,
                catalogue=catalogue.get(code),
                is_signup_offer=code == signup_code,
            )
        )
    # An offer the agent tries is sold at its local price at the installation address (C1).
    local = eligibility_check(address=contract.installation_address)
    for code in hypothetical_offers:
        if code in codes or code not in catalogue:
            continue  # an unknown offer is left to the scenario check to name
        codes.append(code)
        eligible = local.offer(code)
        offers.append(
            _offer_entry(
                contract=contract,
                code=code,
                subscription=None,
                catalogue=catalogue[code],
                monthly_price=eligible.monthly_price if eligible else None,
                is_signup_offer=False,
            )
        )

    options: dict[str, dict[str, Any]] = {}
    for chosen in contract.options.select_related("option"):
        options[chosen.option.code] = {
            "code": chosen.option.code,
            "label": chosen.label,
            "monthly_price": _money(chosen.monthly_price),
            "vat_rate": _rate(chosen.vat_rate),
        }
    for subscription in subscriptions:
        if subscription.kind == Subscription.Kind.OPTION and subscription.product not in options:
            options[subscription.product] = {
                "code": subscription.product,
                "label": subscription.label,
                "monthly_price": _money(subscription.monthly_price),
                "vat_rate": _rate(subscription.vat_rate),
            }

    models = sorted(
        {code for entry in offers for code in entry["equipment"]} | set(_lent_models(contract))
    )
    equipment = [
        {
            "model": model.code,
            "label": model.label,
            "non_return_fee": _money(model.non_return_fee),
            "vat_rate": _rate(model.vat_rate),
            "price": _money(model.price),
        }
        for model in EquipmentModel.objects.filter(code__in=models).order_by("code")
    ]

    subscriber: dict[str, Any] = {
        "payment_method": contract.payment_method,
        "express_start": contract.express_start,
        "installation_mode": contract.installation_mode,
    }
    if contract.payment_method == Contract.PaymentMethod.SEPA:
        subscriber["iban"] = TEST_IBAN

    tagged = [(e, 0, i) for i, e in enumerate(events)] + [
        (dict(e) if isinstance(e, Mapping) else e, 1, i) for i, e in enumerate(extra_events)
    ]

    def order(item: tuple[Any, int, int]) -> tuple[str, int, int, int]:
        event, hypothetical, index = item
        if not isinstance(event, Mapping):
            return ("", hypothetical, 0, index)
        return (
            str(event.get("date", "")),
            hypothetical,
            _RANK.get(event.get("type", ""), 99),
            index,
        )

    scenario: dict[str, Any] = {
        "catalog": {"offers": offers, "options": list(options.values()), "equipment": equipment},
        "policy": _policy(),
        "subscriber": subscriber,
        "events": [event for event, _h, _i in sorted(tagged, key=order)],
        "until": until.isoformat(),
    }
    scenario_parse(scenario)
    return scenario
