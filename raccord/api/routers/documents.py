"""Invoices and credit notes, read with a token (agents and partners), with every line explained
in plain French (B9). Documents are scoped by the principal through its customers, like the
contracts: a principal narrowed to some customers would see only their documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from raccord.api.auth import ApiPrincipal, principal_of, token_auth
from raccord.api.schemas import MAX_ID, Error, Money
from raccord.billing.explain.document import first_invoice_summary, payment_text
from raccord.billing.explain.lines import document_explanation
from raccord.billing.models import Document, DocumentLine, LineKind, Section
from raccord.billing.selectors import document_contracts, document_pdf_file
from raccord.core.errors import NotFound
from raccord.core.masking import iban_mask
from raccord.payments.selectors import DocumentStatus, documents_status_read

router = Router(tags=["Factures et avoirs"], auth=token_auth)

READ_ERRORS: dict[int, Any] = {401: Error, 404: Error, 422: Error}


# --- schemas -------------------------------------------------------------------------------


class DocumentPaymentOut(Schema):
    method: str = Field(description="sepa, cheque ou refund (avoir remboursé).")
    debit_date: date | None = Field(None, description="Date de prélèvement (SEPA).")
    due_before: date | None = Field(None, description="À régler avant cette date (chèque).")
    mandate_reference: str | None = None
    iban_masked: str | None = Field(
        None, description="IBAN masqué ; l'IBAN complet n'est jamais exposé."
    )
    text: str = Field(description="Le paiement en quelques mots, en français.")


class VatOut(Schema):
    rate: Money
    net: Money
    vat: Money
    gross: Money


class DocumentLineOut(Schema):
    position: int
    kind: str
    kind_label: str
    section: str
    section_label: str
    contract_id: int | None
    product: str
    label: str
    period_start: date | None
    period_end: date | None
    amount: Money = Field(description="TTC, négatif pour un avoir ou une remise.")
    vat_rate: Money
    data: dict[str, Any] = Field(description="Les éléments du calcul (jours, poids, prix…).")
    explanation: str = Field(description="La ligne expliquée en français.")


class DocumentContractOut(Schema):
    reference: str
    offer: str
    commitment_end: date | None


class DocumentBriefOut(Schema):
    id: int
    kind: str = Field(description="invoice (facture) ou credit_note (avoir).")
    kind_label: str
    number: str
    issue_date: date
    customer_id: int
    total: Money
    corrects_id: int | None = Field(description="La facture que cet avoir corrige.")
    corrects_number: str | None
    run_month: date | None = Field(description="Mois de la facturation qui l'a émis.")
    payment: DocumentPaymentOut
    pdf_stored: bool = Field(description="Le PDF est déjà produit et conservé.")


class DocumentOut(DocumentBriefOut):
    buyer: dict[str, str]
    seller: dict[str, str]
    contracts: list[DocumentContractOut]
    vat_breakdown: list[VatOut]
    lines: list[DocumentLineOut]
    first_invoice_summary: str | None = Field(
        description="Pourquoi la première facture est plus élevée (frais de mise en service)."
    )


class DocumentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DocumentBriefOut]


class DocumentQuery(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10**9)
    customer_id: int | None = Field(None, ge=1, lt=MAX_ID, description="Un seul client.")
    kind: Document.Kind | None = Field(None, description="invoice ou credit_note.")


# --- reads ---------------------------------------------------------------------------------


def _documents(principal: ApiPrincipal) -> QuerySet[Document]:
    return (
        Document.objects.filter(customer__in=principal.customers())
        .select_related("corrects", "run")
        .order_by("-issue_date", "-id")
    )


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _payment(
    document: Document, today: date, status: DocumentStatus | None = None
) -> dict[str, Any]:
    raw = document.payment if isinstance(document.payment, dict) else {}
    masked = raw.get("iban_masked") or ""
    return {
        "method": raw.get("method", ""),
        "debit_date": _date(raw.get("debit_date")),
        "due_before": _date(raw.get("due_before")),
        "mandate_reference": raw.get("mandate") or None,
        # Masked again on the way out, whatever the copy holds.
        "iban_masked": iban_mask(masked) if masked else None,
        # how the document stands now (paid, rejected, to pay), as Mon Compte says it
        "text": payment_text(document, today=today, status=status),
    }


def _brief(document: Document, today: date, status: DocumentStatus | None = None) -> dict[str, Any]:
    corrects = document.corrects if document.corrects_id else None
    return {
        "id": document.pk,
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "number": document.number,
        "issue_date": document.issue_date,
        "customer_id": document.customer_id,
        "total": document.total,
        "corrects_id": document.corrects_id,
        "corrects_number": corrects.number if corrects else None,
        "run_month": document.run.month if document.run_id and document.run else None,
        "payment": _payment(document, today, status),
        "pdf_stored": bool(document.pdf),
    }


def _line(line: DocumentLine, explanation: str) -> dict[str, Any]:
    return {
        "position": line.position,
        "kind": line.kind,
        "kind_label": str(LineKind(line.kind).label) if line.kind in LineKind.values else "",
        "section": line.section,
        "section_label": str(Section(line.section).label) if line.section in Section.values else "",
        "contract_id": line.contract_id,
        "product": line.product,
        "label": line.label,
        "period_start": line.period_start,
        "period_end": line.period_end,
        "amount": line.amount,
        "vat_rate": line.vat_rate,
        "data": line.data if isinstance(line.data, dict) else {},
        "explanation": explanation,
    }


def _document_get(request: HttpRequest, document_id: int) -> Document:
    document = None
    if 0 < document_id < MAX_ID:
        document = (
            _documents(principal_of(request))
            .select_related("seller_copy")
            .prefetch_related("lines")
            .filter(pk=document_id)
            .first()
        )
    if document is None:
        raise NotFound("Document introuvable.", field="document_id")
    return document


# --- endpoints -----------------------------------------------------------------------------


@router.get("/documents", response={200: DocumentPage, **READ_ERRORS})
def documents_list(request: HttpRequest, params: Query[DocumentQuery]) -> Any:
    """Factures et avoirs, du plus récent au plus ancien."""
    qs = _documents(principal_of(request))
    if params.customer_id is not None:
        qs = qs.filter(customer_id=params.customer_id)
    if params.kind is not None:
        qs = qs.filter(kind=params.kind.value)
    today = timezone.localdate()
    page = list(qs[params.offset : params.offset + params.limit])
    statuses = documents_status_read(documents=page, today=today)
    return {
        "count": qs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": [_brief(d, today, statuses.get(d.pk)) for d in page],
    }


@router.get("/documents/{document_id}", response={200: DocumentOut, **READ_ERRORS})
def documents_get(request: HttpRequest, document_id: int) -> Any:
    """Un document avec ses lignes expliquées, sa TVA par taux et son paiement."""
    document = _document_get(request, document_id)
    today = timezone.localdate()
    status = documents_status_read(documents=[document], today=today).get(document.pk)
    return {
        **_brief(document, today, status),
        "buyer": {k: str(v) for k, v in (document.buyer or {}).items()},
        "seller": {k: str(v) for k, v in (document.seller or {}).items()},
        "contracts": document_contracts(document=document),
        "vat_breakdown": [
            {
                "rate": Decimal(row["rate"]),
                "net": Decimal(row["net"]),
                "vat": Decimal(row["vat"]),
                "gross": Decimal(row["gross"]),
            }
            for row in document.vat_breakdown or []
        ],
        "lines": [_line(line, text) for line, text in document_explanation(document)],
        "first_invoice_summary": first_invoice_summary(document),
    }


@router.get(
    "/documents/{document_id}/pdf",
    response={200: None, **READ_ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "Le PDF du document.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def documents_pdf(request: HttpRequest, document_id: int) -> Any:
    """Le PDF du document (celui conservé, ou produit à la volée s'il ne l'est pas encore)."""
    document = _document_get(request, document_id)
    pdf = document_pdf_file(document=document)
    if pdf is None:
        raise NotFound(
            "Le PDF de ce document n'est pas encore disponible : réessayez dans quelques minutes.",
            field="document_id",
        )
    response = FileResponse(
        pdf, content_type="application/pdf", as_attachment=False, filename=f"{document.number}.pdf"
    )
    return cast("HttpResponse", response)
