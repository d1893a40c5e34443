"""Mon Compte: Mes factures (list, detail, PDF) and « Combien coûte ma résiliation ? ».

Every document is read through the logged-in customer (``customer_required``): an id typed in
the URL that is not theirs gets the same 404 as an id that does not exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from raccord.billing.explain.document import PaymentState, first_invoice_summary, vat_rows
from raccord.billing.explain.termination_quote import termination_quote_explanation
from raccord.billing.models import Document
from raccord.billing.selectors import (
    customer_document_get,
    customer_documents,
    document_contracts,
    document_pdf_file,
    document_sections_explained,
)
from raccord.contracts.forms import TerminationDateMixin
from raccord.contracts.models import Contract
from raccord.contracts.termination import termination_quote
from raccord.core.errors import DomainError
from raccord.core.models import Policy
from raccord.customers.models import Customer
from raccord.payments.selectors import documents_payment_state
from raccord.portal.forms import PortalForm
from raccord.portal.views import _today, customer_required

PAGE_SIZE = 24


@dataclass(frozen=True)
class DocumentRow:
    document: Document
    payment: PaymentState


def _not_found(request: HttpRequest, customer: Customer, message: str) -> HttpResponse:
    return render(
        request,
        "portal/invoice_missing.html",
        {"customer": customer, "message": message, "section": "invoices"},
        status=404,
    )


@require_GET
@customer_required
def invoices_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    # The list shows no line: the lines' prefetch is dropped, the corrected invoice is kept.
    documents = customer_documents(customer=customer).prefetch_related(None)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    today = _today()
    policy = Policy.get()
    documents_shown = list(page.object_list)
    states = documents_payment_state(documents=documents_shown, today=today)
    return render(
        request,
        "portal/invoices.html",
        {
            "customer": customer,
            "page": page,
            "rows": [
                DocumentRow(d, state) for d, state in zip(documents_shown, states, strict=True)
            ],
            "invoice_day": policy.invoice_day,
            "debit_day": policy.debit_day,
            "section": "invoices",
        },
    )


@require_GET
@customer_required
def invoice_detail_view(request: HttpRequest, customer: Customer, document_id: int) -> HttpResponse:
    document = customer_document_get(customer=customer, document_id=document_id)
    if document is None:
        return _not_found(request, customer, _("Ce document n'existe pas dans votre espace."))
    return render(
        request,
        "portal/invoice_detail.html",
        {
            "customer": customer,
            "document": document,
            "is_credit_note": document.kind == Document.Kind.CREDIT_NOTE,
            "payment": documents_payment_state(documents=[document], today=_today())[0],
            "summary": first_invoice_summary(document),
            "sections": document_sections_explained(document=document),
            "vat": vat_rows(document),
            "contracts": document_contracts(document=document),
            "section": "invoices",
        },
    )


@require_GET
@customer_required
def invoice_pdf_view(request: HttpRequest, customer: Customer, document_id: int) -> HttpResponse:
    document = customer_document_get(customer=customer, document_id=document_id)
    if document is None:
        return _not_found(request, customer, _("Ce document n'existe pas dans votre espace."))
    pdf = document_pdf_file(document=document)
    if pdf is None:
        return _not_found(
            request,
            customer,
            _(
                "Le PDF de ce document est en cours de préparation : réessayez dans quelques "
                "minutes. Son contenu est déjà visible sur cette page."
            ),
        )
    response = FileResponse(
        pdf, content_type="application/pdf", as_attachment=False, filename=f"{document.number}.pdf"
    )
    # A streaming response, which ``customer_required`` passes through untouched.
    return cast("HttpResponse", response)


# --- « Combien coûte ma résiliation aujourd'hui ? » -----------------------------------------

PREVIEWABLE = (Contract.Status.ACTIVE, Contract.Status.TERMINATION_REQUESTED)


class TerminationPreviewForm(TerminationDateMixin, PortalForm):
    field_aliases = {"requested_date": "date", "contract": "contrat"}

    contrat = forms.TypedChoiceField(
        label=gettext_lazy("Contrat"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("Choisissez le contrat."),
            "invalid_choice": gettext_lazy("Choisissez un de vos contrats en service."),
        },
    )
    date = forms.DateField(
        label=gettext_lazy("Date de résiliation souhaitée (facultatif)"),
        required=False,
        help_text=gettext_lazy(
            "Laissez vide pour connaître la date au plus tôt. Format : jj/mm/aaaa."
        ),
        error_messages={"invalid": gettext_lazy("Indiquez une date, par exemple 31/03/2027.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )

    def __init__(
        self, *args: Any, contracts: list[Contract], today: dt.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        contract_field = self.fields["contrat"]
        assert isinstance(contract_field, forms.ChoiceField)
        contract_field.choices = [(c.pk, f"{c.offer_label} ({c.reference})") for c in contracts]


@require_GET
@customer_required
def termination_preview_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    today = _today()
    contracts = list(
        Contract.objects.filter(customer=customer, status__in=PREVIEWABLE)
        .select_related("offer")
        .order_by("-signed_at", "-id")
    )
    data: Any = request.GET.copy() if request.GET else None
    if data is None and contracts:
        data = {"contrat": str(contracts[0].pk)}  # the quote for today, at once
    form = TerminationPreviewForm(data, contracts=contracts, today=today)
    quote = explained = None
    contract = None
    status = 200
    if contracts and form.is_valid():
        contract = next(c for c in contracts if c.pk == form.cleaned_data["contrat"])
        try:
            requested_date = form.cleaned_data["date"]
            quote = termination_quote(contract=contract, on=today, requested_date=requested_date)
            explained = termination_quote_explanation(
                quote,
                requested_date=requested_date,
                already_requested=contract.status == Contract.Status.TERMINATION_REQUESTED,
            )
        except DomainError as error:
            form.add_domain_error(error)
            status = 400
    elif contracts:
        status = 400
    return render(
        request,
        "portal/termination_preview.html",
        {
            "customer": customer,
            "contracts": contracts,
            "form": form,
            "contract": contract,
            "quote": quote,
            "explained": explained,
            "today": today,
            "section": "offer",
        },
        status=status,
    )
