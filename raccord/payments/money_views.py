"""Back-office money pages: a customer's payments panel, recording a payment (cheque, transfer,
card), a bank-details change taken by phone or from a paper form, the refunds to make and their
transfer file, a refund paid by cheque.

Roles: any back-office role reads, and takes a bank-details change (an agent on the phone with
the customer); only billing and admin record or give back money."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raccord.backoffice.roles import ROLE_ADMIN, ROLE_BILLING, ROLE_LABELS, role_required, user_role
from raccord.billing.explain.french import euros
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.customers.models import Customer
from raccord.payments.forms import AgentBankDetailsForm, PaymentRecordForm, RefundChequeForm
from raccord.payments.ledger import cheque_key, payment_record
from raccord.payments.mandates import mandate_change, mandate_first_debit
from raccord.payments.models import Mandate, Payment, Refund, RefundBatch
from raccord.payments.refunds import (
    refund_cheque_record,
    refunds_export,
    refunds_prepare,
    refunds_to_make,
)
from raccord.payments.selectors import (
    customer_balance,
    customer_documents_status,
    customer_dues,
    customer_mandates,
    customer_payments,
    due_invoices,
    open_dunning_cases,
    payment_text,
)

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
MONEY_ROLES = (ROLE_BILLING, ROLE_ADMIN)
SHOWN = 12


def _render(
    request: HttpRequest, name: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    role = user_role(request.user)
    context = {"bo_role": role, "bo_role_label": ROLE_LABELS.get(role or "", ""), **context}
    return render(request, name, context, status=status)


def _customer(customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("Client inconnu."))
    return customer


def _agent(request: HttpRequest) -> Actor:
    return Actor.agent(request.user)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    text: str
    paid: str


def customer_panel_context(customer: Customer, *, today: date, role: str | None) -> dict[str, Any]:
    """What the money panel of a customer shows (keys prefixed: it renders inside the page)."""
    policy = Policy.get()
    mandates = customer_mandates(customer=customer, debit_day=policy.debit_day)
    payments = [
        PaymentRow(
            p,
            payment_text(p),
            ", ".join(f"{a.document.number} ({euros(a.amount)})" for a in p.allocations.all()),
        )
        for p in customer_payments(customer=customer, limit=SHOWN)
    ]
    pending_first_debit = {
        info.mandate.pk: info.first_debit for info in mandates.pending if info.first_debit
    }
    return {
        "money_customer": customer,
        "money_balance": customer_balance(customer=customer),
        "money_dues": customer_dues(customer=customer, today=today),
        "money_documents": customer_documents_status(customer=customer, today=today, limit=SHOWN),
        "money_payments": payments,
        "money_mandates": mandates,
        "money_first_debits": pending_first_debit,
        "money_refunds": list(
            Refund.objects.filter(customer=customer, status=Refund.Status.PENDING).select_related(
                "document"
            )
        ),
        "money_dunning": open_dunning_cases(customer=customer),
        "money_can_move": role in MONEY_ROLES,
    }


@require_GET
@role_required()
def customer_money(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The money panel on a page of its own (the customer page shows the same panel)."""
    customer = _customer(customer_id)
    role = user_role(request.user)
    return _render(
        request,
        "payments/money/customer_money.html",
        {
            "customer": customer,
            **customer_panel_context(customer, today=timezone.localdate(), role=role),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*MONEY_ROLES)
def payment_record_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(customer_id)
    invoices = list(due_invoices(customer=customer))
    today = timezone.localdate()
    form = PaymentRecordForm(
        request.POST or None, invoices=invoices, initial={"received_on": today}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            method = data["method"]
            if method == Payment.Method.CHEQUE:
                key: str | None = cheque_key(bank=data["bank"], number=data["number"])
                reference = f"Chèque n° {data['number'].strip()} ({data['bank'].strip()})"
            else:
                reference = data["reference"].strip()
                key = f"{method}:{reference}" if reference else None
            try:
                payment = payment_record(
                    customer=customer,
                    method=method,
                    amount=data["amount"],
                    received_on=data["received_on"],
                    reference=reference,
                    key=key,
                    document_ids=data["invoices"] or None,
                    note=data["note"],
                    actor=_agent(request),
                    at=timezone.now(),
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                text = _("Paiement de %(amount)s € enregistré.") % {"amount": payment.amount}
                if payment.late:
                    text += " " + _("Chèque reçu en retard (P5).")
                messages.success(request, text)
                return redirect("backoffice:customer_money", customer_id=customer.pk)
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "payments/money/payment_record.html",
        {"customer": customer, "form": form, "invoices": invoices},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required()
def mandate_change_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(customer_id)
    today = timezone.localdate()
    policy = Policy.get()
    mandates = customer_mandates(customer=customer, debit_day=policy.debit_day)
    form = AgentBankDetailsForm(
        request.POST or None,
        today=today,
        initial={
            "holder": mandates.in_force.debtor_name if mandates.in_force else customer.full_name,
            "method": Mandate.SignatureMethod.PHONE.value,
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            now = timezone.now()
            paper = data["method"] == Mandate.SignatureMethod.PAPER
            signed_at = (
                datetime.combine(data["signed_on"], time(12), tzinfo=PARIS) if paper else now
            )
            try:
                mandate = mandate_change(
                    customer=customer,
                    iban=data["iban"],
                    debtor_name=data["holder"],
                    signed_at=signed_at,
                    method=data["method"],
                    ip=None,
                    actor=_agent(request),
                    on=today,
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                first = mandate_first_debit(mandate=mandate, policy=policy)
                messages.success(
                    request,
                    _(
                        "Mandat %(reference)s enregistré : le prélèvement du %(day)s utilisera le compte %(iban)s."
                    )
                    % {
                        "reference": mandate.reference,
                        "day": f"{first:%d/%m/%Y}" if first else "",
                        "iban": mandate.iban_masked,
                    },
                )
                return redirect("backoffice:customer_money", customer_id=customer.pk)
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "payments/money/mandate_change.html",
        {"customer": customer, "form": form, "mandates": mandates},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(*MONEY_ROLES)
def refund_cheque_page(request: HttpRequest, refund_id: int) -> HttpResponse:
    refund = Refund.objects.select_related("document", "customer").filter(pk=refund_id).first()
    if refund is None:
        raise Http404(_("Remboursement inconnu."))
    form = RefundChequeForm(request.POST or None, initial={"paid_on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                refund_cheque_record(
                    refund=refund,
                    cheque_number=form.cleaned_data["cheque_number"],
                    paid_on=form.cleaned_data["paid_on"],
                    actor=_agent(request),
                    at=timezone.now(),
                )
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("Remboursement de l'avoir %(number)s par chèque enregistré.")
                    % {"number": refund.document.number},
                )
                return redirect("backoffice:customer_money", customer_id=refund.customer_id)
    form.mark_for_assistive_technologies()
    return _render(
        request,
        "payments/money/refund_cheque.html",
        {"refund": refund, "customer": refund.customer, "form": form},
        status=status,
    )


@require_GET
@role_required(*MONEY_ROLES)
def refunds_page(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "payments/money/refunds.html",
        {
            "refunds": refunds_to_make(),
            "batches": list(RefundBatch.objects.order_by("-created_on", "-id")[:SHOWN]),
        },
    )


@require_POST
@role_required(*MONEY_ROLES)
def refunds_run(request: HttpRequest) -> HttpResponse:
    """« Préparer » creates the refunds of new credit notes; « Créer le fichier » also writes
    the transfer file of the pending transfers."""
    today = timezone.localdate()
    actor = _agent(request)
    try:
        created = refunds_prepare(on=today, actor=actor)
        messages.success(request, _("%(n)d remboursement(s) préparé(s).") % {"n": len(created)})
        if request.POST.get("action") == "export":
            result = refunds_export(on=today, actor=actor)
            if result is None or not result.created:
                messages.info(request, _("Aucun nouveau virement à émettre."))
            else:
                messages.success(
                    request,
                    _("Fichier %(id)s créé : %(n)d virement(s).")
                    % {"id": result.batch.message_id, "n": result.batch.count},
                )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("backoffice:refunds")


@require_GET
@role_required(*MONEY_ROLES)
def refund_batch_file(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = RefundBatch.objects.filter(pk=batch_id).first()
    if batch is None or not batch.file or not default_storage.exists(batch.file.name):
        raise Http404(_("Fichier introuvable."))
    logger.info("refund file downloaded batch=%s agent=%s", batch.pk, request.user.pk)
    response = FileResponse(
        batch.file.open("rb"),
        as_attachment=True,
        filename=f"{batch.message_id}.xml",
        content_type="application/xml",
    )
    return response  # type: ignore[return-value]
