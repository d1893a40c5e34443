"""Payments reads: what each document still needs, its status in plain French, a customer's
balance, what is due and how to pay it, the payments received.

The ledger, in three lines (the payments contract):

- a document's **outstanding** amount is ``Document.total - Σ Allocation.amount`` of that
  document: an invoice with outstanding > 0 is still due; a credit note (negative total) with
  outstanding < 0 still has to be given back (refund or compensation, ``raccord.payments.refunds``);
- a customer's **credit** is ``Σ Payment.amount - Σ Allocation.amount`` over their payments: money
  received and not yet allocated to an invoice (an overpayment);
- a customer's **balance** is ``Σ Document.total (invoices +, credit notes −) - Σ Payment.amount``
  (received +, refunded or returned −). Positive: the customer owes it; negative: the operator
  owes it. It always equals ``Σ outstanding - credit``, which the tests check.

Every read below costs a fixed number of queries whatever the number of documents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from raccord.billing.explain.document import PaymentState, payment_state
from raccord.billing.explain.french import day_month_text, day_text
from raccord.billing.models import Document
from raccord.core.money import ZERO
from raccord.customers.models import Customer
from raccord.payments.models import (
    Allocation,
    Debit,
    DunningCase,
    Mandate,
    Payment,
    Refund,
)
from raccord.payments.sepa.reasons import REASONS

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)


def return_reason_text(code: str) -> str:
    """« provision insuffisante (AM04) » (the wording of ``raccord.payments.sepa.reasons``)."""
    code = (code or "").strip().upper()
    if not code:
        return _("motif non précisé")
    reason = REASONS.get(code)
    return f"{reason.label} ({code})" if reason else _("motif %(code)s") % {"code": code}


def return_needs_new_mandate(code: str) -> bool:
    """The bank says this account cannot be debited again (closed, no mandate…)."""
    reason = REASONS.get((code or "").strip().upper())
    return reason is not None and reason.new_mandate


def allocated_sum() -> Subquery:
    """Σ allocations of the outer document (a subquery; None when it has none)."""
    return Subquery(
        Allocation.objects.filter(document=OuterRef("pk"))
        .order_by()
        .values("document")
        .annotate(s=Sum("amount"))
        .values("s")[:1],
        output_field=MONEY,
    )


def with_allocated(documents: QuerySet[Document]) -> QuerySet[Document]:
    """``documents`` annotated with ``allocated`` (Σ allocations, 0 when none)."""
    return documents.annotate(allocated=Coalesce(allocated_sum(), Value(ZERO), output_field=MONEY))


def documents_outstanding(*, document_ids: Iterable[int]) -> dict[int, Decimal]:
    """For each document id: total − Σ allocations (what an invoice still needs; negative for a
    credit note not yet given back). One query."""
    ids = list(document_ids)
    if not ids:
        return {}
    rows = with_allocated(Document.objects.filter(pk__in=ids)).values_list(  # type: ignore[misc]
        "pk", "total", "allocated"
    )
    return {pk: total - allocated for pk, total, allocated in rows}


def customer_credit(*, customer: Customer | int) -> Decimal:
    """Money received from the customer and not allocated to any invoice (an overpayment)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    paid = Payment.objects.filter(customer_id=customer_id).aggregate(s=Sum("amount"))["s"] or ZERO
    allocated = (
        Allocation.objects.filter(payment__customer_id=customer_id).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    return paid - allocated


@dataclass(frozen=True)
class Balance:
    documents: Decimal  # Σ invoice totals − Σ credit note amounts
    payments: Decimal  # Σ received − Σ given back or returned
    balance: Decimal  # documents − payments: > 0 owed by the customer, < 0 owed to them

    @property
    def owed_by_customer(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def owed_to_customer(self) -> Decimal:
        return max(-self.balance, ZERO)


def customer_balance(*, customer: Customer | int) -> Balance:
    """The customer's balance (formula in the module docstring). Two queries."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    documents = (
        Document.objects.filter(customer_id=customer_id).aggregate(s=Sum("total"))["s"] or ZERO
    )
    payments = (
        Payment.objects.filter(customer_id=customer_id).aggregate(s=Sum("amount"))["s"] or ZERO
    )
    return Balance(documents=documents, payments=payments, balance=documents - payments)


# --- status of each document ------------------------------------------------------------------


class Tone:
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


@dataclass
class DocumentStatus:
    """A document with what it still needs and its status in plain French."""

    document: Document
    outstanding: Decimal
    code: str
    label: str
    tone: str
    return_reason: str = ""
    refund: Refund | None = None
    return_code: str = ""
    debit_date: date | None = None  # the latest debit's date, for « prélèvement du 5 mars »
    # With ``with_payments``: the latest payment into an invoice (date and method), for
    # « payée le 7 mars (chèque) ».
    paid_on: date | None = None
    paid_by: str = ""

    @property
    def new_mandate_needed(self) -> bool:
        return bool(self.return_code) and return_needs_new_mandate(self.return_code)

    @property
    def action_needed(self) -> bool:
        """The customer has to pay it themselves (a debit will not take the money)."""
        return self.code in ACTION_CODES

    @property
    def is_invoice(self) -> bool:
        return self.document.kind == Document.Kind.INVOICE

    @property
    def due(self) -> Decimal:
        """What the customer still has to pay for this document (0 for a credit note)."""
        return self.outstanding if self.is_invoice and self.outstanding > 0 else ZERO

    @property
    def partly_paid(self) -> bool:
        return self.is_invoice and ZERO < self.outstanding < self.document.total


def _invoice_status(
    document: Document,
    outstanding: Decimal,
    debit: tuple[str, str, date | None] | None,
    today: date,
) -> tuple[str, str, str, str]:
    """(code, label, tone, return reason) of an invoice."""
    if outstanding <= 0:
        return "paid", _("payée"), Tone.OK, ""
    if debit is not None and debit[0] == Debit.Status.COLLECTING:
        return "collecting", _("en cours de prélèvement"), Tone.INFO, ""
    if debit is not None and debit[0] == Debit.Status.RETURNED:
        return (
            "returned",
            _("prélèvement rejeté – à régler"),
            Tone.DANGER,
            return_reason_text(debit[1]),
        )
    due = document.due_date
    if document.payment_method == "sepa":
        if due is not None and today <= due:
            return (
                "scheduled",
                _("prélèvement prévu le %(day)s") % {"day": day_month_text(due)},
                Tone.INFO,
                "",
            )
        return "awaiting_debit", _("en attente de prélèvement"), Tone.INFO, ""
    if due is None:
        return "due", _("à régler"), Tone.WARNING, ""
    if today < due:  # P5: before day 10, day 10 itself is late
        return (
            "due",
            _("à régler avant le %(day)s") % {"day": day_month_text(due)},
            Tone.WARNING,
            "",
        )
    return "late", _("en retard"), Tone.DANGER, ""


def _credit_note_status(outstanding: Decimal, refund: Refund | None) -> tuple[str, str, str]:
    if refund is not None and refund.status == Refund.Status.PAID:
        if refund.method == Refund.Method.CHEQUE:
            return "refunded", _("remboursé par chèque"), Tone.OK
        return "refunded", _("remboursé par virement"), Tone.OK
    if refund is not None and refund.status == Refund.Status.EXPORTED:
        return "refund_sent", _("virement de remboursement émis"), Tone.OK
    if outstanding >= 0:
        return "offset", _("déduit de vos factures"), Tone.OK
    if refund is not None and refund.method == Refund.Method.CHEQUE:
        return "refund_pending", _("remboursement par chèque en préparation"), Tone.INFO
    if refund is not None:
        return "refund_pending", _("remboursement par virement en préparation"), Tone.INFO
    return "to_refund", _("à rembourser"), Tone.INFO


def documents_status(
    *,
    documents: list[Document],
    today: date,
    outstanding: dict[int, Decimal] | None = None,
    latest_payments: dict[int, tuple[date, str]] | None = None,
) -> list[DocumentStatus]:
    """The status of each document. Its outstanding amount comes from ``outstanding`` or else
    from the ``allocated`` annotation of ``with_allocated``; ``latest_payments`` (date and
    method of the latest payment into each invoice) fills ``paid_on`` and ``paid_by``. Two
    queries: the latest debit of each invoice, the refunds."""
    ids = [d.pk for d in documents]
    latest_debit: dict[int, tuple[str, str, date | None]] = {}
    debit_dates: dict[int, date] = {}
    refunds: dict[int, Refund] = {}
    payments = latest_payments or {}
    if ids:
        for document_id, status, reason, returned_on, debit_date in (
            Debit.objects.filter(document_id__in=ids)
            .order_by("document_id", "id")
            .values_list(
                "document_id", "status", "return_reason", "returned_on", "batch__debit_date"
            )
        ):
            latest_debit[document_id] = (status, reason, returned_on)
            debit_dates[document_id] = debit_date
        credit_ids = [d.pk for d in documents if d.kind == Document.Kind.CREDIT_NOTE]
        if credit_ids:
            refunds = {r.document_id: r for r in Refund.objects.filter(document_id__in=credit_ids)}
    result = []
    for document in documents:
        if outstanding is not None:
            left = outstanding[document.pk]
        else:
            allocated = getattr(document, "allocated", None)
            if allocated is None:
                raise ValueError("documents_status needs documents from with_allocated()")
            left = document.total - allocated
        if document.kind == Document.Kind.INVOICE:
            debit = latest_debit.get(document.pk)
            code, label, tone, reason = _invoice_status(document, left, debit, today)
            paid_on, paid_by = payments.get(document.pk, (None, ""))
            result.append(
                DocumentStatus(
                    document,
                    left,
                    code,
                    label,
                    tone,
                    reason,
                    return_code=debit[1] if debit is not None and code == "returned" else "",
                    debit_date=debit_dates.get(document.pk),
                    paid_on=paid_on,
                    paid_by=paid_by,
                )
            )
        else:
            refund = refunds.get(document.pk)
            code, label, tone = _credit_note_status(left, refund)
            result.append(DocumentStatus(document, left, code, label, tone, refund=refund))
    return result


def documents_status_read(*, documents: list[Document], today: date) -> dict[int, DocumentStatus]:
    """The status of documents read without the ``allocated`` annotation (a document page, a
    page of a list), with their latest payment, by document id. Two queries whatever the number
    of documents (the allocations, the debits), three with a credit note among them."""
    ids = [d.pk for d in documents]
    allocated: dict[int, Decimal] = dict.fromkeys(ids, ZERO)
    latest: dict[int, tuple[date, str]] = {}
    if ids:
        for document_id, amount, received_on, method in (
            Allocation.objects.filter(document_id__in=ids)
            .order_by("document_id", "payment__received_on", "payment_id", "id")
            .values_list("document_id", "amount", "payment__received_on", "payment__method")
        ):
            allocated[document_id] += amount
            if amount > 0:
                latest[document_id] = (received_on, method)
    statuses = documents_status(
        documents=documents,
        today=today,
        outstanding={d.pk: d.total - allocated[d.pk] for d in documents},
        latest_payments=latest,
    )
    return {s.document.pk: s for s in statuses}


def documents_payment_state(*, documents: list[Document], today: date) -> list[PaymentState]:
    """How each document stands (« payée le 7 novembre (chèque) », « prélèvement du 5 novembre
    rejeté : 30,90 € à régler »…), for Mes factures and the back-office: the words of
    ``payment_state`` on the status above. The queries of ``documents_status_read``."""
    statuses = documents_status_read(documents=documents, today=today)
    return [payment_state(d, today=today, status=statuses.get(d.pk)) for d in documents]


def customer_documents_status(
    *, customer: Customer | int, today: date, limit: int | None = None
) -> list[DocumentStatus]:
    """The customer's documents, newest first, with their status. Three queries."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    query = with_allocated(
        Document.objects.filter(customer_id=customer_id)
        .select_related("corrects")
        .order_by("-issue_date", "-id")
    )
    documents = list(query[:limit] if limit else query)
    return documents_status(documents=documents, today=today)


def due_invoices(*, customer: Customer | int) -> QuerySet[Document]:
    """The customer's invoices still due, oldest first, annotated with ``allocated``."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    return (
        with_allocated(Document.objects.filter(customer_id=customer_id, kind="invoice"))
        .filter(total__gt=Coalesce(allocated_sum(), Value(ZERO), output_field=MONEY))
        .order_by("issue_date", "id")
    )


def collecting_document_ids(*, document_ids: Iterable[int]) -> set[int]:
    """The documents among ``document_ids`` that a debit is collecting right now."""
    ids = list(document_ids)
    if not ids:
        return set()
    return set(
        Debit.objects.filter(document_id__in=ids, status=Debit.Status.COLLECTING).values_list(
            "document_id", flat=True
        )
    )


@dataclass
class Dues:
    """What the customer has to do now."""

    invoices: list[DocumentStatus]  # still due, oldest first
    total: Decimal  # Σ due
    credit: Decimal  # an overpayment not yet allocated
    to_pay: Decimal  # total − credit, never below 0
    rejected: list[DocumentStatus] = field(default_factory=list)  # debit returned, to pay
    collecting: Decimal = ZERO  # being collected by direct debit: nothing to do

    @property
    def action_needed(self) -> bool:
        """Something the customer must pay themselves (not what a debit will take)."""
        return any(s.code in ACTION_CODES for s in self.invoices) and self.to_pay > 0

    @property
    def to_pay_now(self) -> list[DocumentStatus]:
        """The invoices the customer must pay themselves, oldest first."""
        return [s for s in self.invoices if s.action_needed]

    @property
    def overdue(self) -> bool:
        """An invoice to pay is past its due date (late, or its debit was rejected)."""
        return any(s.code in ("late", "returned") for s in self.invoices)


# Statuses where the customer has to act (a debit will not take the money).
ACTION_CODES = {"returned", "due", "late"}


def customer_dues(*, customer: Customer | int, today: date) -> Dues:
    """What is due and what the customer must pay themselves. Four queries."""
    statuses = documents_status(documents=list(due_invoices(customer=customer)), today=today)
    credit = customer_credit(customer=customer)
    total = sum((s.due for s in statuses), start=ZERO)
    return Dues(
        invoices=statuses,
        total=total,
        credit=max(credit, ZERO),
        to_pay=max(
            sum((s.due for s in statuses if s.code in ACTION_CODES), start=ZERO)
            - max(credit, ZERO),
            ZERO,
        ),
        rejected=[s for s in statuses if s.code == "returned"],
        collecting=sum((s.due for s in statuses if s.code == "collecting"), start=ZERO),
    )


def transfer_reference(*, customer_reference: str, document_number: str = "") -> str:
    """What a transfer's label says so that the money is matched to the customer and the
    invoice: « C0000006 F2026-000006 » (without an invoice, the customer number alone). Mes
    paiements and the dunning email both give this one."""
    return f"{customer_reference} {document_number}".strip()


def customer_payments(*, customer: Customer | int, limit: int | None = None) -> list[Payment]:
    """The customer's payments, newest first, with what each paid (allocations and their
    documents in one prefetch). Two queries."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    query = (
        Payment.objects.filter(customer_id=customer_id)
        .select_related("refund__document")
        .prefetch_related("allocations__document")
        .order_by("-received_on", "-id")
    )
    return list(query[:limit] if limit else query)


def payment_text(payment: Payment) -> str:
    """« Chèque n° 1234567 », « Prélèvement SEPA », « Avoir A2027-000003 déduit »,
    « Prélèvement rejeté par votre banque – F2027-000006 » (money that never came, not money
    given back)…"""
    if payment.method == Payment.Method.REFUND and payment.refund_id is None:
        return _("Avoir déduit de vos factures")
    if payment.method == Payment.Method.SEPA_RETURN:
        text = _("Prélèvement rejeté par votre banque")
        return f"{text} – {payment.reference}" if payment.reference else text
    label = str(payment.get_method_display())
    if payment.reference and payment.method != Payment.Method.SEPA:
        return f"{label} – {payment.reference}"
    return label


def open_dunning_cases(*, customer: Customer | int) -> list[DunningCase]:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return list(
        DunningCase.objects.filter(
            customer_id=customer_id,
            status__in=(DunningCase.Status.OPEN, DunningCase.Status.SUSPENDED),
        )
        .select_related("document")
        .order_by("opened_on", "id")
    )


# --- mandates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateInfo:
    mandate: Mandate
    # « le prélèvement du 5 mars 2027 utilisera le compte FR76 **** **** 1234 » for a pending one
    first_debit: date | None = None

    @property
    def first_debit_text(self) -> str:
        if self.first_debit is None:
            return ""
        return _("le prélèvement du %(day)s utilisera le compte %(iban)s") % {
            "day": day_text(self.first_debit),
            "iban": self.mandate.iban_masked,
        }


@dataclass
class CustomerMandates:
    in_force: Mandate | None  # the mandate the next debits use (active)
    pending: list[MandateInfo]  # signed, in force from a later debit (P4)
    history: list[Mandate]  # all, newest first
    lapsed: bool  # P7: the latest mandate lapsed and no newer one is signed
    sepa_payer: bool  # at least one contract paid by direct debit


def customer_mandates(*, customer: Customer | int, debit_day: int) -> CustomerMandates:
    """The customer's mandates for Mon Compte and the back-office. Two queries."""
    from raccord.contracts.models import Contract
    from raccord.payments.calendar import debit_date_of_month

    customer_id = customer if isinstance(customer, int) else customer.pk
    history = list(Mandate.objects.filter(customer_id=customer_id).order_by("-signed_at", "-id"))
    sepa_payer = Contract.objects.filter(
        Q(customer_id=customer_id), Q(payment_method="sepa")
    ).exists()
    active = [m for m in history if m.status == Mandate.Status.ACTIVE]
    pending = sorted(
        (m for m in history if m.status == Mandate.Status.PENDING),
        key=lambda m: (m.applies_from or date.min, m.pk),
    )
    pending_info = [
        MandateInfo(
            m,
            debit_date_of_month(
                year=m.applies_from.year, month=m.applies_from.month, debit_day=debit_day
            )
            if m.applies_from
            else None,
        )
        for m in pending
    ]
    latest = history[0] if history else None
    return CustomerMandates(
        in_force=active[0] if active else None,
        pending=pending_info,
        history=history,
        lapsed=latest is not None and latest.status == Mandate.Status.LAPSED,
        sepa_payer=sepa_payer,
    )
