"""Back-office: the customer page's invoice table and the document page say how each document
really stands, from the payments app's status (P5, P6, B9), not what was planned at issue."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from raccord.billing.tests.factories import first_invoice
from raccord.contracts.models import Contract
from raccord.portal.tests.payment_states import pay_by_cheque, reject_debit

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def _pages(client: Client, contract: Contract, document) -> tuple[str, str]:
    customer = _text(client.get(reverse("backoffice:customer_detail", args=[contract.customer_id])))
    start = customer.index(f'data-document="{document.number}"')
    row = customer[start : customer.index("</tr>", start)]
    return row, _text(client.get(reverse("backoffice:document_detail", args=[document.pk])))


def test_a_paid_cheque_invoice_reads_paid_in_the_back_office__P5(
    agent_client: Client, contract: Contract
) -> None:
    Contract.objects.filter(pk=contract.pk).update(payment_method="cheque", mandate=None)
    invoice = first_invoice(contract)
    pay_by_cheque(invoice, on=date(2027, 2, 7))
    for page in _pages(agent_client, contract, invoice):
        assert "Payée le 7 février (chèque)" in page
        assert "À régler avant" not in page


def test_a_rejected_debit_reads_rejected_in_the_back_office__P6(
    agent_client: Client, contract: Contract
) -> None:
    invoice = first_invoice(contract)
    reject_debit(invoice)
    amount = f"{invoice.total:.2f}".replace(".", ",") + " €"
    for page in _pages(agent_client, contract, invoice):
        assert f"Prélèvement du 5 février rejeté : {amount} à régler" in page
        assert "prélevée le 5 février" not in page.lower()
