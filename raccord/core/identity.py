"""The operator's legal identity that every invoice must carry (B9): name, address, SIREN and
VAT number. An invoice is never issued again differently, so a month is not billed while any
of them is missing or malformed: the run's entry points ask ``seller_identity_problems`` first,
and the admin refuses a SIREN or a VAT number that cannot be right."""

from __future__ import annotations

from django.utils.translation import gettext as _

from raccord.core.errors import DomainError
from raccord.core.models import OperatorProfile


def siren_valid(siren: str) -> bool:
    """Nine digits whose Luhn sum is a multiple of 10 (INSEE's check); spaces are ignored."""
    siren = siren.replace(" ", "")
    if len(siren) != 9 or not siren.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(siren)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def vat_key(siren: str) -> str:
    """The two-digit key of a French VAT number: (12 + 3 × (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren.replace(' ', '')) % 97)) % 97:02d}"


def vat_number_problem(vat_number: str, siren: str) -> str | None:
    """Why a French VAT number is not the one of this SIREN, in French; None when it is."""
    number = vat_number.replace(" ", "").upper()
    siren = siren.replace(" ", "")
    if not siren_valid(siren):
        return _("Renseignez d'abord un SIREN valide : le numéro de TVA le reprend.")
    if len(number) != 13 or not number.startswith("FR") or not number[2:].isdigit():
        return _("Un numéro de TVA français s'écrit FR, une clé de 2 chiffres et le SIREN.")
    if number[4:] != siren:
        return _("Le numéro de TVA ne reprend pas le SIREN %(siren)s.") % {"siren": siren}
    if number[2:4] != vat_key(siren):
        return _("La clé du numéro de TVA est fausse : pour ce SIREN, c'est %(key)s.") % {
            "key": vat_key(siren)
        }
    return None


def seller_identity_problems(profile: OperatorProfile) -> list[str]:
    """What keeps invoices from carrying the operator's identity (B9), in French."""
    problems = []
    if not profile.legal_name.strip():
        problems.append(_("la raison sociale est vide"))
    if not profile.address.strip():
        problems.append(_("l'adresse du siège est vide"))
    if not siren_valid(profile.siren):
        problems.append(_("le SIREN est vide ou invalide"))
    elif vat_number_problem(profile.vat_number, profile.siren) is not None:
        problems.append(_("le numéro de TVA est vide ou ne correspond pas au SIREN"))
    return problems


def seller_identity_check() -> None:
    """Refuse to issue invoices while the operator's identity is incomplete (B9)."""
    problems = seller_identity_problems(OperatorProfile.get())
    if problems:
        raise DomainError(
            _(
                "Les factures ne peuvent pas être émises : dans le profil de l'opérateur, "
                "%(problems)s. Complétez-le dans l'administration, puis relancez."
            )
            % {"problems": " ; ".join(problems)},
            field="operator",
        )
