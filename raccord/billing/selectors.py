"""Billing reads: a customer's invoices and credit notes, one document, its lines per section.

Each read fetches what its pages show in a fixed number of queries, whatever the number of
documents or lines (the lines come in one prefetch query)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db.models import Prefetch, QuerySet

from raccord.billing.documents import SECTION_ORDER
from raccord.billing.explain.french import vat_rate_text
from raccord.billing.explain.lines import document_explanation
from raccord.billing.models import Document, DocumentLine, Section
from raccord.core.money import ZERO
from raccord.customers.models import Customer


def _lines() -> Prefetch:
    return Prefetch("lines", queryset=DocumentLine.objects.order_by("position", "id"))


def customer_documents(*, customer: Customer | int) -> QuerySet[Document]:
    """The customer's invoices and credit notes, newest first, lines prefetched."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    return (
        Document.objects.filter(customer_id=customer_id)
        .select_related("corrects")
        .prefetch_related(_lines())
        .order_by("-issue_date", "-id")
    )


def customer_document_get(*, customer: Customer | int, document_id: int) -> Document | None:
    """One document of this customer, or None — also when it exists but belongs to someone
    else: the caller answers 404 either way, so nobody learns which numbers exist."""
    return customer_documents(customer=customer).filter(pk=document_id).first()


def document_get(*, document_id: int) -> Document | None:
    """One document, for the back-office (the role check is the caller's)."""
    return (
        Document.objects.filter(pk=document_id)
        .select_related("corrects", "customer", "run")
        .prefetch_related(_lines())
        .first()
    )


@dataclass
class SectionLines:
    section: str
    label: str
    lines: list[DocumentLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), start=ZERO)


def document_lines_by_section(document: Document) -> list[SectionLines]:
    """The document's lines grouped by section (B9), in the invoice's section order; empty
    sections are left out. Reads the prefetched lines when there are."""
    groups: dict[str, SectionLines] = {}
    for line in document.lines.all():
        section = Section(line.section)
        if section not in groups:
            groups[section] = SectionLines(section=section.value, label=str(section.label))
        groups[section].lines.append(line)
    return [groups[s] for s in sorted(groups, key=lambda s: SECTION_ORDER[Section(s)])]


@dataclass(frozen=True)
class ExplainedLine:
    line: DocumentLine
    explanation: str
    vat_rate: str


def document_sections_explained(*, document: Document) -> list[dict[str, Any]]:
    """The document's sections as its pages show them (B9): label, total and each line with its
    plain-French explanation and VAT rate. One place, so the back-office and the customer read
    the same sentences."""
    explanations = {line.pk: text for line, text in document_explanation(document)}
    return [
        {
            "label": group.label,
            "total": group.total,
            "lines": [
                ExplainedLine(line, explanations[line.pk], vat_rate_text(line.vat_rate))
                for line in group.lines
            ],
        }
        for group in document_lines_by_section(document)
    ]


def _iso(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def document_contracts(*, document: Document) -> list[dict[str, Any]]:
    """The contracts copied on the document at issue (reference, offer, commitment end as a
    date); rows that are not what the issue writes are left out rather than failing the page."""
    return [
        {
            "reference": row.get("reference", ""),
            "offer": row.get("offer", ""),
            "commitment_end": _iso(row.get("commitment_end")),
        }
        for row in document.contracts or []
        if isinstance(row, dict)
    ]


def document_pdf_file(*, document: Document) -> IO[bytes] | None:
    """The document's PDF as an open file: the stored one (B9: rendered once, kept), or — while
    the rendering task has not stored it yet — one rendered now from the document alone and not
    stored (a read never writes). None when no renderer is installed. The caller closes it
    (a ``FileResponse`` does)."""
    if document.pdf:
        try:
            return document.pdf.open("rb")
        except OSError:
            pass  # the file went missing from the storage: render it again below
    try:
        from raccord.billing.pdf import render_document
    except ImportError:
        return None
    return io.BytesIO(render_document(document))
