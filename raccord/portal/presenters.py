"""How Mon Compte words a contract's state for its holder. Wording only: the states and dates
come from the contracts domain, nothing here decides anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.contracts.models import Contract
from raccord.contracts.services import activation_fallback_date

S = Contract.Status
MODE = Contract.InstallationMode


def _day(value: date) -> str:
    return date_format(value, "j F Y")


def contract_status_label(contract: Contract) -> str:
    """The status in plain French, with the date when the line is active."""
    if contract.status == S.ACTIVE and contract.activation_date:
        return _("actif depuis le %(day)s") % {"day": _day(contract.activation_date)}
    labels = {
        S.ORDERED: _("commandé"),
        S.KIT_SHIPPED: _("kit expédié"),
        S.INSTALLATION_BOOKED: _("installation planifiée"),
        S.EQUIPMENT_RECEIVED: _("matériel reçu, en attente de la première connexion"),
        S.ACTIVE: _("actif"),
        S.TERMINATION_REQUESTED: _("résiliation demandée"),
        S.TERMINATED: _("résilié"),
        S.CANCELLED: _("commande annulée"),
        S.WITHDRAWN: _("rétractation enregistrée"),
    }
    return str(labels.get(S(contract.status), contract.get_status_display()))


def contract_next_step(contract: Contract) -> str:
    """What happens next for this contract, from the customer's point of view."""
    status = contract.status
    if status == S.ORDERED:
        if contract.installation_mode == MODE.KIT:
            return _("Commandé : votre kit va être expédié.")
        if contract.installation_mode == MODE.INSTALLER:
            return _(
                "Commandé : nous allons vous contacter pour fixer le rendez-vous d'installation."
            )
        return _(
            "Commandé : votre logement est déjà équipé, la mise en service est en préparation."
        )
    if status == S.KIT_SHIPPED:
        return _(
            "Votre kit est en route : branchez-le dès sa réception en suivant le guide fourni."
        )
    if status == S.INSTALLATION_BOOKED:
        if contract.installation_appointment is not None:
            return _(
                "Rendez-vous d'installation le %(day)s : un technicien viendra chez vous. "
                "Pour le déplacer, contactez le service client."
            ) % {"day": _day(contract.installation_appointment)}
        return _("Le rendez-vous d'installation est fixé : un technicien viendra chez vous.")
    if status == S.EQUIPMENT_RECEIVED:
        # only a kit is plugged in by the subscriber; an installer or equipped premises are ready
        todo = (
            _("Branchez votre équipement en suivant le guide fourni : ")
            if contract.installation_mode == MODE.KIT
            else _("Votre équipement est en place : ")
        )
        latest = activation_fallback_date(contract)
        if latest is None:
            return todo + _("votre accès et votre abonnement démarrent à la première connexion.")
        return todo + _(
            "votre accès et votre abonnement démarrent à la première connexion, et au plus tard "
            "le %(day)s même sans connexion."
        ) % {"day": _day(latest)}
    if status == S.ACTIVE:
        if contract.activation_date:
            return _("Actif depuis le %(day)s.") % {"day": _day(contract.activation_date)}
        return _("Votre accès est actif.")
    if status == S.TERMINATION_REQUESTED:
        return _("Résiliation demandée : pensez à renvoyer votre matériel.")
    if status == S.TERMINATED:
        return _("Contrat résilié.")
    if status == S.CANCELLED:
        return _("Commande annulée, sans frais.")
    if status == S.WITHDRAWN:
        return _("Rétractation enregistrée.")
    return contract.get_status_display()


def contract_status_tone(contract: Contract) -> str:
    """A badge modifier: green when running, neutral while in progress, amber when ending."""
    if contract.status == S.ACTIVE:
        return ""
    if contract.status in {S.TERMINATION_REQUESTED, S.TERMINATED, S.CANCELLED, S.WITHDRAWN}:
        return "badge--warning"
    return "badge--info"


def contract_commitment_text(contract: Contract, *, today: date) -> str:
    """The commitment (C7) as the customer needs to read it."""
    months = contract.commitment_months
    if months == 0:
        return _("sans engagement")
    if contract.commitment_start is None or contract.commitment_end is None:
        return ngettext(
            "engagement de %(months)d mois, qui commencera à la mise en service",
            "engagement de %(months)d mois, qui commencera à la mise en service",
            months,
        ) % {"months": months}
    values = {
        "months": months,
        "start": _day(contract.commitment_start),
        "end": _day(contract.commitment_end),
    }
    if contract.commitment_end < today:
        return (
            _(
                "engagement de %(months)d mois terminé le %(end)s : votre contrat continue sans "
                "engagement"
            )
            % values
        )
    return _("engagement de %(months)d mois, du %(start)s au %(end)s") % values


@dataclass(frozen=True)
class ContractView:
    """A contract with the sentences the portal shows about it."""

    contract: Contract
    status_label: str
    status_tone: str
    next_step: str
    commitment: str


def contract_view(contract: Contract, *, today: date) -> ContractView:
    return ContractView(
        contract=contract,
        status_label=contract_status_label(contract),
        status_tone=contract_status_tone(contract),
        next_step=contract_next_step(contract),
        commitment=contract_commitment_text(contract, today=today),
    )
