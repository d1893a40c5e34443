"""Gapless numbering of invoices and credit notes (B7): one series per kind and year."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction

from raccord.billing.models import Document
from raccord.core.models import Policy, Sequence
from raccord.core.sequences import sequence_take


def _series_take(series: str, count: int) -> int:
    """``sequence_take`` in one statement: the UPDATE locks the series row until the caller's
    transaction ends, exactly like the select-for-update it replaces, and returns the new value
    (one round trip per batch of the monthly run instead of four). The first number of a new
    series goes through ``sequence_take``, which creates the row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("document numbers must be taken inside a transaction")
    table = connection.ops.quote_name(Sequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + %s WHERE name = %s RETURNING value",  # noqa: S608
            [count, series],
        )
        row = cursor.fetchone()
    if row is None:
        return sequence_take(series, count)
    return int(row[0]) - count + 1


def document_numbers_take(
    *, kind: str, issue_date: date, count: int, policy: Policy | None = None
) -> list[str]:
    """``count`` consecutive numbers for documents of ``kind`` issued on ``issue_date``.

    Call inside the transaction that inserts the documents (the series row stays locked until
    it commits, so numbers are strictly increasing in issue order and never skipped)."""
    if count == 0:
        return []
    policy = policy or Policy.get()
    fmt = (
        policy.invoice_number_format
        if kind == Document.Kind.INVOICE
        else policy.credit_note_number_format
    )
    year = issue_date.year
    first = _series_take(f"{kind}-{year}", count)
    return [fmt.format(year=year, number=n) for n in range(first, first + count)]
