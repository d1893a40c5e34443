"""The explanation of a rejection fee (P6), written by the dunning service."""

from __future__ import annotations

from decimal import Decimal

from raccord.billing.explain.lines import line_explanation
from raccord.billing.models import DocumentLine, LineKind, section_of

NBSP = "\u00a0"


def test_rejection_fee_names_the_invoice_the_debit_and_the_reason__P6():
    fee = DocumentLine(
        kind=LineKind.REJECTION_FEE,
        label="Frais de rejet de prélèvement",
        amount=Decimal("5.00"),
        vat_rate=Decimal("0.2000"),
        data={
            "invoice": "F2027-000123",
            "debit_date": "2027-03-05",
            "reason": "provision insuffisante",
        },
    )
    assert line_explanation(fee) == (
        "Frais de rejet : le prélèvement du 5 mars 2027 pour la facture F2027-000123 a été "
        f"rejeté par votre banque (provision insuffisante) : 5,00{NBSP}€"
    )
    assert section_of(fee.kind) == "other"


def test_rejection_fee_without_data_still_reads__P6():
    fee = DocumentLine(
        kind=LineKind.REJECTION_FEE,
        label="",
        amount=Decimal("7.50"),
        vat_rate=Decimal("0.2000"),
        data={},
    )
    assert line_explanation(fee).startswith("Frais de rejet d'un prélèvement par votre banque")


def test_a_zero_invoice_has_nothing_to_pay__B6_P1():
    from datetime import date

    from raccord.billing.explain.document import payment_text
    from raccord.billing.models import Document

    zero = Document(
        kind=Document.Kind.INVOICE,
        total=Decimal("0.00"),
        payment={"method": "sepa", "debit_date": None, "iban_masked": "FR76 **** **** 0189"},
    )
    assert payment_text(zero, today=date(2027, 3, 1)) == "rien à régler"
    zero.total = Decimal("9.90")
    assert payment_text(zero, today=date(2027, 3, 1)) != "rien à régler"
