"""Mon Compte: « Mes paiements » (balance, what is due and how to pay, payments received, a
rejected debit, the account debited) and the bank-details change signed online (P4).

Every read goes through the logged-in customer (``customer_required``): nothing here takes a
customer, document or mandate id from the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from raccord.billing.explain.french import day_text
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile, Policy
from raccord.core.ratelimit import client_ip, rate_limit_hit
from raccord.customers.models import Customer
from raccord.payments.calendar import debit_date_of_month
from raccord.payments.forms import BankDetailsForm
from raccord.payments.mandates import mandate_applies_from, mandate_change, mandate_first_debit
from raccord.payments.models import DunningCase, Mandate, Payment
from raccord.payments.refunds import operator_account
from raccord.payments.selectors import (
    CustomerMandates,
    Dues,
    customer_balance,
    customer_documents_status,
    customer_dues,
    customer_mandates,
    customer_payments,
    open_dunning_cases,
    payment_text,
    transfer_reference,
)
from raccord.portal import clock
from raccord.portal.views import _today, customer_required

DOCUMENTS_SHOWN = 12
PAYMENTS_SHOWN = 24
SIGNATURE_ATTEMPTS = 5  # wrong passwords per customer and quarter of an hour
SIGNATURE_WINDOW = 15 * 60


@dataclass(frozen=True)
class PaymentRow:
    received_on: date
    text: str
    amount: Any
    late: bool
    paid: str  # the documents it paid
    returned: bool = False  # a rejected debit: money that never came, not money given back


def _payment_rows(customer: Customer) -> list[PaymentRow]:
    rows = []
    for payment in customer_payments(customer=customer, limit=PAYMENTS_SHOWN):
        paid = ", ".join(a.document.number for a in payment.allocations.all() if a.amount > 0)
        rows.append(
            PaymentRow(
                payment.received_on,
                payment_text(payment),
                payment.amount,
                payment.late,
                paid,
                returned=payment.method == Payment.Method.SEPA_RETURN,
            )
        )
    return rows


def next_change_sentence(*, today: date, policy: Policy) -> str:
    """P4, for a change signed today: « le prélèvement du 5 mars 2027 utilisera … »."""
    applies = mandate_applies_from(signed_on=today, policy=policy)
    first = debit_date_of_month(year=applies.year, month=applies.month, debit_day=policy.debit_day)
    return _(
        "Signé aujourd'hui, ce nouveau mandat servira à partir du prélèvement du %(day)s : les "
        "prélèvements d'ici là restent faits sur votre compte actuel."
    ) % {"day": day_text(first)}


def _transfer_account() -> tuple[str, str]:
    try:
        account = operator_account()
    except DomainError:
        return "", ""
    return account.iban, account.bic


def payments_context(customer: Customer, *, today: date) -> dict[str, Any]:
    """What « Mes paiements » shows. A fixed number of queries, whatever the history."""
    policy = Policy.get()
    dues: Dues = customer_dues(customer=customer, today=today)
    mandates: CustomerMandates = customer_mandates(customer=customer, debit_day=policy.debit_day)
    iban, bic = _transfer_account()
    return {
        "customer": customer,
        "today": today,
        "policy": policy,
        "balance": customer_balance(customer=customer),
        "dues": dues,
        "dunning": open_dunning_cases(customer=customer),
        "documents": customer_documents_status(
            customer=customer, today=today, limit=DOCUMENTS_SHOWN
        ),
        "payments": _payment_rows(customer),
        "mandates": mandates,
        "transfer_iban": iban,
        "transfer_bic": bic,
        "transfer_references": [
            (
                status.document.number,
                transfer_reference(
                    customer_reference=customer.reference, document_number=status.document.number
                ),
            )
            for status in dues.to_pay_now
        ],
        "transfer_reference": transfer_reference(customer_reference=customer.reference),
        "suspended": DunningCase.Status.SUSPENDED,
        "section": "payments",
    }


@require_GET
@customer_required
def payments_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    return render(
        request, "payments/portal/payments.html", payments_context(customer, today=_today())
    )


def _signature_throttled(request: HttpRequest, customer: Customer) -> bool:
    moment = clock.now().timestamp()
    return rate_limit_hit(
        scope="mandate-signature",
        key=f"{customer.pk}",
        limit=SIGNATURE_ATTEMPTS,
        window_seconds=SIGNATURE_WINDOW,
        now=moment,
    )


@sensitive_post_parameters("password", "iban")
@require_http_methods(["GET", "POST"])
@customer_required
def bank_details_view(request: HttpRequest, customer: Customer) -> HttpResponse:
    today = _today()
    policy = Policy.get()
    creditor = OperatorProfile.get().legal_name
    mandates = customer_mandates(customer=customer, debit_day=policy.debit_day)
    form = BankDetailsForm(
        request.POST or None,
        creditor=creditor,
        initial={
            "holder": mandates.in_force.debtor_name if mandates.in_force else customer.full_name
        },
    )
    status = 200
    if request.method == "POST" and not mandates.sepa_payer:
        status = 400  # the page says why: nothing is debited, there is no account to change
    elif request.method == "POST":
        if form.is_valid():
            user = customer.user
            if _signature_throttled(request, customer):
                form.add_error(
                    None,
                    _("Trop d'essais : attendez un quart d'heure avant de signer à nouveau."),
                )
            elif user is None or not user.check_password(form.cleaned_data["password"]):
                form.add_error(
                    "password", _("Ce mot de passe n'est pas le bon : le mandat n'est pas signé.")
                )
            else:
                try:
                    mandate = mandate_change(
                        customer=customer,
                        iban=form.cleaned_data["iban"],
                        debtor_name=form.cleaned_data["holder"],
                        signed_at=clock.now(),
                        method=Mandate.SignatureMethod.ONLINE,
                        ip=client_ip(request),
                        actor=Actor.customer(request.user),
                    )
                except DomainError as error:
                    form.add_domain_error(error)
                else:
                    first = mandate_first_debit(mandate=mandate, policy=policy)
                    messages.success(
                        request,
                        _(
                            "Votre nouveau mandat %(reference)s est signé : le prélèvement du "
                            "%(day)s utilisera le compte %(iban)s."
                        )
                        % {
                            "reference": mandate.reference,
                            "day": day_text(first) if first else "",
                            "iban": iban_mask(mandate.iban),
                        },
                    )
                    return redirect("portal:payments")
        status = 400
    return render(
        request,
        "payments/portal/bank_details.html",
        {
            "customer": customer,
            "form": form,
            "mandates": mandates,
            "creditor": creditor,
            "creditor_id": OperatorProfile.get().sepa_creditor_id,
            "sentence": next_change_sentence(today=today, policy=policy),
            "section": "payments",
        },
        status=status,
    )
