"""Issuing documents: drafts, totals, VAT breakdown, the rows of each document built before it
is numbered.

Used by the monthly run (many documents per transaction) and by one-off credit notes. Reads
are set-based: a batch of N documents costs a constant number of queries. The copies of the
seller's, buyer's, payment and contract data are made in ``raccord.billing.documents_copies``;
the cells' encoding, the numbers and the writes (COPY on PostgreSQL) in
``raccord.billing.documents_storage``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from raccord.billing.documents_copies import (
    CustomerInfo,
    _payment,
    _payment_json,
    documents_customers_read,
    seller_snapshot,
)
from raccord.billing.documents_storage import (
    BuiltDocuments,
    IssuedDocument,
    _Built,
    _Cells,
    documents_store,
)
from raccord.billing.models import (
    SECTION_OF_KIND,
    BillingRun,
    Document,
    Section,
    seller_copy_for,
)
from raccord.core.models import OperatorProfile, Policy
from raccord.core.money import ZERO, div_half_up
from raccord.payments.calendar import invoice_debit_date

SECTION_ORDER = {Section.SUBSCRIPTIONS: 0, Section.COMMUNICATIONS: 1, Section.OTHER: 2}
# The rank of each line kind's section, by the kind's plain string (looked up for every line).
SECTION_RANK = {kind: SECTION_ORDER[Section(section)] for kind, section in SECTION_OF_KIND.items()}


@dataclass(slots=True)
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


@dataclass(slots=True)
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


def _sort_key(line: DraftLine) -> tuple[int, int, date]:
    return (SECTION_RANK[line.kind], line.contract_id or 0, line.period_start or date.min)


def _sorted_lines(lines: list[DraftLine]) -> list[DraftLine]:
    """By section (B9), contract and period; within a period the caller's order stays (a stable
    sort), so the offer comes before its options."""
    return sorted(lines, key=_sort_key)


def vat_rows(lines: Iterable[DraftLine]) -> list[dict[str, str]]:
    """VAT per rate (M2): ``net = round_half_up(gross / (1 + rate))``, ``vat = gross - net``.

    Integer arithmetic on cents and ten-thousandths (rates have 4 places): the same result as
    ``raccord.core.money.vat_breakdown``, which the tests check, at a fraction of the cost."""
    gross: dict[Decimal, int] = {}
    for line in lines:
        gross[line.vat_rate] = gross.get(line.vat_rate, 0) + int(line.amount * 100)
    return _vat_rows(gross)


def _vat_rows(gross: dict[Decimal, int]) -> list[dict[str, str]]:
    rows = []
    for rate in sorted(gross):
        cents = gross[rate]
        net = div_half_up(cents * 10000, 10000 + int(rate * 10000))
        rows.append(
            {
                "rate": str(rate),
                "net": str(Decimal(net).scaleb(-2)),
                "vat": str(Decimal(cents - net).scaleb(-2)),
                "gross": str(Decimal(cents).scaleb(-2)),
            }
        )
    return rows


def documents_write(
    *, drafts: Sequence[DraftDocument], issue_date: date, run: BillingRun | None
) -> list[IssuedDocument]:
    """Number and insert ``drafts`` in order, with their lines. Call inside a transaction.

    Every row is built first, as text (``documents_build``); then, with the series locked
    (B7), ids and numbers are taken and the rows streamed (``documents_store``: COPY on
    PostgreSQL), so that concurrent workers hold the lock only for the writes. A batch of N
    documents costs a constant number of queries and no model instance per row."""
    return documents_store(documents_build(drafts=drafts, issue_date=issue_date, run=run))


def documents_build(
    *,
    drafts: Sequence[DraftDocument],
    issue_date: date,
    run: BillingRun | None,
    infos: dict[int, CustomerInfo] | None = None,
) -> BuiltDocuments:
    """The rows of ``drafts`` (reads the customers' details unless ``infos`` has them, read
    by ``documents_customers_read`` for the same issue date; writes nothing, locks nothing)."""
    policy = Policy.get()
    if not drafts:
        return BuiltDocuments(issue_date=issue_date, policy=policy, documents=[])
    copy = connection.vendor == "postgresql"
    cells = _Cells(copy=copy)
    null = cells.null
    # The same seller copy goes on every document: stored once, named by its id.
    seller = str(seller_copy_for(seller_snapshot(OperatorProfile.get())))
    # The same debit date for every SEPA invoice of the batch (P1, P3).
    debit_date = invoice_debit_date(issue_date=issue_date, policy=policy)
    if infos is None:
        infos = documents_customers_read(
            (d.customer_id for d in drafts), issue_date=issue_date, policy=policy
        )
    issue_cell, run_cell = cells.day(issue_date), cells.optional(run.pk if run else None)
    vat_cache: dict[tuple[tuple[Decimal, int], ...], str] = {}
    payments: dict[tuple[str, int, bool], tuple[str, str, str | None]] = {}
    # Each document: its kind and customer, then the cells after id, kind and number, and its
    # lines' cells after document id and position.
    # (COPY: the cells joined into the row's text, before the series are locked)
    row_of: Callable[[tuple[Any, ...]], Any] = "\t".join if copy else _same
    documents: list[_Built] = []
    for draft in drafts:
        info = infos[draft.customer_id]
        lines = draft.lines
        if len(lines) > 1:
            lines = sorted(lines, key=_sort_key)
        gross: dict[Decimal, int] = {}
        line_cells = []
        contract_ids: dict[int, None] = {}
        for line in lines:
            cents = int(line.amount * 100)
            gross[line.vat_rate] = gross.get(line.vat_rate, 0) + cents
            contract_id = line.contract_id
            if contract_id:
                contract_ids[contract_id] = None
            kind_cell, section = cells.kind(line.kind)
            line_cells.append(
                row_of(
                    (
                        cells.optional(contract_id),
                        kind_cell,
                        section,
                        cells.text(line.product),
                        cells.text(line.label),
                        cells.day(line.period_start),
                        cells.day(line.period_end),
                        str(line.amount),
                        str(line.vat_rate),
                        cells.data(line.data),
                    )
                )
            )
        total_cents = sum(gross.values())
        if draft.force_kind:
            kind = draft.force_kind
        else:
            kind = Document.Kind.INVOICE if total_cents >= 0 else Document.Kind.CREDIT_NOTE
        if (total_cents < 0) if kind == Document.Kind.INVOICE else (total_cents > 0):
            # B6: a negative total is a credit note, never an invoice (and the reverse).
            raise ValueError(f"a {kind} cannot total {Decimal(total_cents) / 100}")
        vat_key = tuple(gross.items())
        vat = vat_cache.get(vat_key)
        if vat is None:
            vat = vat_cache[vat_key] = cells.json(_vat_rows(gross))
        payment_key = (kind, draft.customer_id, not total_cents)
        payment = payments.get(payment_key)
        if payment is None:
            copied = _payment(
                kind, info, issue_date, policy, debit_date, nothing_due=not total_cents
            )
            due = copied.get("debit_date") or copied.get("due_before")
            payment = payments[payment_key] = (
                cells.json(_payment_json(copied)),
                str(copied["method"]),
                null if due is None else due,
            )
        documents.append(
            (
                kind,
                draft.customer_id,
                row_of(
                    (
                        issue_cell,
                        str(draft.customer_id),
                        run_cell,
                        cells.optional(draft.corrects_id),
                        str(Decimal(total_cents).scaleb(-2)),
                        vat,
                        seller,
                        cells.json(info.buyer),
                        *payment,
                        cells.json(
                            "["
                            + ", ".join(
                                [info.contracts[c] for c in contract_ids if c in info.contracts]
                            )
                            + "]"
                        ),
                        "",
                        "",
                    )
                ),
                line_cells,
            )
        )
    return BuiltDocuments(issue_date=issue_date, policy=policy, documents=documents)


def _same(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


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
