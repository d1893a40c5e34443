"""Gapless numbering of invoices and credit notes (B7): one series per kind and year."""

from __future__ import annotations

from datetime import date

from raccord.billing.models import Document
from raccord.core.models import Policy
from raccord.core.sequences import sequence_take


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
    series = f"{kind}-{issue_date.year}"
    first = sequence_take(series, count)
    return [fmt.format(year=issue_date.year, number=n) for n in range(first, first + count)]
