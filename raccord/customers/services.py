"""Customer self-service writes: login history and password (C3), contact changes (C8).

Every change is one atomic service that locks the customer row (and its login), returns early
when nothing changes and records an event in the same transaction (STYLE habit 3). Time is a
parameter. Emails are not sent here: each service returns what the caller needs to send them
after commit (the portal owns the links, which point to its pages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from raccord.contracts.signup import normalize_email, normalize_phone
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.customers.models import Customer
from raccord.customers.selectors import customer_by_login_email, customer_email_taken

EMAIL_CHANGE_SALT = "raccord.customers.email_change"
# How long the confirmation link sent to the new address stays valid (C8).
EMAIL_CHANGE_MAX_AGE = timedelta(hours=48)

EMAIL_TAKEN_MESSAGE = "Cette adresse email est déjà utilisée par un autre compte."
LINK_INVALID_MESSAGE = "Ce lien de confirmation n'est pas valide."


@dataclass(frozen=True)
class EmailChangeRequest:
    customer: Customer
    new_email: str
    # The signed token for the confirmation link; None when the request only cancelled a
    # pending change (the customer typed their current address again).
    token: str | None


@dataclass(frozen=True)
class EmailChangeToken:
    user_id: int
    new_email: str
    old_email: str
    issued_at: datetime


@dataclass(frozen=True)
class EmailChangeDone:
    customer: Customer
    old_email: str
    new_email: str


def _locked(customer: Customer) -> tuple[Customer, User]:
    """Lock the customer row and its login (two plain queries: PostgreSQL refuses FOR UPDATE on
    the nullable side of the outer join that select_related would make)."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.user_id is None:
        raise DomainError("Ce client n'a pas encore d'accès à Mon Compte.")
    user = get_user_model().objects.select_for_update().get(pk=locked.user_id)
    return locked, user


# --- login history and password (C3) -------------------------------------------------------


def customer_login_record(*, customer: Customer, at: datetime, ip: str | None = None) -> None:
    event_record(
        actor=Actor.customer(customer.user),
        verb="customer.logged_in",
        at=at,
        subject_type="customer",
        subject_id=customer.pk,
        customer_id=customer.pk,
        summary="Connexion à Mon Compte",
        data={"ip": ip},
    )


def customer_logout_record(*, customer: Customer, at: datetime, ip: str | None = None) -> None:
    event_record(
        actor=Actor.customer(customer.user),
        verb="customer.logged_out",
        at=at,
        subject_type="customer",
        subject_id=customer.pk,
        customer_id=customer.pk,
        summary="Déconnexion de Mon Compte",
        data={"ip": ip},
    )


@transaction.atomic
def customer_password_set(
    *, customer: Customer, password: str, actor: Actor, at: datetime, via: str = "link"
) -> User:
    """Set the Mon Compte password (first time from the order summary link, or a reset).

    The password is checked against the configured validators first: a refused password
    changes nothing. Setting it changes the hash, which invalidates every emailed link."""
    locked, user = _locked(customer)
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise DomainError(" ".join(error.messages), field="password") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    event_record(
        actor=actor,
        verb="customer.password_set",
        at=at,
        subject_type="customer",
        subject_id=locked.pk,
        customer_id=locked.pk,
        summary="Mot de passe de Mon Compte défini",
        data={"via": via},
    )
    return user


def customer_password_reset_request(
    *, email: str, at: datetime, ip: str | None = None
) -> Customer | None:
    """Find the customer a "mot de passe oublié" request is for and record it in their history.

    Returns None when no customer login has that email: the caller answers the same way in both
    cases so that the form never tells whether an address has an account."""
    customer = customer_by_login_email(email=email)
    if customer is None:
        return None
    event_record(
        actor=Actor.customer(None, label="demande de mot de passe oublié"),
        verb="customer.password_reset_requested",
        at=at,
        subject_type="customer",
        subject_id=customer.pk,
        customer_id=customer.pk,
        summary="Lien de mot de passe oublié envoyé",
        data={"ip": ip},
    )
    return customer


# --- contact changes (C8) ------------------------------------------------------------------


def customer_phone_change(
    *, customer: Customer, phone: str, actor: Actor, at: datetime
) -> Customer:
    """Change the contact phone; a number that is not a French one is refused before any write."""
    normalized = normalize_phone(phone)
    with transaction.atomic():
        locked, _user = _locked(customer)
        if locked.phone == normalized:
            return locked
        old = locked.phone
        locked.phone = normalized
        locked.save(update_fields=["phone"])
        event_record(
            actor=actor,
            verb="customer.phone_changed",
            at=at,
            subject_type="customer",
            subject_id=locked.pk,
            customer_id=locked.pk,
            summary=f"Téléphone modifié : {normalized}",
            data={"old": old, "new": normalized},
        )
    return locked


def customer_email_change_request(
    *, customer: Customer, new_email: str, actor: Actor, at: datetime
) -> EmailChangeRequest:
    """Start an email change: the new address waits in ``pending_email`` and the login stays the
    current address until the link sent to the new one is followed (C8).

    Asking again for the same address changes nothing and gives a fresh link (to resend it);
    typing the current address again cancels a pending change."""
    normalized = normalize_email(new_email)
    with transaction.atomic():
        locked, user = _locked(customer)
        if normalized.lower() == user.email.lower():
            if not locked.pending_email:
                raise DomainError(
                    "C'est déjà l'adresse email de votre compte : indiquez la nouvelle adresse.",
                    field="email",
                )
            cancelled = locked.pending_email
            locked.pending_email = ""
            locked.save(update_fields=["pending_email"])
            event_record(
                actor=actor,
                verb="customer.email_change_cancelled",
                at=at,
                subject_type="customer",
                subject_id=locked.pk,
                customer_id=locked.pk,
                summary="Changement d'adresse email annulé",
                data={"cancelled": cancelled},
            )
            return EmailChangeRequest(customer=locked, new_email=user.email, token=None)
        if customer_email_taken(email=normalized, customer=locked):
            raise DomainError(EMAIL_TAKEN_MESSAGE, field="email")
        if locked.pending_email.lower() != normalized.lower():
            locked.pending_email = normalized
            locked.save(update_fields=["pending_email"])
            event_record(
                actor=actor,
                verb="customer.email_change_requested",
                at=at,
                subject_type="customer",
                subject_id=locked.pk,
                customer_id=locked.pk,
                summary=f"Nouvelle adresse email à confirmer : {normalized}",
                data={"old": user.email, "new": normalized},
            )
        token = signing.dumps(
            {"u": user.pk, "n": normalized, "o": user.email, "t": int(at.timestamp())},
            salt=EMAIL_CHANGE_SALT,
        )
    return EmailChangeRequest(customer=locked, new_email=normalized, token=token)


def email_change_token_read(*, token: str, at: datetime) -> EmailChangeToken:
    """Check a confirmation token's signature and age without writing anything.

    The issue time is inside the signed payload (rather than the signer's own timestamp) so that
    the age is measured against the ``at`` the caller passes, like every other rule."""
    try:
        payload: Any = signing.loads(token, salt=EMAIL_CHANGE_SALT)
        data = EmailChangeToken(
            user_id=int(payload["u"]),
            new_email=str(payload["n"]),
            old_email=str(payload["o"]),
            issued_at=datetime.fromtimestamp(int(payload["t"]), tz=UTC),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise DomainError(LINK_INVALID_MESSAGE, code="invalid_link") from None
    if at - data.issued_at > EMAIL_CHANGE_MAX_AGE:
        raise DomainError(
            "Ce lien de confirmation a expiré : il n'est valable que 48 heures. "
            "Refaites la demande depuis Mon Compte, rubrique « Mes informations ».",
            code="expired",
        )
    return data


def customer_email_change_confirm(*, token: str, at: datetime) -> EmailChangeDone:
    """Confirm an email change from the link sent to the new address (C8).

    The contact email and the login (User.email and username) change together. The token names
    the address it replaces, so once used (or overtaken by another change) it is refused."""
    data = email_change_token_read(token=token, at=at)
    customer = Customer.objects.filter(user_id=data.user_id).first()
    if customer is None:
        raise DomainError(LINK_INVALID_MESSAGE, code="invalid_link")
    try:
        with transaction.atomic():
            locked, user = _locked(customer)
            if user.email.lower() == data.new_email.lower():
                raise DomainError(
                    "Ce lien a déjà été utilisé : votre nouvelle adresse email est confirmée.",
                    code="already_used",
                )
            if (
                user.email.lower() != data.old_email.lower()
                or locked.pending_email.lower() != data.new_email.lower()
            ):
                raise DomainError(
                    "Ce lien n'est plus valable : une autre demande l'a remplacé. "
                    "Utilisez le dernier lien reçu ou refaites la demande.",
                    code="stale",
                )
            if customer_email_taken(email=data.new_email, customer=locked):
                raise DomainError(EMAIL_TAKEN_MESSAGE, field="email", code="taken")
            old_email = user.email
            locked.email = data.new_email
            locked.pending_email = ""
            locked.save(update_fields=["email", "pending_email"])
            user.email = data.new_email
            user.username = data.new_email.lower()
            user.save(update_fields=["email", "username"])
            event_record(
                actor=Actor.customer(user),
                verb="customer.email_changed",
                at=at,
                subject_type="customer",
                subject_id=locked.pk,
                customer_id=locked.pk,
                summary=f"Adresse email confirmée : {data.new_email}",
                data={"old": old_email, "new": data.new_email},
            )
    except IntegrityError:
        # Another account took the login between the check and the write.
        raise DomainError(EMAIL_TAKEN_MESSAGE, field="email", code="taken") from None
    return EmailChangeDone(customer=locked, old_email=old_email, new_email=data.new_email)
