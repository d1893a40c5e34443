"""Reading back what the services wrote, in the output format of SIMULATOR.md.

Nothing is computed here: dates, statuses, amounts, VAT and payment terms are the ones stored
on the contract and on the issued documents (the IBAN is the masked copy the document holds)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from raccord.billing.models import Document
from raccord.contracts.commitment import commitment_regime
from raccord.contracts.models import Contract

TWO_PLACES = Decimal("0.01")


def rate_text(rate: Decimal | str) -> str:
    """A VAT rate with 2 decimals ("0.20", "0.00"), more only when it has them ("0.055")."""
    value = Decimal(rate)
    if value == value.quantize(TWO_PLACES):
        return str(value.quantize(TWO_PLACES))
    return str(value.normalize())


def amount_text(amount: Decimal | str) -> str:
    return str(Decimal(amount).quantize(TWO_PLACES))


def _payment(document: Document) -> dict[str, str]:
    payment = document.payment or {}
    method = payment.get("method")
    if method == "sepa":
        return {
            "method": "sepa",
            "debit_date": payment["debit_date"],
            "iban": payment.get("iban_masked", ""),
        }
    if method == "cheque":
        return {"method": "cheque", "due_before": payment["due_before"]}
    return {"method": str(method)}


def _document(document: Document) -> dict[str, Any]:
    return {
        "type": document.kind,
        "number": document.number,
        "issue_date": document.issue_date.isoformat(),
        "lines": [
            {
                "kind": line.kind,
                "product": line.product,
                "label": line.label,
                "period_start": line.period_start.isoformat() if line.period_start else None,
                "period_end": line.period_end.isoformat() if line.period_end else None,
                "amount": amount_text(line.amount),
                "vat_rate": rate_text(line.vat_rate),
            }
            for line in document.lines.all()
        ],
        "total": amount_text(document.total),
        "vat": [
            {
                "rate": rate_text(row["rate"]),
                "net": amount_text(row["net"]),
                "vat": amount_text(row["vat"]),
            }
            for row in document.vat_breakdown
        ],
        "payment": _payment(document),
    }


def simulation_result(*, contract_id: int, errors: list[dict[str, str]]) -> dict[str, Any]:
    contract = Contract.objects.get(pk=contract_id)
    commitment = None
    if contract.commitment_start is not None and contract.commitment_end is not None:
        commitment = {
            "start": contract.commitment_start.isoformat(),
            "end": contract.commitment_end.isoformat(),
            "regime": commitment_regime(start=contract.commitment_start),
        }
    effective = contract.termination_effective_date
    if effective is None and contract.status == Contract.Status.WITHDRAWN:
        # After activation the service ends on the withdrawal date (C6); before, it never began.
        effective = contract.withdrawn_on if contract.activation_date else None
    documents = (
        Document.objects.filter(customer_id=contract.customer_id)
        .order_by("issue_date", "pk")
        .prefetch_related("lines")
    )
    result: dict[str, Any] = {
        "activation_date": contract.activation_date.isoformat()
        if contract.activation_date
        else None,
        "status": contract.status,
        "commitment": commitment,
        "termination_effective_date": effective.isoformat() if effective else None,
        "documents": [_document(d) for d in documents],
    }
    if errors:
        result["errors"] = errors
    return result
