"""The copies a document carries of the seller's, buyer's, payment and contract data (B9, P1,
P4, P5), read for many customers at once and written as JSON text directly.

Used by ``raccord.billing.documents`` to build a batch's documents: reads are set-based (a
batch costs a constant number of queries) and each customer's copies are serialised once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder

from raccord.billing.models import Document
from raccord.contracts.models import Contract
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile, Policy
from raccord.customers.models import Customer
from raccord.payments.calendar import cheque_due_date, invoice_debit_date
from raccord.payments.mandates import MANDATE_ROW, mandate_rows_in_force
from raccord.payments.models import Mandate

MANDATE_REFERENCE = MANDATE_ROW.index("reference")
MANDATE_IBAN = MANDATE_ROW.index("iban")


def seller_snapshot(profile: OperatorProfile) -> dict[str, str]:
    return {
        "legal_name": profile.legal_name,
        "trade_name": profile.trade_name,
        "address": profile.address,
        "siren": profile.siren,
        "vat_number": profile.vat_number,
        "customer_service_phone": profile.customer_service_phone,
        "customer_service_hours": profile.customer_service_hours,
        "customer_service_email": profile.customer_service_email,
        "customer_service_address": profile.customer_service_address,
        "billing_address": profile.billing_address,
        "mediator_name": profile.mediator_name,
        "mediator_address": profile.mediator_address,
        "mediator_url": profile.mediator_url,
        "creditor_id": profile.sepa_creditor_id,
    }


# One encoder for every other JSON copy (``json.dumps`` builds an encoder per call; escaping
# non-ASCII characters is twice as fast in CPython 3.11's C encoder, and jsonb, like any JSON
# reader, gives back the same text).
_json = DjangoJSONEncoder().encode


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _quoted(value)


def _buyer_json(
    reference: str, name: str, address: str, postal_code: str, city: str, email: str
) -> str:
    """The buyer copy of every document of a customer, written as JSON text directly (a
    million customers a month: the general encoder costs ten times more)."""
    return (
        f'{{"reference": {_quoted(reference)}, "name": {_quoted(name)}, '
        f'"address": {_quoted(address)}, "postal_code": {_quoted(postal_code)}, '
        f'"city": {_quoted(city)}, "email": {_quoted(email)}}}'
    )


def _contract_json(reference: str, offer: str, commitment_end: date | None) -> str:
    end = f'"{commitment_end.isoformat()}"' if commitment_end else "null"
    return (
        f'{{"reference": {_quoted(reference)}, "offer": {_quoted(offer)}, "commitment_end": {end}}}'
    )


def _payment_json(payment: dict[str, str | None]) -> str:
    """The payment copy as JSON text: the shapes ``_payment`` makes are written directly (one
    per document), any other through the encoder."""
    method = payment["method"]
    keys = payment.keys()
    if method == "sepa" and keys == _SEPA_KEYS:
        return (
            f'{{"method": "sepa", "debit_date": {_text_or_null(payment["debit_date"])}, '
            f'"mandate": {_text_or_null(payment["mandate"])}, '
            f'"iban_masked": {_text_or_null(payment["iban_masked"])}}}'
        )
    if method == "cheque" and keys == _CHEQUE_KEYS:
        return f'{{"method": "cheque", "due_before": {_text_or_null(payment["due_before"])}}}'
    return _json(payment)


_SEPA_KEYS = {"method", "debit_date", "mandate", "iban_masked"}
_CHEQUE_KEYS = {"method", "due_before"}


class CustomerInfo(NamedTuple):
    buyer: str  # JSON
    payment_method: str
    mandate_reference: str
    iban_masked: str
    contracts: dict[int, str]  # contract id → JSON of its copy


def customers_info(customer_ids: Iterable[int], *, debit_month: date) -> dict[int, CustomerInfo]:
    """Buyer data, payment method, mandate and contracts of many customers in three queries
    (four when a customer has no mandate in force but a contract names one), with their copies
    already serialised.

    The mandate is the one the debit of ``debit_month`` uses (P4: a replacement signed this
    month applies from a later debit, so this month's invoice still names the old one); the
    contract's own mandate only when the customer has none in force for that month.

    Rows are selected by the id range of the batch (a list of thousands of ids costs more to
    send than the rows) and read as tuples."""
    ids = set(customer_ids)
    low, high = min(ids), max(ids)
    in_force = mandate_rows_in_force(month=debit_month, customer_low=low, customer_high=high)
    customers = Customer.objects.filter(pk__gte=low, pk__lte=high).values_list(
        "pk",
        "reference",
        "first_name",
        "last_name",
        "email",
        "postal_address",
        "postal_code",
        "city",
    )
    contracts = (
        Contract.objects.filter(customer_id__gte=low, customer_id__lte=high)
        .order_by("customer_id", "signed_at", "pk")
        .values_list(
            "pk",
            "customer_id",
            "reference",
            "offer_label",
            "status",
            "commitment_end",
            "payment_method",
            "mandate_id",
        )
    )
    per_customer: dict[int, list[tuple[Any, ...]]] = {}
    for row in contracts:
        if row[1] in ids:
            per_customer.setdefault(row[1], []).append(row)
    currents: dict[int, tuple[Any, ...] | None] = {}
    for pk, rows in per_customer.items():
        # The payment method of the most recent contract that is still alive, else the latest.
        alive = [r for r in rows if r[4] not in {"cancelled", "withdrawn"}] or rows
        currents[pk] = alive[-1] if alive else None
    # The contract's own mandate, for a customer with none in force that month: read apart, by
    # id (a join would make PostgreSQL hash the whole mandates table for every batch).
    fallback_ids = {
        current[7]
        for pk, current in currents.items()
        if current is not None and current[7] is not None and pk not in in_force
    }
    fallbacks: dict[int, tuple[str, str]] = (
        {
            row[0]: (row[1], row[2])
            for row in Mandate.objects.filter(pk__in=fallback_ids).values_list(
                "pk", "reference", "iban"
            )
        }
        if fallback_ids
        else {}
    )
    result = {}
    for pk, reference, first_name, last_name, email, address, postal_code, city in customers:
        if pk not in ids:
            continue
        rows = per_customer.get(pk, [])
        current = currents.get(pk)
        mandate = in_force.get(pk)
        if mandate is not None:
            mandate_reference, iban = str(mandate[MANDATE_REFERENCE]), str(mandate[MANDATE_IBAN])
        else:
            own = fallbacks.get(current[7]) if current is not None else None
            mandate_reference, iban = own if own is not None else ("", "")
        result[pk] = CustomerInfo(
            buyer=_buyer_json(
                reference,
                f"{first_name} {last_name}".strip(),
                address,
                postal_code,
                city,
                email,
            ),
            payment_method=current[6] if current else "cheque",
            mandate_reference=mandate_reference,
            iban_masked=iban_mask(iban) if iban else "",
            contracts={r[0]: _contract_json(r[2], r[3], r[5]) for r in rows},
        )
    return result


def _payment(
    kind: str,
    info: CustomerInfo,
    issue_date: date,
    policy: Policy,
    debit_date: date | None = None,
    *,
    nothing_due: bool = False,
) -> dict[str, str | None]:
    """How the document is settled, as copied on it (B9, P1, P5).

    ``nothing_due``: an invoice of 0.00 (a fee refunded before it was billed) keeps its method
    but has no debit date nor due date: nothing is debited or owed, and the debit file (P2) and
    the cheque follow-up (P5), which find invoices by that date, never see it."""
    if kind == Document.Kind.CREDIT_NOTE:
        payment: dict[str, str | None] = {"method": "refund"}
        if info.payment_method == "sepa" and info.iban_masked:
            payment["iban_masked"] = info.iban_masked
        return payment
    if info.payment_method == "sepa":
        if nothing_due:
            debit = None
        else:
            debit = (
                debit_date or invoice_debit_date(issue_date=issue_date, policy=policy)
            ).isoformat()
        return {
            "method": "sepa",
            "debit_date": debit,
            "mandate": info.mandate_reference,
            "iban_masked": info.iban_masked,
        }
    due = None if nothing_due else cheque_due_date(issue_date=issue_date, policy=policy).isoformat()
    return {"method": "cheque", "due_before": due}


def documents_customers_read(
    customer_ids: Iterable[int], *, issue_date: date, policy: Policy | None = None
) -> dict[int, CustomerInfo]:
    """What ``documents_build`` reads of the customers of documents issued on ``issue_date``
    (for a caller that reads ahead): the mandate named is the one of the debit that date
    gives."""
    policy = policy or Policy.get()
    debit_date = invoice_debit_date(issue_date=issue_date, policy=policy)
    return customers_info(customer_ids, debit_month=debit_date)
