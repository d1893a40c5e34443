"""Amounts in the back-office texts are written the French way, by the one formatter
(``raccord.billing.explain.french.euros``): « 34,90 € », never « 34.90 » (P6, the money panel,
the payment form)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from raccord.backoffice.services import agent_create
from raccord.billing.explain.french import euros
from raccord.core.models import Event
from raccord.payments.ledger import cheque_key, payment_record
from raccord.payments.models import Debit
from raccord.payments.returns import returns_import
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import invoice, system
from raccord.payments.tests.test_debits_factories import (  # noqa: F401 - fixture
    SYSTEM,
    creditor,
)
from raccord.payments.tests.test_returns import _pain002, _sent

pytestmark = pytest.mark.django_db


def _billing_client() -> Client:
    user = agent_create(email="billing@raccord.test", role="billing", password="gestion-2027-Rac")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("creditor")
def test_a_returned_debit_and_its_dunning_say_french_amounts__P6():
    _, _, debits = _sent(1)
    debit: Debit = debits[0]
    returns_import(
        content=_pain002(debits), filename="rejets.xml", on=date(2027, 3, 6), actor=SYSTEM
    )
    amount = euros(debit.amount)
    returned = Event.objects.get(verb="payments.debit_returned").summary
    opened = Event.objects.get(verb="dunning.opened").summary
    assert f"({amount}) rejeté" in returned
    assert f"{amount} à régler" in opened
    for summary in (returned, opened):
        assert f"{debit.amount}" not in summary  # « 34.90 »


def test_the_money_panel_and_the_payment_form_say_french_amounts(make_contract):
    contract = make_contract("cheque")
    march, april = invoice(contract, 3), invoice(contract, 4)
    payment_record(
        customer=contract.customer,
        method="cheque",
        amount=march.total,
        received_on=date(2027, 3, 8),
        key=cheque_key(bank="CIC", number="1"),
        document_ids=[march.pk],
        actor=system(),
    )
    client = _billing_client()
    customer_id = contract.customer_id
    panel = client.get(reverse("backoffice:customer_money", args=[customer_id])).content.decode()
    assert f"{march.number} ({euros(march.total)})" in panel
    assert f"({march.total})" not in panel
    form = client.get(reverse("backoffice:payment_record", args=[customer_id])).content.decode()
    assert f"reste {euros(april.total)}" in form
    assert f"reste {april.total} €" not in form
