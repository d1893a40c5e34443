"""IBAN checks (French RIB key included) and masking."""

from __future__ import annotations

from dataclasses import dataclass

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from raccord.core.errors import DomainError
from raccord.core.masking import iban_mask

__all__ = ["CheckedIban", "iban_check", "iban_mask"]


@dataclass(frozen=True)
class CheckedIban:
    iban: str
    bic: str
    bank_name: str


def iban_check(raw: str, *, field: str = "iban") -> CheckedIban:
    """Validate an IBAN typed by a person; the BIC is derived from the bank code.

    ``validate_bban=True`` is what makes schwifty check the French RIB key."""
    compact = "".join(raw.split()).upper()
    if not compact:
        raise DomainError("Indiquez l'IBAN du compte à prélever.", field=field)
    try:
        iban = IBAN(compact, validate_bban=True)
    except SchwiftyException:
        raise DomainError(
            "Cet IBAN n'est pas valide : vérifiez les caractères saisis (clé de contrôle ou clé RIB incorrecte).",
            field=field,
        ) from None
    if not iban.in_sepa_zone:
        raise DomainError("Cet IBAN n'appartient pas à la zone SEPA.", field=field)
    bic = iban.bic
    if bic is None:
        raise DomainError(
            "Nous ne reconnaissons pas la banque de cet IBAN : contactez le service client.",
            field=field,
        )
    return CheckedIban(
        iban=str(iban.compact), bic=str(bic), bank_name=str(getattr(iban.bank, "name", "") or "")
    )
