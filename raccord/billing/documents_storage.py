"""Storing built documents (B7): the text of their cells (COPY text on PostgreSQL,
``executemany`` parameters on SQLite), their numbers, taken under the series' lock, and their
rows written with their lines in a constant number of queries.

``raccord.billing.documents`` builds the rows; this module numbers and writes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.db import connection, models

from raccord.billing.documents_copies import _json
from raccord.billing.models import Document, DocumentLine, section_of
from raccord.billing.numbering import document_numbers_take
from raccord.core.bulk import rows_insert
from raccord.core.models import Policy


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
    see ``raccord.billing.run_plan``: it is serialised once per object)."""

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


@dataclass
class BuiltDocuments:
    """Documents ready to be numbered and written: every row already built as text."""

    issue_date: date
    policy: Policy
    documents: list[_Built]


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
