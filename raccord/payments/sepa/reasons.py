"""R-transaction reason codes (ISO 20022 ExternalStatusReason1Code / ExternalReturnReason1Code
as the EPC SEPA Core rulebook uses them), in French words for agents and customers (P6).

``represent``: whether presenting the debit again can succeed. Insufficient funds (AM04) or an
unspecified reason (MS03) may; a closed account, a missing mandate or a debtor who refused or
disputed the debit must not be debited again without a new mandate or the customer's word."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # French, for the back-office and the customer
    represent: bool = False
    # the customer must give new bank details (new mandate) to be debited again
    new_mandate: bool = False


_REASONS = (
    Reason("AC01", "numéro de compte incorrect", new_mandate=True),
    Reason("AC04", "compte clôturé", new_mandate=True),
    Reason("AC06", "compte bloqué"),
    Reason("AC13", "type de compte du débiteur invalide", new_mandate=True),
    Reason("AG01", "prélèvement interdit sur ce compte", new_mandate=True),
    Reason("AG02", "code opération invalide"),
    Reason("AM04", "provision insuffisante", represent=True),
    Reason("AM05", "prélèvement en double"),
    Reason("BE05", "créancier non reconnu par la banque"),
    Reason("CNOR", "banque du créancier injoignable"),
    Reason("DNOR", "banque du débiteur injoignable"),
    Reason("FF01", "fichier ou format invalide"),
    Reason("FOCR", "annulation demandée par le créancier"),
    Reason("MD01", "pas de mandat", new_mandate=True),
    Reason("MD02", "données du mandat manquantes ou erronées", new_mandate=True),
    Reason("MD06", "contestation du débiteur (remboursement demandé)"),
    Reason("MD07", "titulaire du compte décédé", new_mandate=True),
    Reason("MS02", "refus du débiteur"),
    Reason("MS03", "motif non communiqué par la banque", represent=True),
    Reason("RC01", "code BIC erroné", new_mandate=True),
    Reason("RR01", "identification du compte ou du débiteur manquante", new_mandate=True),
    Reason("RR02", "nom ou adresse du débiteur manquant"),
    Reason("RR03", "nom ou adresse du créancier manquant"),
    Reason("RR04", "motif réglementaire"),
    Reason("SL01", "prélèvements de ce créancier bloqués par la banque du débiteur"),
)
REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}


def reason_get(code: str) -> Reason:
    """The reason of ``code``; an unknown code still reads (the bank's code, no wording)."""
    code = (code or "").strip().upper()
    return REASONS.get(code) or Reason(code or "?", f"motif bancaire {code or 'inconnu'}")


def reason_label(code: str) -> str:
    reason = reason_get(code)
    return f"{reason.code} – {reason.label}"
