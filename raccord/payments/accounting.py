"""The FEC (fichier des écritures comptables, LPF art. A47 A-1) of one calendar year.

Entries, each balanced (Σ debit = Σ credit per ``EcritureNum``):

- sales journal ``VE``, one entry per invoice or credit note, numbered by the document number:
  customer ``411000`` (auxiliary account = customer reference) for the total, sales ``706xxx``
  for the net and output VAT ``44571xxx`` for the VAT of each rate (``xxx`` = the rate in
  thousandths: 200 for 20 %, 055 for 5,5 %, 000 out of scope). An invoice debits 411 and
  credits 706/44571; a credit note does the reverse (each amount goes to the side its sign
  says, so a document mixing signs stays balanced);
- bank journal ``BQ``, one entry per payment, numbered ``BQ<year>-000001`` in date order: money
  received (cheque, transfer, card, settled debit) debits bank ``512000`` and credits 411;
  money going back (a returned debit, a refund) debits 411 and credits 512. A compensation of a
  credit note with invoices (amount 0, ``raccord.payments.refunds``) moves nothing and is left
  out.

Lines are written as they are read (documents and payments are streamed from the database and
merged by date, then journal): memory does not grow with the year's size."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from raccord.billing.models import Document
from raccord.core.models import OperatorProfile
from raccord.payments.models import Payment
from raccord.payments.selectors import return_reason_text

FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SEPARATORS = {"tab": "\t", "pipe": "|"}

CUSTOMERS = ("411000", "Clients")
BANK = ("512000", "Banque")
SALES_JOURNAL = ("VE", "Ventes")
BANK_JOURNAL = ("BQ", "Banque")
ZERO = Decimal("0.00")
CHUNK = 2000


def _rate_code(rate: Decimal) -> str:
    return f"{int((rate * 1000).to_integral_value()):03d}"


def _rate_text(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}".replace(".", ",") + " %"


def sales_account(rate: Decimal) -> tuple[str, str]:
    if rate == 0:
        return "706000", "Prestations de services non soumises à TVA"
    return f"706{_rate_code(rate)}", f"Prestations de services TVA {_rate_text(rate)}"


def vat_account(rate: Decimal) -> tuple[str, str]:
    return f"44571{_rate_code(rate)}", f"TVA collectée {_rate_text(rate)}"


def fec_amount(value: Decimal) -> str:
    """« 1234,50 »: comma decimal, no thousands separator."""
    return f"{value:.2f}".replace(".", ",")


def fec_date(value: date) -> str:
    return value.strftime("%Y%m%d")


def fec_filename(*, year: int, siren: str | None = None) -> str:
    """``SIRENFECYYYYMMDD.txt``, the date being the closing day of the year."""
    siren = siren if siren is not None else OperatorProfile.get().siren
    return f"{siren or '000000000'}FEC{year}1231.txt"


@dataclass(frozen=True)
class Line:
    account: tuple[str, str]
    debit: Decimal
    credit: Decimal
    aux: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Entry:
    journal: tuple[str, str]
    number: str
    day: date
    piece: str
    label: str
    lines: tuple[Line, ...]


def _side(amount: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) of a signed amount: positive goes to the debit."""
    return (amount, ZERO) if amount > 0 else (ZERO, -amount)


def _document_entries(year: int) -> Iterator[tuple[tuple[date, str, int], Entry]]:
    rows = (
        Document.objects.filter(issue_date__year=year)
        .order_by("issue_date", "id")
        .values_list("pk", "kind", "number", "issue_date", "total", "vat_breakdown", "buyer")
        .iterator(chunk_size=CHUNK)
    )
    for pk, kind, number, issue_date, total, breakdown, buyer in rows:
        buyer = buyer if isinstance(buyer, dict) else {}
        aux = (str(buyer.get("reference", "")), str(buyer.get("name", "")))
        lines = []
        if total:
            lines.append(Line(CUSTOMERS, *_side(total), aux=aux))
        for row in breakdown or []:
            rate = Decimal(str(row.get("rate", "0")))
            net, vat = Decimal(str(row.get("net", "0"))), Decimal(str(row.get("vat", "0")))
            # Sales and VAT are credited for an invoice: the opposite side of the customer.
            if net:
                lines.append(Line(sales_account(rate), *_side(-net)))
            if vat:
                lines.append(Line(vat_account(rate), *_side(-vat)))
        if not lines:
            continue
        what = "Facture" if kind == Document.Kind.INVOICE else "Avoir"
        entry = Entry(
            journal=SALES_JOURNAL,
            number=number,
            day=issue_date,
            piece=number,
            label=f"{what} {number} {aux[0]}".strip(),
            lines=tuple(lines),
        )
        yield (issue_date, SALES_JOURNAL[0], pk), entry


def _payment_label(
    method: str, reference: str, e2e: str | None, reason: str | None, credit_note: str | None
) -> tuple[str, str]:
    """(piece reference, label) of a payment."""
    if method == Payment.Method.SEPA:
        return e2e or reference, f"Prélèvement {e2e or ''}".strip()
    if method == Payment.Method.SEPA_RETURN:
        return (
            e2e or reference,
            f"Rejet de prélèvement {e2e or ''} – {return_reason_text(reason or '')}",
        )
    if method == Payment.Method.REFUND:
        return (
            credit_note or reference,
            f"Remboursement avoir {credit_note or ''} {reference}".strip(),
        )
    return reference, reference or str(Payment.Method(method).label).capitalize()


def _payment_entries(year: int) -> Iterator[tuple[tuple[date, str, int], Entry]]:
    rows = (
        Payment.objects.filter(received_on__year=year)
        .exclude(amount=0)
        .order_by("received_on", "id")
        .values_list(
            "pk",
            "method",
            "amount",
            "received_on",
            "reference",
            "customer__reference",
            "customer__first_name",
            "customer__last_name",
            "debit__end_to_end_id",
            "debit__return_reason",
            "refund__document__number",
        )
        .iterator(chunk_size=CHUNK)
    )
    for sequence, row in enumerate(rows, start=1):
        pk, method, amount, day, reference, ref, first, last, e2e, reason, credit_note = row
        aux = (ref, f"{first} {last}".strip())
        piece, label = _payment_label(method, reference, e2e, reason, credit_note)
        bank_debit, bank_credit = _side(amount)
        entry = Entry(
            journal=BANK_JOURNAL,
            number=f"BQ{year}-{sequence:06d}",
            day=day,
            piece=(piece or f"P{pk}")[:100],
            label=f"{label} {ref}".strip(),
            lines=(
                Line(BANK, bank_debit, bank_credit),
                Line(CUSTOMERS, bank_credit, bank_debit, aux=aux),
            ),
        )
        yield (day, BANK_JOURNAL[0], pk), entry


def fec_entries(*, year: int) -> Iterator[Entry]:
    """The year's entries by date, then journal, then creation (a streaming merge)."""
    for _key, entry in heapq.merge(
        _document_entries(year), _payment_entries(year), key=lambda item: item[0]
    ):
        yield entry


def _clean(value: Any, separator: str) -> str:
    text = str(value)
    return " ".join(text.replace(separator, " ").split())


@dataclass
class FecSummary:
    entries: int = 0
    lines: int = 0
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def fec_write(stream: IO[str], *, year: int, separator: str = "\t") -> FecSummary:
    """Write the header and every line of the year's FEC to ``stream`` (a text stream)."""
    summary = FecSummary()
    stream.write(separator.join(FEC_COLUMNS) + "\r\n")
    for entry in fec_entries(year=year):
        summary.entries += 1
        day = fec_date(entry.day)
        for line in entry.lines:
            if not line.debit and not line.credit:
                continue
            summary.lines += 1
            summary.debit += line.debit
            summary.credit += line.credit
            fields = (
                entry.journal[0],
                entry.journal[1],
                entry.number,
                day,
                line.account[0],
                line.account[1],
                line.aux[0],
                line.aux[1],
                entry.piece,
                day,
                entry.label,
                fec_amount(line.debit),
                fec_amount(line.credit),
                "",
                "",
                day,
                "",
                "",
            )
            stream.write(separator.join(_clean(f, separator) for f in fields) + "\r\n")
    return summary
