"""Mes paiements says what happened in the customer's words (P5, P6): a rejected debit is not
money given back, a cheque for an overdue invoice is to send now, and the transfer label is
the one the dunning email gives."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.payments.debits import debit_batch_submit
from raccord.payments.models import Allocation, Debit, Payment
from raccord.payments.returns import returns_import
from raccord.payments.sepa.returns_write import pain002_build, return_specs_for_debits
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import debit_make, invoice
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    SYSTEM,
    at,
    creditor,
    debit_file,
    subscriber,
)
from raccord.payments.tests.test_debits_factories import invoice as issued_invoice
from raccord.payments.tests.test_portal_payments import (  # noqa: F401 - autouse fixture
    PAGE,
    _client,
    _portal_today,
)

pytestmark = pytest.mark.django_db

MARCH_1 = date(2027, 3, 1)


def _page(customer) -> str:
    response = _client(Contract.objects.filter(customer=customer).first()).get(PAGE)
    assert response.status_code == 200
    text = html_lib.unescape(response.content.decode())
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_a_rejected_debit_reads_rejected_not_given_back__P6(make_contract):
    # given the February debit taken, then returned by the customer's bank
    contract = make_contract("sepa")
    february = invoice(contract, 2)
    debit = debit_make(february, status=Debit.Status.RETURNED, reason="AM04")
    taken = Payment.objects.create(
        customer=contract.customer,
        method=Payment.Method.SEPA,
        amount=february.total,
        received_on=date(2027, 2, 5),
        reference=february.number,
        debit=debit,
    )
    Allocation.objects.create(payment=taken, document=february, amount=february.total)
    returned = Payment.objects.create(
        customer=contract.customer,
        method=Payment.Method.SEPA_RETURN,
        amount=-february.total,
        received_on=date(2027, 2, 9),
        reference=february.number,
        debit=debit,
    )
    Allocation.objects.create(payment=returned, document=february, amount=-february.total)
    # when
    page = _page(contract.customer)
    # then the row says what happened
    assert f"Prélèvement rejeté par votre banque – {february.number}" in page
    assert "34,90 € non encaissés" in page
    assert "rendus" not in page
    assert "rejet de prélèvement" not in page


def test_the_cheque_of_an_overdue_invoice_is_to_send_now__P5(make_contract):
    contract = make_contract("cheque")
    invoice(contract, 2)  # due before 10 February: late on 6 March
    page = _page(contract.customer)
    assert "à envoyer dès maintenant : la date de paiement est passée" in page
    assert "à envoyer avant le" not in page


def test_the_cheque_of_an_invoice_not_yet_due_keeps_its_date__P5(make_contract):
    contract = make_contract("cheque")
    invoice(contract, 3)  # due before 10 March
    page = _page(contract.customer)
    assert "à envoyer avant le 10 du mois de la facture" in page
    assert "dès maintenant" not in page


@pytest.mark.usefixtures("creditor")
def test_mes_paiements_and_the_dunning_email_give_the_same_transfer_label__P6(
    signup_request, settings, django_capture_on_commit_callbacks
):
    settings.RACCORD_SEPA_CREDITOR_IBAN = VALID_IBAN  # Mes paiements shows a valid account only
    # given a March debit returned by the bank, which sends the reminder email
    line = subscriber(signup_request, on=date(2027, 1, 20), email="camille@example.org")
    document = issued_invoice(line, issue_date=date(2027, 3, 2), amount=Decimal("34.90"))
    batch = debit_file(date(2027, 3, 5), at(date(2027, 3, 3)))
    debit_batch_submit(batch=batch, on=date(2027, 3, 3), actor=SYSTEM)
    debit = Debit.objects.select_related("batch").get(document=document)
    content = pain002_build(
        return_specs_for_debits([debit], "AM04"),
        message_id="REJ-LABEL-1",
        created_at=datetime(2027, 3, 6, 8, tzinfo=paris(2027, 3, 6).tzinfo),
        original_message_id=batch.message_id,
    )
    with django_capture_on_commit_callbacks(execute=True):
        returns_import(content=content, filename="rejets.xml", on=date(2027, 3, 6), actor=SYSTEM)
    # when
    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    found = re.search(r"avec la référence (\S+ \S+)\.", str(message.body))
    assert found is not None, message.body
    label = found.group(1)
    page = _page(line.customer)
    # then both give « C… F… »: the customer number and the invoice number
    assert label == f"{line.customer.reference} {document.number}"
    assert f"<code>{label}</code>" in page
    assert "suivi du numéro de la facture" not in page
    assert label in str(message.alternatives[0][0])


def test_the_tables_scroll_boxes_are_reachable_by_keyboard(make_contract):
    # given an invoice and a payment: both tables are shown
    contract = make_contract("cheque")
    march = invoice(contract, 3)
    payment = Payment.objects.create(
        customer=contract.customer, method="cheque", amount=Decimal("10.00"), received_on=MARCH_1
    )
    Allocation.objects.create(payment=payment, document=march, amount=Decimal("10.00"))
    page = _page(contract.customer)
    assert page.count('<div class="table-wrap"') == 2
    assert page.count('<div class="table-wrap" tabindex="0" role="region" aria-labelledby=') == 2
