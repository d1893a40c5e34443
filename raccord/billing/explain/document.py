"""What a whole document says besides its lines: why a first invoice is higher (B2), how it
is settled, its VAT breakdown (M2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from raccord.billing.explain.french import (
    day_month_text,
    day_text,
    euros,
    month_text,
    vat_rate_text,
)
from raccord.billing.line_data import read_date, read_text
from raccord.billing.models import Document, LineKind

if TYPE_CHECKING:
    from raccord.payments.selectors import DocumentStatus


def first_invoice_summary(document: Document) -> str | None:
    """Why the first invoice is higher (B2), for an invoice that bills a set-up fee; None
    otherwise. The days and dates come from the document's own subscription lines. A set-up
    fee wholly paid by a local authority (C1) costs nothing and is not named as a reason."""
    if document.kind != Document.Kind.INVOICE:
        return None
    lines = list(document.lines.all())
    setup = [
        line
        for line in lines
        if line.kind == LineKind.SETUP_FEE and "credits_line" not in (line.data or {})
    ]
    if not setup:
        return None
    fee = any(line.amount > 0 for line in setup)
    contract_ids = {line.contract_id for line in setup}
    charged = [
        line
        for line in lines
        if line.kind == LineKind.SUBSCRIPTION
        and line.contract_id in contract_ids
        and line.period_start is not None
        and line.period_end is not None
    ]
    if not charged:
        return str(_FIRST_INVOICE[(fee, "fee")]) if fee else None
    first_day = min(line.period_start for line in charged if line.period_start)
    issue_month = (document.issue_date.year, document.issue_date.month)
    earlier = [
        line
        for line in charged
        if line.period_start and (line.period_start.year, line.period_start.month) < issue_month
    ]
    current = [
        line
        for line in charged
        if line.period_start and (line.period_start.year, line.period_start.month) == issue_month
    ]
    values = {"day": day_text(first_day), "month": month_text(document.issue_date)}
    if not earlier:
        # only this month's days: with no fee, nothing makes this invoice higher
        return _FIRST_INVOICE[(fee, "since")] % values if fee else None
    one_month_before = all(
        (line.period_start.month, line.period_start.year) == (first_day.month, first_day.year)
        for line in earlier
        if line.period_start
    )
    shape = "days_then_month" if one_month_before and current else "all_days"
    return _FIRST_INVOICE[(fee, shape)] % values


# (a set-up fee to pay, what the subscription lines cover) → the sentence (B2)
_FIRST_INVOICE = {
    (True, "fee"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend les frais de mise en "
        "service de votre ligne, facturés une seule fois."
    ),
    (True, "since"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend les frais de mise en "
        "service et votre abonnement depuis votre première connexion le %(day)s."
    ),
    (True, "days_then_month"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend les frais de mise en "
        "service, les jours entre votre première connexion le %(day)s et la fin du "
        "mois, puis le mois en cours."
    ),
    (True, "all_days"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend les frais de mise en "
        "service et tous les jours d'abonnement depuis votre première connexion le "
        "%(day)s, jusqu'à la fin de %(month)s."
    ),
    (False, "days_then_month"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend les jours entre votre "
        "première connexion le %(day)s et la fin du mois, puis le mois en cours."
    ),
    (False, "all_days"): gettext_lazy(
        "Votre première facture est plus élevée : elle comprend tous les jours d'abonnement "
        "depuis votre première connexion le %(day)s, jusqu'à la fin de %(month)s."
    ),
}


def _planned_text(document: Document, *, today: date) -> str:
    """How the document was to be settled when it was issued (its ``payment`` copy)."""
    payment = document.payment if isinstance(document.payment, dict) else {}
    method = payment.get("method")
    if method == "sepa":
        debit = read_date(payment, "debit_date")
        if debit is None:
            return _("par prélèvement")
        if today < debit:
            return _("sera prélevée le %(day)s") % {"day": day_month_text(debit)}
        return _("prélevée le %(day)s") % {"day": day_month_text(debit)}
    if method == "cheque":
        due = read_date(payment, "due_before")
        if due is None:
            return _("à régler par chèque")
        return _("à régler avant le %(day)s") % {"day": day_month_text(due)}
    if method == "refund":
        iban = read_text(payment, "iban_masked")
        if iban:
            return _("remboursement sur votre compte %(iban)s") % {"iban": iban}
        return _("remboursement par notre service client")
    return ""


def _paid_by_text(method: str) -> str:
    return {
        "cheque": _("chèque"),
        "transfer": _("virement"),
        "card": _("carte bancaire"),
        "refund": _("avoir déduit"),
    }.get(method, "")


def _invoice_state_text(status: DocumentStatus) -> str:
    document = status.document
    code = status.code
    values = {"amount": euros(status.due)}
    if code == "paid":
        if status.paid_on is None:
            return _("payée")
        values["day"] = day_month_text(status.paid_on)
        if status.paid_by == "sepa":
            return _("prélevée le %(day)s") % values
        method = _paid_by_text(status.paid_by)
        if not method:
            return _("payée le %(day)s") % values
        return _("payée le %(day)s (%(method)s)") % {**values, "method": method}
    if code in ("collecting", "returned") and status.debit_date is not None:
        values["day"] = day_month_text(status.debit_date)
        if code == "collecting":
            return _("prélèvement du %(day)s en cours") % values
        return _("prélèvement du %(day)s rejeté : %(amount)s à régler") % values
    if code == "returned":
        return _("prélèvement rejeté : %(amount)s à régler") % values
    if code == "due" and status.partly_paid:
        return _("reste %(amount)s %(state)s") % {**values, "state": status.label}
    if code == "late":
        if document.due_date is None:
            return _("%(amount)s à régler") % values
        values["day"] = day_month_text(document.due_date)
        return _("%(amount)s à régler, échéance du %(day)s dépassée") % values
    return status.label


@dataclass(frozen=True)
class PaymentState:
    """How a document stands, in a few words, and whether the customer has to pay it
    themselves (a rejected debit, a cheque or transfer still due: the portal links to « Mes
    paiements »)."""

    text: str
    to_pay: bool = False
    by_debit: bool = True  # a debit is planned, under way or took the money: name the account


def payment_state(
    document: Document, *, today: date, status: DocumentStatus | None = None
) -> PaymentState:
    """How the document is settled, from the payments app's own status of it (``status``, read
    by ``raccord.payments.selectors.documents_status_read``): « prélevée le 5 novembre »,
    « payée le 7 novembre (chèque) », « prélèvement du 5 novembre rejeté : 30,90 € à régler »,
    « prélèvement prévu le 5 décembre », « à régler avant le 10 novembre » (only while unpaid),
    « remboursé par virement »… Without a status, what was planned at issue (« sera prélevée
    le 5 février »), as the PDF says."""
    if (
        document.kind == Document.Kind.INVOICE
        and document.total is not None
        and document.total == 0
    ):
        return PaymentState(_("rien à régler"))
    if status is None:
        return PaymentState(_planned_text(document, today=today))
    if document.kind == Document.Kind.INVOICE:
        by_debit = status.code in ("scheduled", "collecting", "awaiting_debit") or (
            status.code == "paid" and status.paid_by == "sepa"
        )
        return PaymentState(
            _invoice_state_text(status), to_pay=status.action_needed, by_debit=by_debit
        )
    if status.code in ("refund_pending", "to_refund"):
        planned = _planned_text(document, today=today)
        if planned:
            return PaymentState(planned)
    return PaymentState(status.label)


def payment_text(document: Document, *, today: date, status: DocumentStatus | None = None) -> str:
    """``payment_state``'s words alone."""
    return payment_state(document, today=today, status=status).text


@dataclass(frozen=True)
class VatRow:
    rate: str
    net: Decimal
    vat: Decimal
    gross: Decimal


def vat_rows(document: Document) -> list[VatRow]:
    """The document's VAT breakdown (M2, copied at issue) ready to show."""
    rows = []
    for row in document.vat_breakdown or []:
        try:
            rows.append(
                VatRow(
                    rate=vat_rate_text(row["rate"]),
                    net=Decimal(row["net"]),
                    vat=Decimal(row["vat"]),
                    gross=Decimal(row["gross"]),
                )
            )
        except (KeyError, InvalidOperation, TypeError):
            continue
    return rows
