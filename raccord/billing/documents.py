"""Issuing documents: totals, VAT breakdown, the copies of seller/buyer/payment data, numbers.

Used by the monthly run (many documents per transaction) and by one-off credit notes. Reads
are set-based: a batch of N documents costs a constant number of queries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from raccord.billing.models import (
    SECTION_OF_KIND,
    BillingRun,
    Document,
    DocumentLine,
    Section,
    section_of,
)
from raccord.billing.numbering import document_numbers_take
from raccord.contracts.models import Contract
from raccord.core.bulk import rows_insert
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile, Policy
from raccord.core.money import ZERO
from raccord.customers.models import Customer
from raccord.payments.calendar import cheque_due_date, invoice_debit_date
from raccord.payments.mandates import MANDATE_ROW, mandate_rows_in_force

MANDATE_REFERENCE = MANDATE_ROW.index("reference")
MANDATE_IBAN = MANDATE_ROW.index("iban")
SECTION_ORDER = {Section.SUBSCRIPTIONS: 0, Section.COMMUNICATIONS: 1, Section.OTHER: 2}
# The rank of each line kind's section, by the kind's plain string (looked up for every line).
SECTION_RANK = {kind: SECTION_ORDER[Section(section)] for kind, section in SECTION_OF_KIND.items()}


@dataclass
class DraftLine:
    contract_id: int | None
    kind: str
    product: str
    label: str
    period_start: date | None
    period_end: date | None
    amount: Decimal
    vat_rate: Decimal
    data: dict[str, Any] = field(default_factory=dict)
    pending_item_id: int | None = None


@dataclass
class DraftDocument:
    customer_id: int
    lines: list[DraftLine]
    corrects_id: int | None = None
    force_kind: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), start=ZERO)

    @property
    def kind(self) -> str:
        if self.force_kind:
            return self.force_kind
        return Document.Kind.INVOICE if self.total >= 0 else Document.Kind.CREDIT_NOTE


def seller_snapshot(profile: OperatorProfile) -> dict[str, str]:
    return {
        "legal_name": profile.legal_name,
        "trade_name": profile.trade_name,
        "address": profile.address,
        "siren": profile.siren,
        "vat_number": profile.vat_number,
        "customer_service_phone": profile.customer_service_phone,
        "customer_service_hours": profile.customer_service_hours,
        "customer_service_email": profile.customer_service_email,
        "customer_service_address": profile.customer_service_address,
        "billing_address": profile.billing_address,
        "mediator_name": profile.mediator_name,
        "mediator_address": profile.mediator_address,
        "mediator_url": profile.mediator_url,
        "creditor_id": profile.sepa_creditor_id,
    }


@dataclass(frozen=True)
class _CustomerInfo:
    buyer: dict[str, str]
    payment_method: str
    mandate_reference: str
    iban_masked: str
    contracts: dict[int, dict[str, Any]]


def _customers_info(customer_ids: Iterable[int], *, debit_month: date) -> dict[int, _CustomerInfo]:
    """Buyer data, payment method, mandate and contracts of many customers in three queries.

    The mandate is the one the debit of ``debit_month`` uses (P4: a replacement signed this
    month applies from a later debit, so this month's invoice still names the old one); the
    contract's own mandate only when the customer has none in force for that month.

    Rows are selected by the id range of the batch (a list of thousands of ids costs more to
    send than the rows) and read as tuples."""
    ids = set(customer_ids)
    low, high = min(ids), max(ids)
    in_force = mandate_rows_in_force(month=debit_month, customer_low=low, customer_high=high)
    customers = Customer.objects.filter(pk__gte=low, pk__lte=high).values_list(
        "pk",
        "reference",
        "first_name",
        "last_name",
        "email",
        "postal_address",
        "postal_code",
        "city",
    )
    contracts = (
        Contract.objects.filter(customer_id__gte=low, customer_id__lte=high)
        .order_by("customer_id", "signed_at", "pk")
        .values_list(
            "pk",
            "customer_id",
            "reference",
            "offer_label",
            "status",
            "commitment_end",
            "payment_method",
            "mandate__reference",
            "mandate__iban",
        )
    )
    per_customer: dict[int, list[tuple[Any, ...]]] = {}
    for row in contracts:
        if row[1] in ids:
            per_customer.setdefault(row[1], []).append(row)
    result = {}
    for pk, reference, first_name, last_name, email, address, postal_code, city in customers:
        if pk not in ids:
            continue
        rows = per_customer.get(pk, [])
        # The payment method of the most recent contract that is still alive, else the latest.
        alive = [r for r in rows if r[4] not in {"cancelled", "withdrawn"}] or rows
        current = alive[-1] if alive else None
        mandate = in_force.get(pk)
        if mandate is not None:
            mandate_reference, iban = str(mandate[MANDATE_REFERENCE]), str(mandate[MANDATE_IBAN])
        else:
            mandate_reference = (current[7] or "") if current else ""
            iban = (current[8] or "") if current else ""
        result[pk] = _CustomerInfo(
            buyer={
                "reference": reference,
                "name": f"{first_name} {last_name}".strip(),
                "address": address,
                "postal_code": postal_code,
                "city": city,
                "email": email,
            },
            payment_method=current[6] if current else "cheque",
            mandate_reference=mandate_reference,
            iban_masked=iban_mask(iban) if iban else "",
            contracts={
                r[0]: {
                    "reference": r[2],
                    "offer": r[3],
                    "commitment_end": r[5].isoformat() if r[5] else None,
                }
                for r in rows
            },
        )
    return result


def _payment(
    kind: str,
    info: _CustomerInfo,
    issue_date: date,
    policy: Policy,
    debit_date: date | None = None,
    *,
    nothing_due: bool = False,
) -> dict[str, str | None]:
    """How the document is settled, as copied on it (B9, P1, P5).

    ``nothing_due``: an invoice of 0.00 (a fee refunded before it was billed) keeps its method
    but has no debit date nor due date: nothing is debited or owed, and the debit file (P2) and
    the cheque follow-up (P5), which find invoices by that date, never see it."""
    if kind == Document.Kind.CREDIT_NOTE:
        payment: dict[str, str | None] = {"method": "refund"}
        if info.payment_method == "sepa" and info.iban_masked:
            payment["iban_masked"] = info.iban_masked
        return payment
    if info.payment_method == "sepa":
        if nothing_due:
            debit = None
        else:
            debit = (
                debit_date or invoice_debit_date(issue_date=issue_date, policy=policy)
            ).isoformat()
        return {
            "method": "sepa",
            "debit_date": debit,
            "mandate": info.mandate_reference,
            "iban_masked": info.iban_masked,
        }
    due = None if nothing_due else cheque_due_date(issue_date=issue_date, policy=policy).isoformat()
    return {"method": "cheque", "due_before": due}


def _sorted_lines(lines: list[DraftLine]) -> list[DraftLine]:
    """By section (B9), contract and period; within a period the caller's order stays (a stable
    sort), so the offer comes before its options."""
    return sorted(
        lines,
        key=lambda line: (
            SECTION_RANK[line.kind],
            line.contract_id or 0,
            line.period_start or date.min,
        ),
    )


@dataclass(frozen=True)
class IssuedDocument:
    pk: int
    customer_id: int
    kind: str
    number: str


DOCUMENT_COLUMNS = (
    "kind",
    "number",
    "issue_date",
    "customer_id",
    "run_id",
    "corrects_id",
    "total",
    "vat_breakdown",
    "seller",
    "buyer",
    "payment",
    "payment_method",
    "due_date",
    "contracts",
    "pdf",
    "pdf_sha256",
)
LINE_COLUMNS = (
    "document_id",
    "position",
    "contract_id",
    "kind",
    "section",
    "product",
    "label",
    "period_start",
    "period_end",
    "amount",
    "vat_rate",
    "data",
)


def vat_rows(lines: Iterable[DraftLine]) -> list[dict[str, str]]:
    """VAT per rate (M2): ``net = round_half_up(gross / (1 + rate))``, ``vat = gross - net``.

    Integer arithmetic on cents and ten-thousandths (rates have 4 places): the same result as
    ``raccord.core.money.vat_breakdown``, which the tests check, at a fraction of the cost."""
    gross: dict[Decimal, int] = {}
    for line in lines:
        gross[line.vat_rate] = gross.get(line.vat_rate, 0) + int(line.amount * 100)
    rows = []
    for rate in sorted(gross):
        cents = gross[rate]
        denominator = 10000 + int(rate * 10000)
        magnitude = (2 * abs(cents) * 10000 + denominator) // (2 * denominator)
        net = magnitude if cents >= 0 else -magnitude
        rows.append(
            {
                "rate": str(rate),
                "net": str(Decimal(net) / 100),
                "vat": str(Decimal(cents - net) / 100),
                "gross": str(Decimal(cents) / 100),
            }
        )
    return rows


def documents_write(
    *, drafts: Sequence[DraftDocument], issue_date: date, run: BillingRun | None
) -> list[IssuedDocument]:
    """Number and insert ``drafts`` in order, with their lines. Call inside a transaction.

    Rows are streamed (COPY on PostgreSQL): a batch of N documents costs a constant number of
    queries and no model instance per row."""
    if not drafts:
        return []
    policy = Policy.get()
    # The same seller copy goes on every document: serialise it once.
    seller = json.dumps(seller_snapshot(OperatorProfile.get()), ensure_ascii=False)
    # The same debit date for every SEPA invoice of the batch (P1, P3).
    debit_date = invoice_debit_date(issue_date=issue_date, policy=policy)
    infos = _customers_info((d.customer_id for d in drafts), debit_month=debit_date)
    kinds = [d.kind for d in drafts]
    numbers: dict[str, Iterator[str]] = {
        kind: iter(
            document_numbers_take(
                kind=kind, issue_date=issue_date, count=kinds.count(kind), policy=policy
            )
        )
        for kind in (Document.Kind.INVOICE, Document.Kind.CREDIT_NOTE)
    }
    payments: dict[tuple[str, int, bool], dict[str, str | None]] = {}
    run_id = run.pk if run is not None else None
    document_rows = []
    ordered_lines = []
    issued = []
    for draft, kind in zip(drafts, kinds, strict=True):
        info = infos[draft.customer_id]
        lines = _sorted_lines(draft.lines)
        ordered_lines.append(lines)
        contract_ids = list(dict.fromkeys(line.contract_id for line in lines if line.contract_id))
        number = next(numbers[kind])
        total = draft.total
        if (total < 0) if kind == Document.Kind.INVOICE else (total > 0):
            # B6: a negative total is a credit note, never an invoice (and the reverse).
            raise ValueError(f"a {kind} cannot total {total}")
        key = (kind, draft.customer_id, not total)
        if key not in payments:
            payments[key] = _payment(
                kind, info, issue_date, policy, debit_date, nothing_due=not total
            )
        document_rows.append(
            (
                kind,
                number,
                issue_date,
                draft.customer_id,
                run_id,
                draft.corrects_id,
                total,
                vat_rows(lines),
                seller,
                info.buyer,
                payments[key],
                payments[key]["method"],
                payments[key].get("debit_date") or payments[key].get("due_before"),
                [info.contracts[cid] for cid in contract_ids if cid in info.contracts],
                "",
                "",
            )
        )
        issued.append((draft.customer_id, kind, number))
    ids = rows_insert(Document, DOCUMENT_COLUMNS, document_rows, need_ids=True)
    rows_insert(
        DocumentLine,
        LINE_COLUMNS,
        [
            (
                document_id,
                position,
                line.contract_id,
                line.kind,
                section_of(line.kind),
                line.product,
                line.label,
                line.period_start,
                line.period_end,
                line.amount,
                line.vat_rate,
                line.data,
            )
            for document_id, lines in zip(ids, ordered_lines, strict=True)
            for position, line in enumerate(lines, start=1)
        ],
    )
    return [
        IssuedDocument(pk=pk, customer_id=customer_id, kind=kind, number=number)
        for pk, (customer_id, kind, number) in zip(ids, issued, strict=True)
    ]


def document_issue(
    *,
    customer_id: int,
    issue_date: date,
    lines: list[DraftLine],
    run: BillingRun | None,
    corrects: Document | None = None,
    force_kind: str | None = None,
) -> Document:
    """Issue one document now (inside the caller's transaction)."""
    draft = DraftDocument(
        customer_id=customer_id,
        lines=lines,
        corrects_id=corrects.pk if corrects else None,
        force_kind=force_kind,
    )
    issued = documents_write(drafts=[draft], issue_date=issue_date, run=run)[0]
    return Document.objects.get(pk=issued.pk)
