"""A scenario that cannot be played is refused before anything runs, with the place at fault
(SIMULATOR.md: unknown offer, event out of order, bad IBAN, unknown field…)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from raccord.simulator.scenario import ScenarioError, scenario_parse

Breaker = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Breaker:
    def breaker(scenario: dict[str, Any]) -> None:
        target: Any = scenario
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value

    return breaker


def _append_event(event: dict[str, Any]) -> Breaker:
    return lambda scenario: scenario["events"].append(event)


BROKEN: dict[str, tuple[Breaker, str]] = {
    "unknown offer": (_set("events.0.offer", "THD99"), "offre inconnue « THD99 »"),
    "unknown offer in a change": (
        _append_event({"date": "2027-02-10", "type": "offer_change", "offer": "FIBRE"}),
        "« FIBRE »",
    ),
    "unknown option": (_set("events.0.options", ["TV"]), "option inconnue « TV »"),
    "unknown equipment model": (
        _set("events.1.equipment", ["BOX"]),
        "modèle d'équipement inconnu « BOX »",
    ),
    "event out of order": (_set("events.2.date", "2027-01-10"), "hors d'ordre"),
    "bad IBAN": (_set("subscriber.iban", "FR7630006000011234567890188"), "IBAN n'est pas valide"),
    "bad IBAN in a change": (
        _append_event({"date": "2027-02-10", "type": "bank_details_change", "iban": "FR00"}),
        "IBAN n'est pas valide",
    ),
    "unknown top-level field": (_set("currency", "EUR"), "champ inconnu « currency »"),
    "unknown event field": (_set("events.2.source", "radius"), "champ inconnu « source »"),
    "unknown offer field": (_set("catalog.offers.0.speed", 30), "champ inconnu « speed »"),
    "unknown event type": (
        _append_event({"date": "2027-02-10", "type": "move"}),
        "type d'événement inconnu « move »",
    ),
    "impossible date": (_set("events.1.date", "2027-02-30"), "date impossible"),
    "badly written date": (_set("events.1.date", "12/01/2027"), "AAAA-MM-JJ"),
    "amount as a number": (_set("catalog.offers.0.monthly_price", 29.9), "sous forme de texte"),
    "amount with 3 decimals": (_set("catalog.offers.0.setup_fee", "49.005"), "2 décimales"),
    "commitment of 36 months": (_set("catalog.offers.0.commitment_months", 36), "C7"),
    "unknown policy": (_set("policy", {"invoice_days": 2}), "politique inconnue"),
    "policy out of bounds": (_set("policy", {"invoice_day": 31}), "policy.invoice_day"),
    "first event is not the sign-up": (
        lambda s: s["events"].insert(0, {"date": "2027-01-01", "type": "first_connection"}),
        "le premier événement est la souscription",
    ),
    "two sign-ups": (
        _append_event({"date": "2027-02-10", "type": "signup", "offer": "THD30"}),
        "une seule souscription",
    ),
    "until before the last event": (_set("until", "2027-01-15"), "avant le dernier événement"),
    "missing IBAN for SEPA": (
        _set("subscriber", {"payment_method": "sepa"}),
        "un IBAN est attendu",
    ),
    "outage ending before it starts": (
        _append_event(
            {
                "date": "2027-02-10",
                "type": "outage",
                "start": "2027-02-05T10:00",
                "end": "2027-02-04T10:00",
            }
        ),
        "la fin de la coupure doit suivre son début",
    ),
    "an exchange of nothing": (
        _append_event({"date": "2027-02-10", "type": "equipment_exchange", "equipment": []}),
        "au moins un modèle est attendu",
    ),
    "a return of nothing": (
        _append_event({"date": "2027-02-10", "type": "equipment_returned", "equipment": []}),
        "au moins un modèle est attendu",
    ),
    "missing required event field": (
        _append_event({"date": "2027-02-10", "type": "equipment_exchange"}),
        "champ obligatoire manquant « equipment »",
    ),
}


def test_the_minimal_scenario_is_valid(scenario: dict[str, Any]) -> None:
    parsed = scenario_parse(scenario)
    assert parsed.start.isoformat() == "2027-01-05"
    assert parsed.installation_mode == "kit"
    assert parsed.express_start is True  # C2 default of SIMULATOR.md


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_scenario_is_refused_with_the_place_at_fault(
    case: str, scenario: dict[str, Any]
) -> None:
    # given a valid scenario broken in one place
    breaker, message = BROKEN[case]
    breaker(scenario)

    # when it is read, then it is refused, saying where and why
    with pytest.raises(ScenarioError) as caught:
        scenario_parse(scenario)
    assert message in caught.value.message


def test_comment_keys_are_ignored_at_every_level(scenario: dict[str, Any]) -> None:
    scenario["_why"] = ["hand arithmetic"]
    scenario["catalog"]["offers"][0]["_note"] = "prix de 2027"
    scenario["events"][0]["_why"] = "souscription en ligne"
    assert scenario_parse(scenario).offers[0].code == "THD30"


def test_an_installer_visit_means_the_installer_mode__C2(scenario: dict[str, Any]) -> None:
    scenario["events"][1] = {"date": "2027-01-12", "type": "installation"}
    assert scenario_parse(scenario).installation_mode == "installer"


def test_a_policy_override_is_converted_by_the_model_field(scenario: dict[str, Any]) -> None:
    scenario["policy"] = {"invoice_day": 4, "legitimate_reasons": ["décès"]}
    assert scenario_parse(scenario).policy == {"invoice_day": 4, "legitimate_reasons": ["décès"]}


@pytest.mark.parametrize("kind", ["equipment_received", "installation"])
def test_a_reception_may_lend_no_equipment__S2(kind: str, scenario: dict[str, Any]) -> None:
    # « nothing lent » is said with an empty list; without the key the offer's equipment is lent
    scenario["events"][1] = {"date": "2027-01-12", "type": kind, "equipment": []}
    assert scenario_parse(scenario).events[1].data == {"equipment": ()}
    del scenario["events"][1]["equipment"]
    assert "equipment" not in scenario_parse(scenario).events[1].data
