"""Sign-up (C2, C3): one set of checks shared by the online funnel, the agents' form and the API,
and one service that creates the customer, the contract ("ordered") and the SEPA mandate.

Each ``signup_check_*`` function validates one step and raises ``DomainError`` naming the field,
with a French message, so that every front shows the same error next to the same field."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from raccord.catalog.models import CGVVersion, Option
from raccord.catalog.selectors import cgv_in_force
from raccord.contracts.models import Contract, ContractOption
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.sequences import sequence_next
from raccord.customers.models import Customer
from raccord.eligibility.models import Address, Premises
from raccord.eligibility.services import EligibleOffer, eligibility_check
from raccord.payments.iban import CheckedIban, iban_check
from raccord.payments.models import Mandate

PHONE_RE = re.compile(r"^(?:\+33|0033|0)([1-9])(\d{8})$")
POSTAL_CODE_RE = re.compile(r"^\d{5}$")


class SignupErrors(DomainError):
    """Several fields are wrong at once; ``errors`` lists each one."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = errors

    def as_dict(self) -> dict[str, str | None]:
        return super().as_dict()

    def by_field(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for error in self.errors:
            result.setdefault(error.field or "__all__", error.message)
        return result


@dataclass
class SignupRequest:
    """Everything a sign-up records (C2), as typed by a person or sent by a partner."""

    address_id: int | None = None
    offer_code: str = ""
    option_codes: list[str] = field(default_factory=list)
    civility: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    birth_date: date | None = None
    installation_complement: str = ""
    delivery_same_as_installation: bool = True
    delivery_name: str = ""
    delivery_address: str = ""
    delivery_postal_code: str = ""
    delivery_city: str = ""
    payment_method: str = ""
    iban: str = ""
    account_holder: str = ""
    installation_mode: str = ""
    cgv_version_id: int | None = None
    cgv_accepted: bool = False
    express_start: bool = False
    special_mentions: str = ""
    channel: str = Contract.Channel.ONLINE
    signup_ip: str | None = None
    signup_key: uuid.UUID | None = None


# --- step checks ---------------------------------------------------------------------------


def signup_check_address(*, address_id: int | None) -> Address:
    if not address_id:
        raise DomainError("Choisissez votre adresse dans la liste proposée.", field="address_id")
    address = Address.objects.filter(pk=address_id).first()
    if address is None:
        raise DomainError("Cette adresse est inconnue : cherchez-la à nouveau.", field="address_id")
    return address


def signup_check_offer(
    *, address: Address, offer_code: str, option_codes: list[str]
) -> tuple[EligibleOffer, list[Option]]:
    result = eligibility_check(address=address)
    if not result.eligible:
        raise DomainError(
            "Aucune de nos offres n'est disponible à cette adresse pour le moment.",
            field="address_id",
        )
    if not offer_code:
        raise DomainError("Choisissez une offre.", field="offer_code")
    eligible = result.offer(offer_code)
    if eligible is None:
        raise DomainError("Cette offre n'est pas disponible à votre adresse.", field="offer_code")
    options = []
    codes = list(dict.fromkeys(code for code in option_codes if code))
    if codes:
        found = {
            o.code: o
            for o in Option.objects.filter(code__in=codes, is_active=True, offers=eligible.offer)
        }
        for code in codes:
            if code not in found:
                raise DomainError(
                    f"L'option « {code} » n'est pas disponible avec cette offre.",
                    field="option_codes",
                )
            options.append(found[code])
    return eligible, options


def normalize_phone(raw: str) -> str:
    compact = re.sub(r"[\s.\-()]", "", raw or "")
    match = PHONE_RE.match(compact)
    if not match:
        raise DomainError(
            "Indiquez un numéro de téléphone français à 10 chiffres, par exemple 06 12 34 56 78.",
            field="phone",
        )
    return "0" + match.group(1) + match.group(2)


def normalize_email(raw: str, *, field: str = "email") -> str:
    email = (raw or "").strip()
    if not email:
        raise DomainError("Indiquez votre adresse email.", field=field)
    try:
        validate_email(email)
    except DjangoValidationError:
        raise DomainError("Cette adresse email n'est pas valide.", field=field) from None
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def signup_check_identity(*, request: SignupRequest, on: date) -> None:
    errors: list[DomainError] = []
    if request.civility not in {c.value for c in Customer.Civility}:
        errors.append(DomainError("Civilité inconnue.", field="civility"))
    for name, label in (("first_name", "votre prénom"), ("last_name", "votre nom")):
        value = getattr(request, name).strip()
        if not value:
            errors.append(DomainError(f"Indiquez {label}.", field=name))
        elif len(value) > 100:
            errors.append(DomainError("100 caractères au plus.", field=name))
    try:
        request.email = normalize_email(request.email)
        if get_user_model().objects.filter(email__iexact=request.email).exists():
            errors.append(
                DomainError(
                    "Un compte existe déjà avec cette adresse email : connectez-vous à Mon Compte "
                    "ou contactez le service client pour ajouter un abonnement.",
                    field="email",
                )
            )
    except DomainError as error:
        errors.append(error)
    try:
        request.phone = normalize_phone(request.phone)
    except DomainError as error:
        errors.append(error)
    if request.birth_date is not None:
        age = (
            on.year
            - request.birth_date.year
            - ((on.month, on.day) < (request.birth_date.month, request.birth_date.day))
        )
        if age < 18:
            errors.append(DomainError("Il faut être majeur pour souscrire.", field="birth_date"))
        elif age > 130:
            errors.append(DomainError("Vérifiez la date de naissance.", field="birth_date"))
    if errors:
        raise SignupErrors(errors)


def signup_check_delivery(*, request: SignupRequest, address: Address) -> None:
    request.installation_complement = request.installation_complement.strip()[:200]
    if request.delivery_same_as_installation:
        request.delivery_name = f"{request.first_name} {request.last_name}".strip()
        street = address.street_line
        if request.installation_complement:
            street = f"{request.installation_complement}, {street}"
        request.delivery_address = street
        request.delivery_postal_code = address.code_postal
        request.delivery_city = address.nom_commune
        return
    errors: list[DomainError] = []
    request.delivery_name = (
        request.delivery_name or f"{request.first_name} {request.last_name}"
    ).strip()
    if not request.delivery_address.strip():
        errors.append(DomainError("Indiquez l'adresse de livraison.", field="delivery_address"))
    if not POSTAL_CODE_RE.match(request.delivery_postal_code.strip()):
        errors.append(
            DomainError("Le code postal compte 5 chiffres.", field="delivery_postal_code")
        )
    if not request.delivery_city.strip():
        errors.append(DomainError("Indiquez la ville de livraison.", field="delivery_city"))
    if errors:
        raise SignupErrors(errors)
    request.delivery_address = request.delivery_address.strip()
    request.delivery_postal_code = request.delivery_postal_code.strip()
    request.delivery_city = request.delivery_city.strip()


def signup_check_payment(*, request: SignupRequest) -> CheckedIban | None:
    if request.payment_method == Contract.PaymentMethod.CHEQUE:
        return None
    if request.payment_method != Contract.PaymentMethod.SEPA:
        raise DomainError("Choisissez un mode de paiement.", field="payment_method")
    errors: list[DomainError] = []
    checked = None
    try:
        checked = iban_check(request.iban)
    except DomainError as error:
        errors.append(error)
    holder = (request.account_holder or "").strip()
    if not holder:
        errors.append(DomainError("Indiquez le titulaire du compte.", field="account_holder"))
    elif len(holder) > 70:
        errors.append(DomainError("70 caractères au plus.", field="account_holder"))
    if errors:
        raise SignupErrors(errors)
    return checked


def signup_check_installation(*, request: SignupRequest, address: Address) -> Premises | None:
    modes = {m.value for m in Contract.InstallationMode}
    if request.installation_mode not in modes:
        raise DomainError("Choisissez un mode d'installation.", field="installation_mode")
    premises = Premises.objects.filter(address=address, equipped=True).first()
    if request.installation_mode == Contract.InstallationMode.EQUIPPED and premises is None:
        raise DomainError(
            "Ce logement n'est pas équipé de notre matériel : choisissez l'envoi du kit ou un installateur.",
            field="installation_mode",
        )
    return premises


def signup_check_acceptance(*, request: SignupRequest, on: date) -> CGVVersion:
    cgv = cgv_in_force(on=on)
    if cgv is None:
        raise DomainError(
            "Les conditions générales de vente ne sont pas publiées : contactez-nous.",
            field="cgv_accepted",
        )
    if request.cgv_version_id is not None and request.cgv_version_id != cgv.pk:
        raise DomainError(
            "Les conditions générales de vente ont changé : relisez la version en vigueur avant de valider.",
            field="cgv_accepted",
        )
    if not request.cgv_accepted:
        raise DomainError(
            "Vous devez accepter les conditions générales de vente.", field="cgv_accepted"
        )
    return cgv


# --- the service --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedSignup:
    address: Address
    eligible: EligibleOffer
    options: list[Option]
    iban: CheckedIban | None
    premises: Premises | None
    cgv: CGVVersion


def signup_check(*, request: SignupRequest, on: date) -> CheckedSignup:
    """Every check of every step; raises ``SignupErrors`` with all the fields at fault."""
    errors: list[DomainError] = []

    def collect(exc: DomainError) -> None:
        errors.extend(exc.errors if isinstance(exc, SignupErrors) else [exc])

    address = eligible = premises = cgv = None
    options: list[Option] = []
    checked_iban = None
    try:
        address = signup_check_address(address_id=request.address_id)
        eligible, options = signup_check_offer(
            address=address, offer_code=request.offer_code, option_codes=request.option_codes
        )
    except DomainError as exc:
        collect(exc)
    try:
        signup_check_identity(request=request, on=on)
    except DomainError as exc:
        collect(exc)
    if address is not None:
        try:
            signup_check_delivery(request=request, address=address)
        except DomainError as exc:
            collect(exc)
        try:
            premises = signup_check_installation(request=request, address=address)
        except DomainError as exc:
            collect(exc)
    try:
        checked_iban = signup_check_payment(request=request)
    except DomainError as exc:
        collect(exc)
    try:
        cgv = signup_check_acceptance(request=request, on=on)
    except DomainError as exc:
        collect(exc)
    if request.channel not in {c.value for c in Contract.Channel}:
        errors.append(DomainError("Canal de souscription inconnu.", field="channel"))
    if errors:
        raise SignupErrors(errors)
    assert address is not None and eligible is not None and cgv is not None
    return CheckedSignup(
        address=address,
        eligible=eligible,
        options=options,
        iban=checked_iban,
        premises=premises,
        cgv=cgv,
    )


def _channel_to_signature(channel: str) -> str:
    return {
        Contract.Channel.ONLINE: Mandate.SignatureMethod.ONLINE,
        Contract.Channel.PAPER: Mandate.SignatureMethod.PAPER,
        Contract.Channel.PHONE: Mandate.SignatureMethod.PHONE,
        Contract.Channel.API: Mandate.SignatureMethod.API,
    }[Contract.Channel(channel)]


def signup_create(*, request: SignupRequest, actor: Actor, at: datetime) -> Contract:
    """Create the customer, the contract ("ordered") and, for SEPA, the mandate (C2), then send
    the order summary after commit (C3).

    Idempotent on ``request.signup_key``: submitting the same sign-up twice returns the contract
    created the first time."""
    on = timezone.localdate(at)
    if request.signup_key is not None:
        existing = Contract.objects.filter(signup_key=request.signup_key).first()
        if existing is not None:
            return existing
    checked = signup_check(request=request, on=on)
    try:
        with transaction.atomic():
            contract = _signup_write(request=request, checked=checked, actor=actor, at=at)
    except IntegrityError:
        # A concurrent double submit won the race on signup_key (or the login email): return it.
        if request.signup_key is not None:
            existing = Contract.objects.filter(signup_key=request.signup_key).first()
            if existing is not None:
                return existing
        raise DomainError(
            "Un compte existe déjà avec cette adresse email.", field="email"
        ) from None
    return contract


def _signup_write(
    *, request: SignupRequest, checked: CheckedSignup, actor: Actor, at: datetime
) -> Contract:
    from raccord.notifications.tasks import order_summary_email

    on = timezone.localdate(at)
    user_model = get_user_model()
    user = user_model(
        username=request.email.lower(),
        email=request.email,
        first_name=request.first_name.strip(),
        last_name=request.last_name.strip(),
    )
    user.set_unusable_password()
    user.save()
    customer = Customer.objects.create(
        reference=f"C{sequence_next('customer'):07d}",
        user=user,
        civility=request.civility,
        first_name=request.first_name.strip(),
        last_name=request.last_name.strip(),
        email=request.email,
        phone=request.phone,
        birth_date=request.birth_date,
        postal_address=request.delivery_address,
        postal_code=request.delivery_postal_code,
        city=request.delivery_city,
        created_at=at,
    )
    event_record(
        actor=actor,
        verb="customer.created",
        at=at,
        subject_type="customer",
        subject_id=customer.pk,
        customer_id=customer.pk,
        summary=f"Client {customer.reference} créé ({Contract.Channel(request.channel).label})",
        data={"channel": request.channel},
    )
    mandate = None
    if checked.iban is not None:
        mandate = Mandate.objects.create(
            reference=f"RUM-{customer.reference}-{sequence_next('mandate'):06d}",
            customer=customer,
            debtor_name=request.account_holder.strip(),
            iban=checked.iban.iban,
            bic=checked.iban.bic,
            signature_date=on,
            signed_at=at,
            signature_method=_channel_to_signature(request.channel),
            signature_ip=request.signup_ip if request.channel == Contract.Channel.ONLINE else None,
        )
        event_record(
            actor=actor,
            verb="mandate.signed",
            at=at,
            subject_type="mandate",
            subject_id=mandate.pk,
            customer_id=customer.pk,
            summary=f"Mandat SEPA {mandate.reference} signé ({mandate.iban_masked})",
            data={"reference": mandate.reference, "iban": mandate.iban_masked, "bic": mandate.bic},
        )
    eligible = checked.eligible
    offer = eligible.offer
    contract = Contract.objects.create(
        reference=f"CT{sequence_next('contract'):07d}",
        customer=customer,
        offer=offer,
        offer_label=offer.label,
        monthly_price=eligible.monthly_price,
        setup_fee=eligible.setup_fee,
        setup_subsidy=min(eligible.setup_subsidy, eligible.setup_fee),
        equipment_subsidy=eligible.equipment_subsidy,
        subsidy_authority=eligible.subsidy_authority,
        termination_fee=offer.termination_fee,
        change_fee=offer.change_fee,
        commitment_months=offer.commitment_months,
        subsidised_equipment=offer.subsidised_equipment,
        vat_rate=offer.vat_rate,
        download_mbps=eligible.download_mbps,
        upload_mbps=eligible.upload_mbps,
        zone=eligible.zone,
        signup_date=on,
        signed_at=at,
        channel=request.channel,
        signup_ip=request.signup_ip,
        signup_agent=actor.user if actor.is_agent else None,
        signup_key=request.signup_key or uuid.uuid4(),
        cgv_version=checked.cgv,
        cgv_accepted_at=at,
        express_start=request.express_start,
        special_mentions=request.special_mentions.strip(),
        installation_address=checked.address,
        installation_complement=request.installation_complement,
        premises=checked.premises,
        delivery_name=request.delivery_name,
        delivery_address=request.delivery_address,
        delivery_postal_code=request.delivery_postal_code,
        delivery_city=request.delivery_city,
        installation_mode=request.installation_mode,
        payment_method=request.payment_method,
        mandate=mandate,
        network_login=f"rc{sequence_next('network_login'):08d}",
    )
    ContractOption.objects.bulk_create(
        ContractOption(
            contract=contract,
            option=o,
            label=o.label,
            monthly_price=o.monthly_price,
            vat_rate=o.vat_rate,
        )
        for o in checked.options
    )
    event_record(
        actor=actor,
        verb="contract.ordered",
        at=at,
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=customer.pk,
        summary=f"Commande {contract.reference} : {contract.offer_label}",
        data={
            "offer": offer.code,
            "options": [o.code for o in checked.options],
            "monthly_price": str(contract.monthly_price),
            "cgv_version": checked.cgv.version,
            "channel": request.channel,
            "express_start": request.express_start,
            "installation_mode": request.installation_mode,
            "payment_method": request.payment_method,
            "ip": request.signup_ip,
        },
    )
    transaction.on_commit(lambda: order_summary_email.delay(contract.pk))
    return contract
