"""Issuing documents: totals, VAT breakdown, the copies of seller/buyer/payment data, numbers.

Used by the monthly run (many documents per transaction) and by one-off credit notes. Reads
are set-based: a batch of N documents costs a constant number of queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

from raccord.billing.models import (
    SECTION_OF_KIND,
    BillingRun,
    Document,
    DocumentLine,
    Section,
    section_of,
    seller_copy_for,
)
from raccord.billing.numbering import document_numbers_take
from raccord.contracts.models import Contract
from raccord.core.bulk import rows_insert
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile, Policy
from raccord.core.money import ZERO, div_half_up
from raccord.customers.models import Customer
from raccord.payments.calendar import cheque_due_date, invoice_debit_date
from raccord.payments.mandates import MANDATE_ROW, mandate_rows_in_force
from raccord.payments.models import Mandate

MANDATE_REFERENCE = MANDATE_ROW.index("reference")
MANDATE_IBAN = MANDATE_ROW.index("iban")
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


# One encoder for every other JSON copy (``json.dumps`` builds an encoder per call; escaping
# non-ASCII characters is twice as fast in CPython 3.11's C encoder, and jsonb, like any JSON
# reader, gives back the same text).
_json = DjangoJSONEncoder().encode


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _quoted(value)


def _buyer_json(
    reference: str, name: str, address: str, postal_code: str, city: str, email: str
) -> str:
    """The buyer copy of every document of a customer, written as JSON text directly (a
    million customers a month: the general encoder costs ten times more)."""
    return (
        f'{{"reference": {_quoted(reference)}, "name": {_quoted(name)}, '
        f'"address": {_quoted(address)}, "postal_code": {_quoted(postal_code)}, '
        f'"city": {_quoted(city)}, "email": {_quoted(email)}}}'
    )


def _contract_json(reference: str, offer: str, commitment_end: date | None) -> str:
    end = f'"{commitment_end.isoformat()}"' if commitment_end else "null"
    return (
        f'{{"reference": {_quoted(reference)}, "offer": {_quoted(offer)}, "commitment_end": {end}}}'
    )


def _payment_json(payment: dict[str, str | None]) -> str:
    """The payment copy as JSON text: the shapes ``_payment`` makes are written directly (one
    per document), any other through the encoder."""
    method = payment["method"]
    keys = payment.keys()
    if method == "sepa" and keys == _SEPA_KEYS:
        return (
            f'{{"method": "sepa", "debit_date": {_text_or_null(payment["debit_date"])}, '
            f'"mandate": {_text_or_null(payment["mandate"])}, '
            f'"iban_masked": {_text_or_null(payment["iban_masked"])}}}'
        )
    if method == "cheque" and keys == _CHEQUE_KEYS:
        return f'{{"method": "cheque", "due_before": {_text_or_null(payment["due_before"])}}}'
    return _json(payment)


_SEPA_KEYS = {"method", "debit_date", "mandate", "iban_masked"}
_CHEQUE_KEYS = {"method", "due_before"}


class CustomerInfo(NamedTuple):
    buyer: str  # JSON
    payment_method: str
    mandate_reference: str
    iban_masked: str
    contracts: dict[int, str]  # contract id → JSON of its copy


def customers_info(customer_ids: Iterable[int], *, debit_month: date) -> dict[int, CustomerInfo]:
    """Buyer data, payment method, mandate and contracts of many customers in three queries
    (four when a customer has no mandate in force but a contract names one), with their copies
    already serialised.

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
            "mandate_id",
        )
    )
    per_customer: dict[int, list[tuple[Any, ...]]] = {}
    for row in contracts:
        if row[1] in ids:
            per_customer.setdefault(row[1], []).append(row)
    currents: dict[int, tuple[Any, ...] | None] = {}
    for pk, rows in per_customer.items():
        # The payment method of the most recent contract that is still alive, else the latest.
        alive = [r for r in rows if r[4] not in {"cancelled", "withdrawn"}] or rows
        currents[pk] = alive[-1] if alive else None
    # The contract's own mandate, for a customer with none in force that month: read apart, by
    # id (a join would make PostgreSQL hash the whole mandates table for every batch).
    fallback_ids = {
        current[7]
        for pk, current in currents.items()
        if current is not None and current[7] is not None and pk not in in_force
    }
    fallbacks: dict[int, tuple[str, str]] = (
        {
            row[0]: (row[1], row[2])
            for row in Mandate.objects.filter(pk__in=fallback_ids).values_list(
                "pk", "reference", "iban"
            )
        }
        if fallback_ids
        else {}
    )
    result = {}
    for pk, reference, first_name, last_name, email, address, postal_code, city in customers:
        if pk not in ids:
            continue
        rows = per_customer.get(pk, [])
        current = currents.get(pk)
        mandate = in_force.get(pk)
        if mandate is not None:
            mandate_reference, iban = str(mandate[MANDATE_REFERENCE]), str(mandate[MANDATE_IBAN])
        else:
            own = fallbacks.get(current[7]) if current is not None else None
            mandate_reference, iban = own if own is not None else ("", "")
        result[pk] = CustomerInfo(
            buyer=_buyer_json(
                reference,
                f"{first_name} {last_name}".strip(),
                address,
                postal_code,
                city,
                email,
            ),
            payment_method=current[6] if current else "cheque",
            mandate_reference=mandate_reference,
            iban_masked=iban_mask(iban) if iban else "",
            contracts={r[0]: _contract_json(r[2], r[3], r[5]) for r in rows},
        )
    return result


def _payment(
    kind: str,
    info: CustomerInfo,
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


def _sort_key(line: DraftLine) -> tuple[int, int, date]:
    return (SECTION_RANK[line.kind], line.contract_id or 0, line.period_start or date.min)


def _sorted_lines(lines: list[DraftLine]) -> list[DraftLine]:
    """By section (B9), contract and period; within a period the caller's order stays (a stable
    sort), so the offer comes before its options."""
    return sorted(lines, key=_sort_key)


class IssuedDocument(NamedTuple):
    pk: int
    customer_id: int
    kind: str
    number: str


# The columns in the order the rows below are built (id, kind and number first: they are
# taken last, under the numbering lock).
DOCUMENT_COLUMNS = (
    "id",
    "kind",
    "number",
    "issue_date",
    "customer_id",
    "run_id",
    "corrects_id",
    "total",
    "vat_breakdown",
    "seller_copy_id",
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


def _copy_escaped(value: str) -> str:
    """A text value in PostgreSQL's COPY text format (backslash, tab, newline, return)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


class _Cells:
    """Text of the cells of a batch, each distinct value converted once.

    On PostgreSQL the rows are streamed as COPY text: a value is escaped for that format and
    NULL is ``\\N``; on SQLite they are ``executemany`` parameters (plain text, None). The run's
    lines repeat a handful of labels, periods and explanation data thousands of times, so each
    distinct one is converted once (the data of the run's lines is shared by identical lines,
    see ``raccord.billing.run``: it is serialised once per object)."""

    def __init__(self, *, copy: bool) -> None:
        self.copy = copy
        self.null: str | None = "\\N" if copy else None
        self._texts: dict[str, str] = {}
        self._kinds: dict[str, tuple[str, str]] = {}
        self._dates: dict[date, str] = {}
        self._data: dict[int, tuple[dict[str, Any], str]] = {}

    def text(self, value: str) -> str:
        cell = self._texts.get(value)
        if cell is None:
            cell = self._texts[value] = _copy_escaped(value) if self.copy else value
        return cell

    def json(self, value: Any) -> str:
        encoded = value if isinstance(value, str) else _json(value)
        # JSON text holds no raw control character: only its backslashes need escaping.
        return encoded.replace("\\", "\\\\") if self.copy and "\\" in encoded else encoded

    def data(self, value: dict[str, Any]) -> str:
        # keyed by identity, the object kept alive beside its text (ids are never reused)
        cached = self._data.get(id(value))
        if cached is None:
            cached = self._data[id(value)] = (value, self.json(value))
        return cached[1]

    def kind(self, kind: str) -> tuple[str, str]:
        cells = self._kinds.get(kind)
        if cells is None:
            # the plain string of a LineKind member or of a plain kind
            cells = self._kinds[kind] = (self.text(getattr(kind, "value", kind)), section_of(kind))
        return cells

    def day(self, value: date | None) -> str | None:
        if value is None:
            return self.null
        cell = self._dates.get(value)
        if cell is None:
            cell = self._dates[value] = value.isoformat()
        return cell

    def optional(self, value: int | None) -> str | None:
        return self.null if value is None else str(value)


# A document built before numbering: kind, customer, its row after id, kind and number, and its
# lines' rows after document id and position (COPY text on PostgreSQL, cells on SQLite).
_Built = tuple[str, int, Any, list[Any]]


def documents_write(
    *, drafts: Sequence[DraftDocument], issue_date: date, run: BillingRun | None
) -> list[IssuedDocument]:
    """Number and insert ``drafts`` in order, with their lines. Call inside a transaction.

    Every row is built first, as text (``documents_build``); then, with the series locked
    (B7), ids and numbers are taken and the rows streamed (``documents_store``: COPY on
    PostgreSQL), so that concurrent workers hold the lock only for the writes. A batch of N
    documents costs a constant number of queries and no model instance per row."""
    return documents_store(documents_build(drafts=drafts, issue_date=issue_date, run=run))


@dataclass
class BuiltDocuments:
    """Documents ready to be numbered and written: every row already built as text."""

    issue_date: date
    policy: Policy
    documents: list[_Built]


def documents_customers_read(
    customer_ids: Iterable[int], *, issue_date: date, policy: Policy | None = None
) -> dict[int, CustomerInfo]:
    """What ``documents_build`` reads of the customers of documents issued on ``issue_date``
    (for a caller that reads ahead): the mandate named is the one of the debit that date
    gives."""
    policy = policy or Policy.get()
    debit_date = invoice_debit_date(issue_date=issue_date, policy=policy)
    return customers_info(customer_ids, debit_month=debit_date)


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


def documents_store(built: BuiltDocuments) -> list[IssuedDocument]:
    """Number and insert built documents, in order. Call inside a transaction."""
    documents, issue_date, policy = built.documents, built.issue_date, built.policy
    if not documents:
        return []
    copy = connection.vendor == "postgresql"
    kinds = [document[0] for document in documents]
    # From here the series are locked until the caller's transaction commits (B7).
    numbers: dict[str, Iterator[str]] = {
        kind: iter(
            document_numbers_take(
                kind=kind, issue_date=issue_date, count=kinds.count(kind), policy=policy
            )
        )
        for kind in (Document.Kind.INVOICE, Document.Kind.CREDIT_NOTE)
    }
    issued = [(kind, next(numbers[kind]), customer_id) for kind, customer_id, _c, _l in documents]
    write = _copy_documents if copy else _insert_documents
    ids = write(documents, issued)
    return [
        IssuedDocument(pk, customer_id, kind, number)
        for pk, (kind, number, customer_id) in zip(ids, issued, strict=True)
    ]


def _same(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return row


def _copy_documents(documents: list[_Built], issued: list[tuple[str, str, int]]) -> list[int]:
    """PostgreSQL: ids from the table's sequence, then both tables streamed as COPY text."""
    with connection.cursor() as cursor:
        # the sequence looked up once, not per row
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s,"
            " generate_series(1, %s)",
            [Document._meta.db_table, "id", len(documents)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg cursor, in the same transaction
        with raw.copy(_copy_sql(Document, DOCUMENT_COLUMNS)) as stream:
            stream.write(
                "".join(
                    [
                        f"{pk}\t{kind}\t{number}\t{row}\n"
                        for pk, (kind, number, _customer), (_k, _c, row, _l) in zip(
                            ids, issued, documents, strict=True
                        )
                    ]
                )
            )
        with raw.copy(_copy_sql(DocumentLine, LINE_COLUMNS)) as stream:
            stream.write(
                "".join(
                    [
                        f"{pk}\t{position}\t{line}\n"
                        for pk, (_k, _c, _row, lines) in zip(ids, documents, strict=True)
                        for position, line in enumerate(lines, start=1)
                    ]
                )
            )
    return ids


def _copy_sql(model: type[models.Model], columns: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    fields = []
    for name in columns:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        fields.append(quote(field.column))
    return f"COPY {quote(model._meta.db_table)} ({', '.join(fields)}) FROM STDIN"


def _insert_documents(documents: list[_Built], issued: list[tuple[str, str, int]]) -> list[int]:
    """SQLite: the run's transaction holds the database's write lock, so ids follow the
    largest one; both tables written by ``executemany``."""
    ids = rows_insert(
        Document,
        DOCUMENT_COLUMNS[1:],
        [
            (kind, number, *row)
            for (kind, number, _c), (_k, _cu, row, _l) in zip(issued, documents, strict=True)
        ],
        need_ids=True,
    )
    rows_insert(
        DocumentLine,
        LINE_COLUMNS,
        [
            (pk, position, *line)
            for pk, (_k, _c, _row, lines) in zip(ids, documents, strict=True)
            for position, line in enumerate(lines, start=1)
        ],
    )
    return ids


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
