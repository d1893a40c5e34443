"""What a whole document says besides its lines: why a first invoice is higher (B2), how it
is settled, its VAT breakdown (M2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from raccord.billing.explain.french import day_month_text, day_text, month_text, vat_rate_text
from raccord.billing.line_data import read_date, read_text
from raccord.billing.models import Document, LineKind


def first_invoice_summary(document: Document) -> str | None:
    """Why the first invoice is higher (B2), for an invoice that bills a set-up fee; None
    otherwise. The days and dates come from the document's own subscription lines."""
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
        return _(
            "Votre première facture est plus élevée : elle comprend les frais de mise en "
            "service de votre ligne, facturés une seule fois."
        )
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
        return (
            _(
                "Votre première facture est plus élevée : elle comprend les frais de mise en "
                "service et votre abonnement depuis votre première connexion le %(day)s."
            )
            % values
        )
    one_month_before = all(
        (line.period_start.month, line.period_start.year) == (first_day.month, first_day.year)
        for line in earlier
        if line.period_start
    )
    if one_month_before and current:
        return (
            _(
                "Votre première facture est plus élevée : elle comprend les frais de mise en "
                "service, les jours entre votre première connexion le %(day)s et la fin du "
                "mois, puis le mois en cours."
            )
            % values
        )
    return (
        _(
            "Votre première facture est plus élevée : elle comprend les frais de mise en "
            "service et tous les jours d'abonnement depuis votre première connexion le "
            "%(day)s, jusqu'à la fin de %(month)s."
        )
        % values
    )


def payment_text(document: Document, *, today: date) -> str:
    """How the document is settled, in a few words: « sera prélevée le 5 février »,
    « prélevée le 5 février », « à régler avant le 10 février », « remboursement sur votre
    compte FR76 **** **** 0189 ». Paid or unpaid comes with the payments work."""
    payment = document.payment if isinstance(document.payment, dict) else {}
    method = payment.get("method")
    if (
        document.kind == Document.Kind.INVOICE
        and document.total is not None
        and document.total == 0
    ):
        return _("rien à régler")
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
