"""State of the online sign-up funnel (C2), kept in the session between steps.

The state is a dict keyed by the field names of ``SignupRequest`` holding what the person typed
(strings, lists, booleans: JSON-serialisable for the session). Each step is validated by the
matching ``signup_check_*`` function of ``raccord.contracts.signup``, the same checks the agents'
form and the API use, so the funnel owns no rule: it only remembers, parses and routes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from raccord.catalog.models import CGVVersion, Option
from raccord.contracts.signup import (
    SignupErrors,
    SignupRequest,
    signup_check_acceptance,
    signup_check_address,
    signup_check_delivery,
    signup_check_identity,
    signup_check_installation,
    signup_check_offer,
    signup_check_payment,
)
from raccord.core.errors import DomainError
from raccord.eligibility.models import Address, Premises
from raccord.eligibility.services import EligibleOffer
from raccord.payments.iban import CheckedIban

SESSION_KEY = "signup"
DONE_KEY = "signup_done"
CONFIRMED_KEY = "signup_confirmed"
LAST_REFERENCE_KEY = "signup_last_reference"
# How many confirmation pages one browser session may come back to.
CONFIRMED_KEEP = 5

REQUEST_FIELDS = {f.name for f in fields(SignupRequest)}


@dataclass(frozen=True)
class Step:
    slug: str
    title: StrOrPromise
    fields: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("offre", _("Offre et options"), ("offer_code", "option_codes")),
    Step(
        "coordonnees",
        _("Vos coordonnées"),
        ("civility", "first_name", "last_name", "email", "phone", "birth_date"),
    ),
    Step(
        "adresses",
        _("Adresses"),
        (
            "installation_complement",
            "delivery_same_as_installation",
            "delivery_name",
            "delivery_address",
            "delivery_postal_code",
            "delivery_city",
        ),
    ),
    Step("paiement", _("Paiement"), ("payment_method", "iban", "account_holder")),
    Step("installation", _("Installation"), ("installation_mode",)),
    Step("recapitulatif", _("Récapitulatif"), ("cgv_version_id", "cgv_accepted", "express_start")),
)
STEP_SLUGS = [step.slug for step in STEPS]
FIELD_STEP = {name: step.slug for step in STEPS for name in step.fields}
FIELD_STEP["address_id"] = "offre"


def step_get(slug: str) -> Step | None:
    return next((step for step in STEPS if step.slug == slug), None)


def step_index(slug: str) -> int:
    return STEP_SLUGS.index(slug)


# --- parsing what was posted ----------------------------------------------------------------

_DATE_FR = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_birth_date(raw: str) -> date | None:
    """ISO (what a date input sends) or JJ/MM/AAAA (what a person types without one)."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    match = _DATE_FR.match(raw)
    if match:
        day, month, year = (int(group) for group in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise DomainError(
        "Cette date n'existe pas : indiquez-la sous la forme JJ/MM/AAAA, par exemple 14/07/1985.",
        field="birth_date",
    )


def _checked(post: QueryDict, name: str) -> bool:
    return post.get(name, "") in {"1", "on", "true", "yes"}


def step_values(step: Step, post: QueryDict) -> dict[str, Any]:
    """The posted values of one step, as typed (only whitespace trimmed), for the session."""
    values: dict[str, Any] = {}
    for name in step.fields:
        if name == "option_codes":
            values[name] = [code.strip() for code in post.getlist(name) if code.strip()]
        elif name in {"cgv_accepted", "express_start"}:
            values[name] = _checked(post, name)
        elif name == "delivery_same_as_installation":
            values[name] = post.get(name, "1") != "0"
        elif name == "birth_date":
            # Kept in ISO form when it parses, so that a date input shows it again.
            raw = post.get(name, "").strip()
            try:
                parsed = parse_birth_date(raw)
            except DomainError:
                parsed = None
            values[name] = parsed.isoformat() if parsed else raw
        elif name == "cgv_version_id":
            raw = post.get(name, "")
            values[name] = int(raw) if raw.isdigit() else None
        else:
            values[name] = post.get(name, "").strip()
    return values


# --- the state in the session ---------------------------------------------------------------


class Funnel:
    """The sign-up in progress for one browser session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session

    @property
    def data(self) -> dict[str, Any]:
        stored = self.session.get(SESSION_KEY)
        return stored if isinstance(stored, dict) else {}

    @property
    def started(self) -> bool:
        return bool(self.data.get("address_id"))

    @property
    def done(self) -> list[str]:
        stored = self.session.get(DONE_KEY)
        return list(stored) if isinstance(stored, list) else []

    def start(self, *, address_id: int, offer_code: str) -> None:
        """Begin (or resume) a sign-up for an address. A different address starts afresh: the
        offers, prices and installation modes all depend on it."""
        data = self.data
        if data.get("address_id") != address_id or not data.get("signup_key"):
            # One key per funnel: signup_create is idempotent on it (double submit → one order).
            data = {"address_id": address_id, "signup_key": str(uuid.uuid4())}
            self.session[DONE_KEY] = []
        if offer_code and offer_code != data.get("offer_code"):
            data["offer_code"] = offer_code
            self.unmark("offre")
        self.session[SESSION_KEY] = data

    def save(self, values: dict[str, Any]) -> None:
        data = self.data
        data.update({k: v for k, v in values.items() if k in REQUEST_FIELDS})
        self.session[SESSION_KEY] = data

    def mark(self, slug: str) -> None:
        done = self.done
        if slug not in done:
            done.append(slug)
        self.session[DONE_KEY] = done

    def unmark(self, slug: str) -> None:
        self.session[DONE_KEY] = [s for s in self.done if s != slug]

    def finish(self, *, reference: str) -> None:
        """Forget what was typed (an IBAN has no business staying in a session) but remember the
        order, so that this browser, and only it, can see the confirmation page."""
        self.session.pop(SESSION_KEY, None)
        self.session.pop(DONE_KEY, None)
        confirmed = [r for r in self.session.get(CONFIRMED_KEY, []) if r != reference]
        self.session[CONFIRMED_KEY] = [*confirmed, reference][-CONFIRMED_KEEP:]
        self.session[LAST_REFERENCE_KEY] = reference

    def can_see(self, reference: str) -> bool:
        return reference in self.session.get(CONFIRMED_KEY, [])

    @property
    def last_reference(self) -> str | None:
        value = self.session.get(LAST_REFERENCE_KEY)
        return value if isinstance(value, str) else None

    def request(self) -> tuple[SignupRequest, list[DomainError]]:
        """A ``SignupRequest`` from the state, and the errors of values that cannot even be
        parsed (a birth date that does not exist)."""
        data = self.data
        errors: list[DomainError] = []
        try:
            birth_date = parse_birth_date(str(data.get("birth_date") or ""))
        except DomainError as error:
            errors.append(error)
            birth_date = None
        key = data.get("signup_key")
        request = SignupRequest(
            address_id=data.get("address_id"),
            offer_code=str(data.get("offer_code") or ""),
            option_codes=list(data.get("option_codes") or []),
            civility=str(data.get("civility") or ""),
            first_name=str(data.get("first_name") or ""),
            last_name=str(data.get("last_name") or ""),
            email=str(data.get("email") or ""),
            phone=str(data.get("phone") or ""),
            birth_date=birth_date,
            installation_complement=str(data.get("installation_complement") or ""),
            delivery_same_as_installation=bool(data.get("delivery_same_as_installation", True)),
            delivery_name=str(data.get("delivery_name") or ""),
            delivery_address=str(data.get("delivery_address") or ""),
            delivery_postal_code=str(data.get("delivery_postal_code") or ""),
            delivery_city=str(data.get("delivery_city") or ""),
            payment_method=str(data.get("payment_method") or ""),
            iban=str(data.get("iban") or ""),
            account_holder=str(data.get("account_holder") or ""),
            installation_mode=str(data.get("installation_mode") or ""),
            cgv_version_id=data.get("cgv_version_id"),
            cgv_accepted=bool(data.get("cgv_accepted")),
            express_start=bool(data.get("express_start")),
            signup_key=uuid.UUID(key) if key else None,
        )
        return request, errors


# --- checking steps --------------------------------------------------------------------------


@dataclass
class Checked:
    """What the checks found out along the way, for the pages to show."""

    address: Address | None = None
    eligible: EligibleOffer | None = None
    options: list[Option] = field(default_factory=list)
    iban: CheckedIban | None = None
    premises: Premises | None = None
    cgv: CGVVersion | None = None


def _collect(errors: list[DomainError], exc: DomainError) -> None:
    errors.extend(exc.errors if isinstance(exc, SignupErrors) else [exc])


def step_check(
    step: Step,
    *,
    request: SignupRequest,
    parse_errors: list[DomainError],
    on: date,
    checked: Checked,
) -> None:
    """Validate one step with the shared sign-up checks; raise ``SignupErrors`` with every
    field at fault. Fills ``checked`` with what later pages show (prices, bank, premises)."""
    errors = [e for e in parse_errors if e.field in step.fields]
    try:
        if checked.address is None:
            checked.address = signup_check_address(address_id=request.address_id)
        address = checked.address
        if step.slug == "offre":
            checked.eligible, checked.options = signup_check_offer(
                address=address, offer_code=request.offer_code, option_codes=request.option_codes
            )
        elif step.slug == "coordonnees":
            signup_check_identity(request=request, on=on)
        elif step.slug == "adresses":
            signup_check_delivery(request=request, address=address)
        elif step.slug == "paiement":
            checked.iban = signup_check_payment(request=request)
        elif step.slug == "installation":
            checked.premises = signup_check_installation(request=request, address=address)
        elif step.slug == "recapitulatif":
            checked.cgv = signup_check_acceptance(request=request, on=on)
    except DomainError as exc:
        _collect(errors, exc)
    if errors:
        raise SignupErrors(errors)


@dataclass
class Progress:
    """Where a person stands: the first step still to do, and why (errors of a step that was
    done once but no longer passes, e.g. the email got used by another sign-up meanwhile)."""

    first_missing: int
    errors: dict[str, str]
    request: SignupRequest
    checked: Checked


def progress(funnel: Funnel, *, on: date, upto: int | None = None) -> Progress:
    """Re-check the completed steps in order (up to ``upto``, excluded) and stop at the first
    one not done or no longer valid."""
    request, parse_errors = funnel.request()
    checked = Checked()
    done = funnel.done
    limit = len(STEPS) if upto is None else upto
    for index, step in enumerate(STEPS[:limit]):
        if step.slug not in done:
            return Progress(index, {}, request, checked)
        try:
            step_check(step, request=request, parse_errors=parse_errors, on=on, checked=checked)
        except SignupErrors as exc:
            return Progress(index, exc.by_field(), request, checked)
    return Progress(limit, {}, request, checked)
