"""Move (C8): a contract follows its subscriber to a new installation address, only after an
eligibility test of that address (C1) says the contract's offer is sold there.

``contract_move_check`` is the test, a preview that writes nothing; ``contract_move`` calls it
inside its transaction and writes what it answered, so that the preview an agent read and the
move that is recorded can never disagree. The price stays the one signed: a contract's price
never changes on its own, and a different local price is only reported (an agent may then offer
an offer change, C9)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.billing.explain.french import euros
from raccord.contracts.models import Contract, Subscription
from raccord.contracts.services import AWAITING_ACTIVATION, _at, _locked
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Event, Policy
from raccord.eligibility.models import Address, Premises
from raccord.eligibility.services import EligibilityResult, EligibleOffer, eligibility_check

S = Contract.Status
# A contract follows its subscriber while it is ordered, being delivered or in service. Once
# its termination is requested it is ending: the request has to be cancelled first.
MOVABLE = frozenset({*AWAITING_ACTIVATION, S.ACTIVE})
# The C13 reason that waives the early-termination fee when the new address is not covered.
UNCOVERED_MOVE_REASON = "déménagement dans une zone non couverte"
COMPLEMENT_MAX = 200


@dataclass(frozen=True)
class MoveCheck:
    """The eligibility test of a new address for one contract (C8, C1, C14). Writes nothing."""

    contract: Contract
    address: Address
    eligibility: EligibilityResult
    # The contract's offer as sold at the new address, or None when it is not sold there.
    local_offer: EligibleOffer | None
    # The equipped premises at the new address (C14), if any.
    premises: Premises | None
    # Offers sold at the new address other than the contract's own.
    alternatives: tuple[EligibleOffer, ...] = ()
    # Of those, the ones also sold at the current address: an offer change to one of them can
    # be made before the move (``contract_offer_change`` tests the current address).
    alternatives_here: tuple[EligibleOffer, ...] = ()
    # The C13 reason an agent may record to waive the early-termination fee, when the offer is
    # not sold there and the operator's policy lists that reason; "" otherwise.
    legitimate_reason: str = ""
    # An offer change recorded in advance (C9, taking effect on its start date): its offer must
    # be sold at the new address too, or the switch on D would install an offer not sold there.
    scheduled_change: Subscription | None = None
    scheduled_offer: EligibleOffer | None = None
    messages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def available(self) -> bool:
        return self.local_offer is not None and (
            self.scheduled_change is None or self.scheduled_offer is not None
        )

    @property
    def same_address(self) -> bool:
        return self.address.pk == self.contract.installation_address_id

    @property
    def premises_equipped(self) -> bool:
        return self.eligibility.premises_equipped

    @property
    def signed_price(self) -> Decimal:
        return self.contract.monthly_price

    @property
    def local_price(self) -> Decimal | None:
        return self.local_offer.monthly_price if self.local_offer else None

    @property
    def price_difference(self) -> Decimal | None:
        """Local price minus the signed price (negative: the offer is cheaper there)."""
        if self.local_offer is None:
            return None
        return self.local_offer.monthly_price - self.contract.monthly_price

    @property
    def price_differs(self) -> bool:
        return bool(self.price_difference)

    @property
    def lead_time_days(self) -> int | None:
        return self.local_offer.lead_time_days if self.local_offer else None

    @property
    def message(self) -> str:
        return " ".join(self.messages)

    def as_data(self) -> dict[str, Any]:
        """The eligibility answer as the ``contract.moved`` event records it."""
        local = self.local_offer
        return {
            "offer": self.contract.offer.code,
            "offer_available": local is not None,
            "zone": local.zone.code if local else None,
            "signed_monthly_price": str(self.contract.monthly_price),
            "local_monthly_price": str(local.monthly_price) if local else None,
            "price_difference": str(self.price_difference) if local else None,
            "price_differs": self.price_differs,
            "premises_equipped": self.premises_equipped,
            "premises_id": self.premises.pk if self.premises else None,
            "lead_time_days": self.lead_time_days,
            "offers_available": [item.offer.code for item in self.eligibility.offers],
            "scheduled_offer": self.scheduled_change.product if self.scheduled_change else None,
            "scheduled_offer_available": self.scheduled_offer is not None
            if self.scheduled_change
            else None,
        }


def _address_data(address: Address, complement: str) -> dict[str, Any]:
    return {
        "id": address.pk,
        "ban_id": address.ban_id,
        "label": address.label,
        "complement": complement,
    }


def _offer_text(item: EligibleOffer) -> str:
    return _("%(label)s (%(price)s par mois)") % {
        "label": item.offer.label,
        "price": euros(item.monthly_price),
    }


def contract_move_guard(*, contract: Contract) -> None:
    """Refuse (``DomainError`` on ``contract``) a contract that cannot move: ended, or whose
    termination is requested. Reads nothing but the contract."""
    if contract.status in MOVABLE:
        return
    if contract.status == S.TERMINATION_REQUESTED:
        raise DomainError(
            _(
                "La résiliation de ce contrat est demandée : annulez d'abord la demande de "
                "résiliation pour enregistrer un déménagement."
            ),
            field="contract",
        )
    raise DomainError(
        _("Ce contrat n'est plus en cours (%(status)s) : il ne peut pas déménager.")
        % {"status": contract.get_status_display()},
        field="contract",
    )


def _scheduled_change(contract: Contract) -> Subscription | None:
    """The offer change recorded in advance that has not reached its date yet, if any: the
    latest offer subscription when it is not the contract's offer (and was not cancelled by a
    termination before it started)."""
    if contract.status != S.ACTIVE:
        return None
    latest = (
        Subscription.objects.filter(contract=contract, kind=Subscription.Kind.OFFER)
        .order_by("-start_date", "-pk")
        .first()
    )
    if latest is None or latest.product == contract.offer.code:
        return None
    if latest.end_date is not None and latest.end_date < latest.start_date:
        return None
    return latest


def _scheduled_message(change: Subscription, offer: EligibleOffer | None) -> str:
    values = {"offer": change.label, "day": change.start_date.strftime("%d/%m/%Y")}
    if offer is None:
        return (
            _(
                "Un changement d'offre vers %(offer)s est prévu le %(day)s, et cette offre n'est "
                "pas vendue à la nouvelle adresse : le déménagement n'est pas possible tant que "
                "ce changement est prévu."
            )
            % values
        )
    return _("Le changement d'offre vers %(offer)s prévu le %(day)s y reste possible.") % values


def _available_messages(
    *, contract: Contract, local: EligibleOffer, eligibility: EligibilityResult
) -> list[str]:
    texts = [
        _("L'offre %(offer)s du contrat est disponible à la nouvelle adresse.")
        % {"offer": contract.offer_label}
    ]
    if local.monthly_price == contract.monthly_price:
        texts.append(
            _("Son prix y est le prix signé : %(price)s par mois.")
            % {"price": euros(contract.monthly_price)}
        )
    else:
        texts.append(
            _(
                "Son prix local y est de %(local)s par mois ; le contrat garde son prix signé de "
                "%(signed)s par mois (la différence est notée dans l'historique)."
            )
            % {"local": euros(local.monthly_price), "signed": euros(contract.monthly_price)}
        )
    delay = ngettext(
        "raccordement sous %(days)s jour environ",
        "raccordement sous %(days)s jours environ",
        local.lead_time_days,
    ) % {"days": local.lead_time_days}
    if eligibility.premises_equipped:
        texts.append(
            _("Le logement est déjà équipé (pas de visite d'installateur) : %(delay)s.")
            % {"delay": delay}
        )
    else:
        texts.append(_("Le logement n'est pas encore équipé : %(delay)s.") % {"delay": delay})
    return texts


def _unavailable_messages(
    *,
    contract: Contract,
    alternatives: tuple[EligibleOffer, ...],
    alternatives_here: tuple[EligibleOffer, ...],
    legitimate_reason: str,
) -> list[str]:
    texts = []
    if not contract.offer.is_active:
        texts.append(
            _(
                "L'offre %(offer)s du contrat n'est plus commercialisée : elle ne peut pas être "
                "installée à une nouvelle adresse."
            )
            % {"offer": contract.offer_label}
        )
    elif alternatives:
        texts.append(
            _("L'offre %(offer)s du contrat n'est pas disponible à la nouvelle adresse.")
            % {"offer": contract.offer_label}
        )
    if not alternatives:
        texts.append(_("La nouvelle adresse n'est couverte par aucune de nos offres."))
    if alternatives:
        texts.append(
            _("Offres disponibles à cette adresse : %(offers)s.")
            % {"offers": ", ".join(_offer_text(item) for item in alternatives)}
        )
    if contract.status != S.ACTIVE:
        texts.append(
            _(
                "Ce contrat n'est pas encore en service : sa commande peut être annulée sans "
                "frais, puis une de ces offres souscrite à la nouvelle adresse."
            )
            if alternatives
            else _(
                "Ce contrat n'est pas encore en service : sa commande peut être annulée sans frais."
            )
        )
        return texts
    if alternatives_here:
        texts.append(
            _(
                "Le client peut d'abord changer d'offre pour %(offers)s (disponible aussi à "
                "l'adresse actuelle), puis déménager."
            )
            % {"offers": " ou ".join(item.offer.label for item in alternatives_here)}
        )
    elif alternatives:
        texts.append(
            _(
                "Ces offres ne sont pas disponibles à l'adresse actuelle, donc pas de changement "
                "d'offre avant le déménagement : le client peut en souscrire une à la nouvelle "
                "adresse."
            )
        )
    if legitimate_reason:
        texts.append(
            _(
                "Il peut aussi résilier ce contrat sans indemnité de résiliation anticipée, pour "
                "le motif légitime « %(reason)s », sur justificatif."
            )
            % {"reason": legitimate_reason}
        )
    else:
        texts.append(_("Il peut aussi résilier ce contrat."))
    return texts


def contract_move_check(*, contract: Contract, address: Address) -> MoveCheck:
    """The eligibility test of ``address`` for ``contract`` before a move (C8, C1, C14): is the
    contract's offer sold there, at which local price, which other offers are, are the premises
    already equipped, and the lead time. Writes nothing.

    Raises ``DomainError`` (field ``contract``) for a contract that cannot move."""
    contract_move_guard(contract=contract)
    eligibility = eligibility_check(address=address)
    local = eligibility.offer(contract.offer.code)
    premises = (
        Premises.objects.filter(address=address, equipped=True).first()
        if eligibility.premises_equipped
        else None
    )
    alternatives = tuple(
        item for item in eligibility.offers if item.offer.code != contract.offer.code
    )
    alternatives_here: tuple[EligibleOffer, ...] = ()
    legitimate_reason = ""
    # A change planned in advance only matters when the current offer is sold there.
    scheduled = _scheduled_change(contract) if local is not None else None
    scheduled_offer = eligibility.offer(scheduled.product) if scheduled else None
    if local is None:
        if alternatives and contract.status == S.ACTIVE:
            here = eligibility_check(address=contract.installation_address)
            alternatives_here = tuple(
                item for item in alternatives if here.offer(item.offer.code) is not None
            )
        if UNCOVERED_MOVE_REASON in Policy.get().legitimate_reasons:
            legitimate_reason = UNCOVERED_MOVE_REASON
        texts = _unavailable_messages(
            contract=contract,
            alternatives=alternatives,
            alternatives_here=alternatives_here,
            legitimate_reason=legitimate_reason,
        )
    else:
        texts = _available_messages(contract=contract, local=local, eligibility=eligibility)
        if scheduled is not None:
            texts.append(_scheduled_message(scheduled, scheduled_offer))
    return MoveCheck(
        contract=contract,
        address=address,
        eligibility=eligibility,
        local_offer=local,
        premises=premises,
        alternatives=alternatives,
        alternatives_here=alternatives_here,
        legitimate_reason=legitimate_reason,
        scheduled_change=scheduled,
        scheduled_offer=scheduled_offer,
        messages=tuple(texts),
    )


@transaction.atomic
def contract_move(
    *,
    contract: Contract,
    address: Address,
    installation_complement: str = "",
    on: date,
    actor: Actor,
) -> Contract:
    """Move ``contract`` to ``address`` on ``on`` (C8), after the eligibility test.

    Refused (``DomainError`` on ``address_id``, nothing written) when the contract's offer is not
    sold at the new address. Otherwise updates the installation address, its complement and the
    equipped premises there (C14), and records ``contract.moved`` with both addresses and the
    eligibility answer. The signed price is kept; a different local price is recorded in the
    event. Idempotent: the same address and complement again change nothing and record
    nothing."""
    complement = " ".join(installation_complement.split())
    if len(complement) > COMPLEMENT_MAX:
        raise DomainError(
            _("Le complément d'adresse ne doit pas dépasser %(max)s caractères.")
            % {"max": COMPLEMENT_MAX},
            field="installation_complement",
        )
    if actor.kind == Event.ActorKind.CUSTOMER:
        # C8: a move goes through customer service, which runs the eligibility test with the
        # subscriber (the portal says so).
        raise DomainError(
            _("Un déménagement est enregistré par le service client."), field="contract"
        )
    contract = _locked(contract)
    contract_move_guard(contract=contract)
    if (
        contract.installation_address_id == address.pk
        and contract.installation_complement == complement
    ):
        return contract
    check = contract_move_check(contract=contract, address=address)
    if not check.available:
        raise DomainError(
            _("Déménagement impossible sans test d'éligibilité positif. %(details)s")
            % {"details": check.message},
            field="address_id",
        )
    old_address = contract.installation_address
    old_complement = contract.installation_complement
    old_premises_id = contract.premises_id
    contract.installation_address = address
    contract.installation_complement = complement
    contract.premises = check.premises
    contract.save(update_fields=["installation_address", "installation_complement", "premises"])
    summary = _("%(reference)s : déménagement de %(old)s vers %(new)s") % {
        "reference": contract.reference,
        "old": old_address.label,
        "new": address.label,
    }
    if check.price_differs:
        assert check.local_price is not None
        summary += _(" ; prix signé %(signed)s gardé (prix local %(local)s)") % {
            "signed": euros(contract.monthly_price),
            "local": euros(check.local_price),
        }
    event_record(
        actor=actor,
        verb="contract.moved",
        at=_at(on),
        subject_type="contract",
        subject_id=contract.pk,
        customer_id=contract.customer_id,
        summary=summary,
        data={
            "on": on.isoformat(),
            "from_address": _address_data(old_address, old_complement),
            "to_address": _address_data(address, complement),
            "from_premises_id": old_premises_id,
            "to_premises_id": check.premises.pk if check.premises else None,
            "eligibility": check.as_data(),
        },
    )
    return contract
