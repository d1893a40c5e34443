"""Back-office document pages: an invoice or credit note explained line by line and its PDF,
and the termination preview of a contract (« combien coûte la résiliation ? »).

Reading a document or a preview changes nothing and goes to the access log."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.backoffice.quotes import PREVIEWABLE
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_AGENT, ROLE_BILLING, role_required
from raccord.backoffice.views import _render
from raccord.billing.explain.document import first_invoice_summary, vat_rows
from raccord.billing.explain.termination_quote import termination_quote_explanation
from raccord.billing.models import Document
from raccord.billing.selectors import (
    document_contracts,
    document_get,
    document_pdf_file,
    document_sections_explained,
)
from raccord.contracts.forms import TerminationDateMixin
from raccord.contracts.models import Contract
from raccord.contracts.termination import termination_quote
from raccord.core.errors import DomainError
from raccord.core.models import Policy
from raccord.payments.selectors import documents_payment_state

logger = logging.getLogger(__name__)


@role_required(ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN)
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = document_get(document_id=document_id)
    if document is None:
        raise Http404(_("Document inconnu."))
    logger.info(
        "backoffice document viewed document=%s customer=%s agent=%s",
        document.pk,
        document.customer_id,
        request.user.pk,
    )
    return _render(
        request,
        "backoffice/document_detail.html",
        {
            "document": document,
            "customer": document.customer,
            "is_credit_note": document.kind == Document.Kind.CREDIT_NOTE,
            "payment": documents_payment_state(documents=[document], today=timezone.localdate())[
                0
            ].text,
            "summary": first_invoice_summary(document),
            "sections": document_sections_explained(document=document),
            "vat": vat_rows(document),
            "corrections": list(document.corrections.order_by("issue_date", "id")),
            "contracts": document_contracts(document=document),
        },
    )


@role_required(ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN)
def document_pdf(request: HttpRequest, document_id: int) -> HttpResponse:
    document = document_get(document_id=document_id)
    if document is None:
        raise Http404(_("Document inconnu."))
    pdf = document_pdf_file(document=document)
    if pdf is None:
        return _render(
            request,
            "backoffice/document_pdf_missing.html",
            {"document": document},
            status=404,
        )
    response = FileResponse(
        pdf, content_type="application/pdf", as_attachment=False, filename=f"{document.number}.pdf"
    )
    return cast("HttpResponse", response)


# --- termination preview ------------------------------------------------------------------


class AgentTerminationPreviewForm(TerminationDateMixin, AccessibleFormMixin, forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date de résiliation souhaitée par le client (facultatif)"),
        required=False,
        help_text=gettext_lazy("Vide : la date au plus tôt, après le délai de préavis."),
        error_messages={"invalid": gettext_lazy("Indiquez une date, par exemple 31/03/2027.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    motif = forms.ChoiceField(
        label=gettext_lazy("Motif légitime (C13, sur justificatif)"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy("Choisissez un motif de la liste de l'opérateur.")
        },
    )

    def __init__(self, *args: Any, today: dt.date, reasons: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        motif = self.fields["motif"]
        assert isinstance(motif, forms.ChoiceField)
        motif.choices = [("", _("aucun"))] + [(r, r) for r in reasons]


@role_required(ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN)
def termination_preview(request: HttpRequest, contract_id: int) -> HttpResponse:
    """« Combien coûte la résiliation ? » for a date the customer asks for, or with a legitimate
    reason the agent would record (C10-C13, S2). A preview: nothing is written."""
    contract = Contract.objects.select_related("customer", "offer").filter(pk=contract_id).first()
    if contract is None:
        raise Http404(_("Contrat inconnu."))
    today = timezone.localdate()
    form = AgentTerminationPreviewForm(
        request.GET or None, today=today, reasons=list(Policy.get().legitimate_reasons)
    )
    quote = explained = None
    error = ""
    status = 200
    if contract.status not in PREVIEWABLE:
        error = _("Ce contrat n'est pas en service : il n'y a pas de résiliation à chiffrer.")
    elif request.GET and not form.is_valid():
        status = 400
    else:
        requested_date = form.cleaned_data.get("date") if form.is_bound else None
        reason = (form.cleaned_data.get("motif") if form.is_bound else "") or None
        try:
            quote = termination_quote(
                contract=contract, on=today, requested_date=requested_date, legitimate_reason=reason
            )
        except DomainError as domain_error:
            if domain_error.field == "legitimate_reason":
                form.add_error("motif", domain_error.message)
                status = 400
            else:
                error = domain_error.message
        else:
            explained = termination_quote_explanation(
                quote,
                requested_date=requested_date,
                already_requested=contract.status == Contract.Status.TERMINATION_REQUESTED,
            )
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "backoffice/termination_preview.html",
        {
            "contract": contract,
            "customer": contract.customer,
            "form": form,
            "quote": quote,
            "explained": explained,
            "error": error,
            "today": today,
        },
        status=status,
    )
