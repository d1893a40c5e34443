"""Reading a scenario (SIMULATOR.md): every field checked before anything runs.

A scenario that cannot be played (unknown offer, event out of order, bad IBAN, unknown field,
unknown event type, bad date…) raises ``ScenarioError`` naming the place at fault; nothing here
touches the database, so the command can refuse a scenario before it builds a throw-away
database. Whether an event is *allowed* by the rules (a withdrawal after the deadline, a
gesture for a short outage) is not decided here: the services decide it while the scenario
plays.

Keys starting with ``_`` are comments (``"_why"``: the hand arithmetic of an expected output)
and are ignored at every level."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import BooleanField, Field

from raccord.core.errors import DomainError
from raccord.core.models import Policy
from raccord.payments.iban import iban_check

PARIS = ZoneInfo("Europe/Paris")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?$")
AMOUNT_RE = re.compile(r"^-?\d{1,8}(\.\d{1,2})?$")
RATE_RE = re.compile(r"^0(\.\d{1,4})?$")
# A simulated life longer than this is a typo in a date, not a scenario.
MAX_DAYS = 20 * 366
COMMITMENTS = (0, 12, 24)  # C7
INELIGIBILITY_SOURCES = ("study", "installer")


class ScenarioError(Exception):
    """The scenario cannot be played; ``message`` says where and why (French, for the agent)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = f"{where} : {message}" if where else message
        super().__init__(self.message)


@dataclass(frozen=True)
class OfferSpec:
    code: str
    label: str
    monthly_price: Decimal
    setup_fee: Decimal
    commitment_months: int
    termination_fee: Decimal
    change_fee: Decimal
    subsidised_equipment: bool
    vat_rate: Decimal
    setup_subsidy: Decimal
    # Equipment models lent with the offer; None: every model of the catalogue.
    equipment: tuple[str, ...] | None


@dataclass(frozen=True)
class OptionSpec:
    code: str
    label: str
    monthly_price: Decimal
    vat_rate: Decimal
    # Offers the option can be added to; None: every offer.
    offers: tuple[str, ...] | None


@dataclass(frozen=True)
class EquipmentSpec:
    model: str
    label: str
    non_return_fee: Decimal
    vat_rate: Decimal
    price: Decimal


@dataclass(frozen=True)
class Event:
    index: int
    date: date
    type: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)


@dataclass(frozen=True)
class Scenario:
    offers: tuple[OfferSpec, ...]
    options: tuple[OptionSpec, ...]
    equipment: tuple[EquipmentSpec, ...]
    policy: Mapping[str, Any]
    payment_method: str
    iban: str
    express_start: bool
    installation_mode: str
    events: tuple[Event, ...]
    until: date

    @property
    def start(self) -> date:
        return self.events[0].date

    def offer(self, code: str) -> OfferSpec:
        return next(o for o in self.offers if o.code == code)


# --- values ----------------------------------------------------------------------------------


def _fields(
    where: str, raw: Any, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ScenarioError(where, "un objet JSON est attendu.")
    data = {k: v for k, v in raw.items() if not (isinstance(k, str) and k.startswith("_"))}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioError(
            where,
            f"champ inconnu « {unknown[0]} » (champs possibles : {', '.join(sorted(allowed))}).",
        )
    missing = sorted(required - set(data))
    if missing:
        raise ScenarioError(where, f"champ obligatoire manquant « {missing[0]} ».")
    return data


def _date(where: str, value: Any) -> date:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ScenarioError(where, f"date attendue au format AAAA-MM-JJ, reçu {value!r}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ScenarioError(where, f"date impossible : {value}.") from None


def _datetime(where: str, value: Any) -> datetime:
    if not isinstance(value, str) or not DATETIME_RE.match(value):
        raise ScenarioError(
            where, f"date et heure attendues au format AAAA-MM-JJTHH:MM, reçu {value!r}."
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ScenarioError(where, f"date et heure impossibles : {value}.") from None
    # Outages are typed in Paris time (S1).
    return moment.replace(tzinfo=PARIS) if moment.tzinfo is None else moment.astimezone(PARIS)


def _amount(where: str, value: Any) -> Decimal:
    # Amounts are strings (M1): a JSON number would already be a float.
    if not isinstance(value, str) or not AMOUNT_RE.match(value):
        raise ScenarioError(
            where, f"montant attendu sous forme de texte avec 2 décimales au plus, reçu {value!r}."
        )
    amount = Decimal(value).quantize(Decimal("0.01"))
    if amount < 0:
        raise ScenarioError(where, f"le montant ne peut pas être négatif ({value}).")
    return amount


def _rate(where: str, value: Any) -> Decimal:
    if not isinstance(value, str) or not RATE_RE.match(value):
        raise ScenarioError(where, f'taux de TVA attendu comme "0.20" (texte), reçu {value!r}.')
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already refuses it
        raise ScenarioError(where, f"taux de TVA invalide : {value}.") from None


def _text(where: str, value: Any, *, max_length: int = 200, blank: bool = False) -> str:
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise ScenarioError(where, "texte non vide attendu.")
    if len(value) > max_length:
        raise ScenarioError(where, f"{max_length} caractères au plus.")
    return value.strip()


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(where, f"true ou false attendu, reçu {value!r}.")
    return value


def _codes(where: str, value: Any, known: set[str], what: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ScenarioError(where, "une liste de codes est attendue.")
    for index, code in enumerate(value):
        if not isinstance(code, str) or code not in known:
            raise ScenarioError(
                f"{where}[{index}]",
                f"{what} « {code} » (le catalogue du scénario a : "
                f"{', '.join(sorted(known)) or 'rien'}).",
            )
    return tuple(value)


def _code(where: str, value: Any, known: set[str], what: str) -> str:
    if not isinstance(value, str) or value not in known:
        raise ScenarioError(
            where,
            f"{what} « {value} » (le catalogue du scénario a : "
            f"{', '.join(sorted(known)) or 'rien'}).",
        )
    return value


def _iban(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ScenarioError(where, "IBAN attendu sous forme de texte.")
    try:
        return iban_check(value).iban
    except DomainError as exc:
        raise ScenarioError(where, exc.message) from None


# --- catalogue and policy --------------------------------------------------------------------

OFFER_FIELDS = {
    "code",
    "label",
    "monthly_price",
    "setup_fee",
    "commitment_months",
    "termination_fee",
    "change_fee",
    "subsidised_equipment",
    "vat_rate",
    "setup_subsidy",
    "equipment",
}


def _slug(where: str, value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[-A-Za-z0-9_]{1,30}$", value):
        raise ScenarioError(where, f"code attendu (lettres, chiffres, - ou _), reçu {value!r}.")
    return value


def _catalog(
    raw: Any,
) -> tuple[tuple[OfferSpec, ...], tuple[OptionSpec, ...], tuple[EquipmentSpec, ...]]:
    data = _fields("catalog", raw, {"offers", "options", "equipment"}, {"offers"})
    equipment: list[EquipmentSpec] = []
    for index, item in enumerate(data.get("equipment", []) or []):
        where = f"catalog.equipment[{index}]"
        spec = _fields(
            where, item, {"model", "label", "non_return_fee", "vat_rate", "price"}, {"model"}
        )
        model = _slug(f"{where}.model", spec["model"])
        equipment.append(
            EquipmentSpec(
                model=model,
                label=_text(f"{where}.label", spec.get("label", model)),
                non_return_fee=_amount(
                    f"{where}.non_return_fee", spec.get("non_return_fee", "0.00")
                ),
                vat_rate=_rate(f"{where}.vat_rate", spec.get("vat_rate", "0.20")),
                price=_amount(f"{where}.price", spec.get("price", "0.00")),
            )
        )
    models = {e.model for e in equipment}
    if len(models) != len(equipment):
        raise ScenarioError("catalog.equipment", "deux modèles portent le même code.")
    offers: list[OfferSpec] = []
    if not isinstance(data["offers"], list) or not data["offers"]:
        raise ScenarioError("catalog.offers", "au moins une offre est attendue.")
    for index, item in enumerate(data["offers"]):
        where = f"catalog.offers[{index}]"
        spec = _fields(where, item, OFFER_FIELDS, {"code", "monthly_price"})
        code = _slug(f"{where}.code", spec["code"])
        months = spec.get("commitment_months", 0)
        if months not in COMMITMENTS or isinstance(months, bool):
            raise ScenarioError(f"{where}.commitment_months", "0, 12 ou 24 mois (C7).")
        offers.append(
            OfferSpec(
                code=code,
                label=_text(f"{where}.label", spec.get("label", code)),
                monthly_price=_amount(f"{where}.monthly_price", spec["monthly_price"]),
                setup_fee=_amount(f"{where}.setup_fee", spec.get("setup_fee", "0.00")),
                commitment_months=months,
                termination_fee=_amount(
                    f"{where}.termination_fee", spec.get("termination_fee", "0.00")
                ),
                change_fee=_amount(f"{where}.change_fee", spec.get("change_fee", "0.00")),
                subsidised_equipment=_bool(
                    f"{where}.subsidised_equipment", spec.get("subsidised_equipment", False)
                ),
                vat_rate=_rate(f"{where}.vat_rate", spec.get("vat_rate", "0.20")),
                setup_subsidy=_amount(f"{where}.setup_subsidy", spec.get("setup_subsidy", "0.00")),
                equipment=_codes(f"{where}.equipment", spec["equipment"], models, "modèle inconnu")
                if "equipment" in spec
                else None,
            )
        )
    offer_codes = {o.code for o in offers}
    if len(offer_codes) != len(offers):
        raise ScenarioError("catalog.offers", "deux offres portent le même code.")
    options: list[OptionSpec] = []
    for index, item in enumerate(data.get("options", []) or []):
        where = f"catalog.options[{index}]"
        spec = _fields(
            where,
            item,
            {"code", "label", "monthly_price", "vat_rate", "offers"},
            {"code", "monthly_price"},
        )
        code = _slug(f"{where}.code", spec["code"])
        options.append(
            OptionSpec(
                code=code,
                label=_text(f"{where}.label", spec.get("label", code)),
                monthly_price=_amount(f"{where}.monthly_price", spec["monthly_price"]),
                vat_rate=_rate(f"{where}.vat_rate", spec.get("vat_rate", "0.20")),
                offers=_codes(f"{where}.offers", spec["offers"], offer_codes, "offre inconnue")
                if "offers" in spec
                else None,
            )
        )
    if len({o.code for o in options}) != len(options):
        raise ScenarioError("catalog.options", "deux options portent le même code.")
    return tuple(offers), tuple(options), tuple(equipment)


def _policy(raw: Any) -> dict[str, Any]:
    """Policy overrides, each checked by the model field itself (type, bounds, choices)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ScenarioError("policy", "un objet JSON est attendu.")
    result: dict[str, Any] = {}
    for name, value in raw.items():
        if name.startswith("_"):
            continue
        where = f"policy.{name}"
        try:
            model_field = Policy._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if not isinstance(model_field, Field) or name == "id":
            raise ScenarioError(where, "politique inconnue.")
        # true/false only for a yes/no policy, and never a number typed as true
        if isinstance(value, bool) != isinstance(model_field, BooleanField):
            raise ScenarioError(where, f"valeur invalide {value!r}.")
        try:
            result[name] = model_field.clean(value, None)
        except ValidationError as exc:
            raise ScenarioError(where, " ".join(str(m) for m in exc.messages)) from None
    return result


# --- events ----------------------------------------------------------------------------------

Parser = Callable[[str, Any], Any]


@dataclass(frozen=True)
class _Kind:
    required: dict[str, Parser] = field(default_factory=dict)
    optional: dict[str, Parser] = field(default_factory=dict)


def _nullable_date(where: str, value: Any) -> date | None:
    return None if value is None else _date(where, value)


def _event_kinds(offers: set[str], options: set[str], models: set[str]) -> dict[str, _Kind]:
    def offer(where: str, value: Any) -> str:
        return _code(where, value, offers, "offre inconnue")

    def option_list(where: str, value: Any) -> tuple[str, ...]:
        return _codes(where, value, options, "option inconnue")

    def model_list(where: str, value: Any) -> tuple[str, ...]:
        codes = _codes(where, value, models, "modèle d'équipement inconnu")
        if not codes:
            raise ScenarioError(where, "au moins un modèle est attendu.")
        return codes

    def lent_list(where: str, value: Any) -> tuple[str, ...]:
        # What the delivery or the installer's visit leaves with the subscriber: an empty list
        # says nothing is lent (a line without equipment, or units the subscriber owns).
        return _codes(where, value, models, "modèle d'équipement inconnu")

    def source(where: str, value: Any) -> str:
        if value not in INELIGIBILITY_SOURCES:
            raise ScenarioError(where, "« study » (étude technique) ou « installer » attendu.")
        return str(value)

    def text(where: str, value: Any) -> str:
        return _text(where, value, max_length=300)

    return {
        "signup": _Kind(required={"offer": offer}, optional={"options": option_list}),
        "equipment_received": _Kind(optional={"equipment": lent_list}),
        "installation": _Kind(optional={"equipment": lent_list}),
        "first_connection": _Kind(),
        "ineligible": _Kind(optional={"source": source, "note": text}),
        "cancellation": _Kind(optional={"reason": text}),
        "withdrawal": _Kind(optional={"reason": text}),
        "offer_change": _Kind(required={"offer": offer}, optional={"effective_date": _date}),
        "bank_details_change": _Kind(required={"iban": _iban}),
        "outage": _Kind(required={"start": _datetime, "end": _datetime}),
        "gesture_request": _Kind(),
        "termination_request": _Kind(
            optional={"requested_date": _nullable_date, "reason": text, "proof": text}
        ),
        "equipment_exchange": _Kind(
            required={"equipment": model_list}, optional={"delivered": _date}
        ),
        "equipment_returned": _Kind(
            required={"equipment": model_list}, optional={"deposit_date": _date}
        ),
        "cheque_received": _Kind(required={"amount": _amount}),
    }


def _events(
    raw: Any, *, offers: set[str], options: set[str], models: set[str]
) -> tuple[Event, ...]:
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("events", "une liste d'événements non vide est attendue.")
    kinds = _event_kinds(offers, options, models)
    events: list[Event] = []
    previous: date | None = None
    for index, item in enumerate(raw):
        where = f"events[{index}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(where, "un objet JSON est attendu.")
        kind_name = item.get("type")
        if kind_name not in kinds:
            raise ScenarioError(
                f"{where}.type",
                f"type d'événement inconnu « {kind_name} » (types possibles : "
                f"{', '.join(sorted(kinds))}).",
            )
        kind = kinds[kind_name]
        where = f"{where} ({kind_name})"
        spec = _fields(
            where,
            item,
            {"date", "type", *kind.required, *kind.optional},
            {"date", *kind.required},
        )
        day = _date(f"{where}.date", spec["date"])
        if previous is not None and day < previous:
            raise ScenarioError(
                f"{where}.date",
                f"événement hors d'ordre : {day.isoformat()} vient après le "
                f"{previous.isoformat()} ; les événements se suivent dans l'ordre des dates.",
            )
        previous = day
        data = {
            name: parser(f"{where}.{name}", spec[name])
            for name, parser in (*kind.required.items(), *kind.optional.items())
            if name in spec
        }
        if kind_name == "outage" and data["end"] <= data["start"]:
            raise ScenarioError(f"{where}.end", "la fin de la coupure doit suivre son début.")
        events.append(Event(index=index, date=day, type=kind_name, data=data))
    if events[0].type != "signup":
        raise ScenarioError("events[0]", "le premier événement est la souscription (« signup »).")
    extra = next((e for e in events[1:] if e.type == "signup"), None)
    if extra is not None:
        raise ScenarioError(
            f"events[{extra.index}]", "un scénario suit un seul abonné : une seule souscription."
        )
    return tuple(events)


# --- the scenario ----------------------------------------------------------------------------


def scenario_parse(raw: Any) -> Scenario:
    """Check a scenario read from JSON; raises ``ScenarioError`` at the first fault."""
    data = _fields(
        "scénario",
        raw,
        {"catalog", "policy", "subscriber", "events", "until"},
        {"catalog", "subscriber", "events", "until"},
    )
    offers, options, equipment = _catalog(data["catalog"])
    policy = _policy(data.get("policy"))
    subscriber = _fields(
        "subscriber",
        data["subscriber"],
        {"payment_method", "iban", "express_start", "installation_mode"},
        {"payment_method"},
    )
    method = subscriber["payment_method"]
    if method not in ("sepa", "cheque"):
        raise ScenarioError("subscriber.payment_method", "« sepa » ou « cheque » attendu.")
    iban = ""
    if method == "sepa":
        if "iban" not in subscriber:
            raise ScenarioError("subscriber.iban", "un IBAN est attendu pour le prélèvement.")
        iban = _iban("subscriber.iban", subscriber["iban"])
    elif "iban" in subscriber:
        raise ScenarioError("subscriber.iban", "pas d'IBAN pour un paiement par chèque.")
    express = _bool("subscriber.express_start", subscriber.get("express_start", True))
    events = _events(
        data["events"],
        offers={o.code for o in offers},
        options={o.code for o in options},
        models={e.model for e in equipment},
    )
    mode = subscriber.get("installation_mode")
    if mode is None:
        # An installer visit in the scenario means the order chose that mode (C2).
        mode = "installer" if any(e.type == "installation" for e in events) else "kit"
    elif mode not in ("kit", "installer"):
        raise ScenarioError("subscriber.installation_mode", "« kit » ou « installer » attendu.")
    until = _date("until", data["until"])
    if until < events[-1].date:
        raise ScenarioError(
            "until", f"la simulation s'arrête le {until.isoformat()}, avant le dernier événement."
        )
    if until - events[0].date > timedelta(days=MAX_DAYS):
        raise ScenarioError("until", "une simulation couvre 20 ans au plus.")
    return Scenario(
        offers=offers,
        options=options,
        equipment=equipment,
        policy=policy,
        payment_method=method,
        iban=iban,
        express_start=express,
        installation_mode=mode,
        events=events,
        until=until,
    )
