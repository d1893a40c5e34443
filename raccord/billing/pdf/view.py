"""What a document's PDF shows, as plain data taken from the document alone.

The renderer reads only this view, and the view reads only the document's own copies (seller,
buyer, payment, contracts, VAT breakdown) and its lines — never live customer or catalogue
rows — so rendering a document again gives the same content years later (B9). It also lets the
benchmark render documents that were never saved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from raccord.billing.models import Document, DocumentLine, Section
from raccord.core.masking import iban_mask

SECTIONS = (Section.SUBSCRIPTIONS, Section.COMMUNICATIONS, Section.OTHER)


@dataclass(frozen=True)
class SellerView:
    legal_name: str
    trade_name: str
    address: str
    siren: str
    vat_number: str
    customer_service_phone: str
    customer_service_hours: str
    customer_service_email: str
    customer_service_address: str
    billing_address: str
    mediator_name: str
    mediator_address: str
    mediator_url: str
    # the operator's SEPA creditor identifier (ICS), for the Factur-X of a direct debit (P2)
    creditor_id: str


@dataclass(frozen=True)
class BuyerView:
    reference: str
    name: str
    address: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class LineView:
    section: str
    kind: str
    label: str
    period_start: date | None
    period_end: date | None
    amount: Decimal
    vat_rate: Decimal
    data: dict[str, Any]


@dataclass(frozen=True)
class VatView:
    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class PaymentView:
    method: str  # "sepa" | "cheque" | "refund"
    debit_date: date | None = None
    mandate: str = ""
    iban_masked: str = ""
    due_before: date | None = None


@dataclass(frozen=True)
class ContractView:
    reference: str
    offer: str
    commitment_end: date | None


@dataclass(frozen=True)
class DocumentView:
    kind: str
    number: str
    issue_date: date
    corrects_number: str
    corrects_issue_date: date | None
    seller: SellerView
    buyer: BuyerView
    lines: tuple[LineView, ...]
    vat: tuple[VatView, ...]
    total: Decimal
    payment: PaymentView
    contracts: tuple[ContractView, ...]

    @property
    def is_credit_note(self) -> bool:
        return self.kind == Document.Kind.CREDIT_NOTE

    def sections(self) -> list[tuple[str, list[LineView]]]:
        """Lines grouped by section in the invoice's order; empty sections left out (B9)."""
        groups: dict[str, list[LineView]] = {section: [] for section in SECTIONS}
        for line in self.lines:
            groups.setdefault(line.section, []).append(line)
        return [(section, lines) for section, lines in groups.items() if lines]


def _date(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _seller(data: dict[str, Any]) -> SellerView:
    return SellerView(
        **{name: _text(data, name) for name in SellerView.__dataclass_fields__},
    )


def _payment(data: dict[str, Any]) -> PaymentView:
    masked = _text(data, "iban_masked")
    return PaymentView(
        method=_text(data, "method"),
        debit_date=_date(data.get("debit_date")),
        mandate=_text(data, "mandate"),
        # Masked again on the way out: should a full IBAN ever reach the copy, the PDF (which
        # is mailed and stored for years) still shows only its first and last characters.
        iban_masked=iban_mask(masked) if masked else "",
        due_before=_date(data.get("due_before")),
    )


def document_view(
    document: Document, *, lines: Iterable[DocumentLine] | None = None
) -> DocumentView:
    """The view of ``document``. ``lines`` defaults to the document's stored lines (one query
    unless prefetched); pass them for a document that is not saved."""
    rows = document.lines.all() if lines is None else lines
    corrects = document.corrects if document.corrects_id is not None else None
    buyer = document.buyer or {}
    return DocumentView(
        kind=document.kind,
        number=document.number,
        issue_date=document.issue_date,
        corrects_number=corrects.number if corrects is not None else "",
        corrects_issue_date=corrects.issue_date if corrects is not None else None,
        seller=_seller(document.seller or {}),
        buyer=BuyerView(
            reference=_text(buyer, "reference"),
            name=_text(buyer, "name"),
            address=_text(buyer, "address"),
            postal_code=_text(buyer, "postal_code"),
            city=_text(buyer, "city"),
        ),
        lines=tuple(
            LineView(
                section=line.section,
                kind=line.kind,
                label=line.label,
                period_start=line.period_start,
                period_end=line.period_end,
                amount=Decimal(line.amount),
                vat_rate=Decimal(line.vat_rate),
                data=dict(line.data or {}),
            )
            for line in sorted(rows, key=lambda line: line.position)
        ),
        vat=tuple(
            VatView(
                rate=Decimal(row["rate"]),
                net=Decimal(row["net"]),
                vat=Decimal(row["vat"]),
                gross=Decimal(row["gross"]),
            )
            for row in document.vat_breakdown or []
        ),
        total=Decimal(document.total),
        payment=_payment(document.payment or {}),
        contracts=tuple(
            ContractView(
                reference=_text(row, "reference"),
                offer=_text(row, "offer"),
                commitment_end=_date(row.get("commitment_end")),
            )
            for row in document.contracts or []
        ),
    )
