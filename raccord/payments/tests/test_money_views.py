"""Back-office money pages: roles, recording a payment, a bank-details change by phone or paper,
refunds by cheque and the transfer file, the customer panel and the navigation links."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from raccord.backoffice.services import agent_create
from raccord.conftest import VALID_IBAN
from raccord.core.models import Event
from raccord.payments.mandates import mandate_applies_from
from raccord.payments.models import Mandate, Payment, Refund, RefundBatch
from raccord.payments.refunds import refunds_prepare
from raccord.payments.templatetags import payments_tags
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import IBAN_BNP, credit_note, invoice, system

pytestmark = pytest.mark.django_db


def _staff(role: str) -> Client:
    user = agent_create(email=f"{role}@raccord.test", role=role, password="gestion-Raccord-2027")
    client = Client()
    client.force_login(user)
    return client


def test_money_pages_are_for_billing_and_admin(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    agent = _staff("agent")
    for url in (
        reverse("backoffice:payment_record", args=[customer.pk]),
        reverse("backoffice:refunds"),
    ):
        assert agent.get(url).status_code == 403
        assert Client().get(url).status_code == 302
    # any role reads the panel and takes a bank-details change
    assert agent.get(reverse("backoffice:customer_money", args=[customer.pk])).status_code == 200
    assert agent.get(reverse("backoffice:mandate_change", args=[customer.pk])).status_code == 200
    assert _staff("billing").get(reverse("backoffice:refunds")).status_code == 200


def test_a_billing_agent_records_a_cheque_once(make_contract):
    contract = make_contract("cheque")
    customer = contract.customer
    march = invoice(contract, 3)
    client = _staff("billing")
    url = reverse("backoffice:payment_record", args=[customer.pk])
    page = client.get(url).content.decode()
    assert march.number in page
    data = {
        "method": "cheque",
        "amount": "34,90",
        "received_on": "2027-03-08",
        "bank": "Crédit Mutuel",
        "number": "1234567",
        "invoices": [str(march.pk)],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.late) == (Decimal("34.90"), "cheque", False)
    assert payment.recorded_by is not None and payment.recorded_by.email == "billing@raccord.test"
    event = Event.objects.get(verb="payment.recorded")
    assert event.actor_kind == "agent"
    # the same cheque again: nothing new
    assert client.post(url, data).status_code == 302
    assert Payment.objects.count() == 1
    # the panel shows it paid
    panel = client.get(reverse("backoffice:customer_money", args=[customer.pk])).content.decode()
    assert f'data-due="{march.number}" data-status="paid"' in panel


def test_a_cheque_without_its_number_is_refused(make_contract):
    contract = make_contract("cheque")
    client = _staff("billing")
    url = reverse("backoffice:payment_record", args=[contract.customer.pk])
    response = client.post(url, {"method": "cheque", "amount": "10", "received_on": "2027-03-08"})
    assert response.status_code == 400
    assert "numéro du chèque" in response.content.decode()
    assert not Payment.objects.exists()


def test_an_agent_takes_a_change_by_phone__P4(make_contract):
    contract = make_contract("sepa")
    client = _staff("agent")
    url = reverse("backoffice:mandate_change", args=[contract.customer.pk])
    response = client.post(
        url, {"iban": IBAN_BNP, "holder": "Camille Martin", "method": "phone", "agreed": "on"}
    )
    assert response.status_code == 302
    mandate = Mandate.objects.get(status=Mandate.Status.PENDING)
    today = timezone.localdate()
    assert mandate.signature_method == Mandate.SignatureMethod.PHONE
    assert mandate.applies_from == mandate_applies_from(signed_on=today)
    assert Event.objects.get(verb="mandate.signed", subject_id=mandate.pk).actor_kind == "agent"
    panel = client.get(reverse("backoffice:customer_money", args=[contract.customer.pk]))
    html = panel.content.decode()
    assert f'data-mandate="{mandate.reference}" data-status="pending"' in html
    assert "utilisera le compte FR76 **** **** 7830" in html
    assert IBAN_BNP not in html and VALID_IBAN not in html


def test_a_paper_form_needs_its_date_and_counts_from_today__P4(make_contract):
    contract = make_contract("sepa")
    client = _staff("agent")
    url = reverse("backoffice:mandate_change", args=[contract.customer.pk])
    data = {"iban": IBAN_BNP, "holder": "Camille Martin", "method": "paper", "agreed": "on"}
    assert client.post(url, data).status_code == 400
    today = timezone.localdate()
    signed = today - timedelta(days=9)
    assert client.post(url, data | {"signed_on": signed.isoformat()}).status_code == 302
    mandate = Mandate.objects.get(status=Mandate.Status.PENDING)
    assert mandate.signature_date == signed
    assert mandate.applies_from == mandate_applies_from(signed_on=today)


def test_refund_by_cheque_and_the_transfer_file(make_contract, media):
    cheque_payer = make_contract("cheque")
    sepa_payer = make_contract("sepa", first_name="Louis")
    credit_note(cheque_payer.customer, "15.00", on=timezone.localdate())
    credit_note(sepa_payer.customer, "8.00", on=timezone.localdate())
    refunds_prepare(on=timezone.localdate(), actor=system())
    client = _staff("billing")
    listing = client.get(reverse("backoffice:refunds")).content.decode()
    assert listing.count("data-refund=") == 2
    # the cheque payer's refund, by cheque
    refund = Refund.objects.get(customer=cheque_payer.customer)
    url = reverse("backoffice:refund_cheque", args=[refund.pk])
    response = client.post(
        url, {"cheque_number": "0042", "paid_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.cheque_number) == (Refund.Status.PAID, "0042")
    # the transfer file from the page
    assert client.post(reverse("backoffice:refunds_run"), {"action": "export"}).status_code == 302
    batch = RefundBatch.objects.get()
    download = client.get(reverse("backoffice:refund_batch_file", args=[batch.pk]))
    assert download.status_code == 200
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert b"pain.001.001.03" in content and VALID_IBAN.encode() in content
    assert "data-refund=" not in client.get(reverse("backoffice:refunds")).content.decode()


def test_the_customer_panel_tag_hides_money_buttons_from_agents(make_contract, rf):
    contract = make_contract("cheque")
    invoice(contract, 3)
    template = Template("{% load payments_tags %}{% payments_backoffice_customer customer %}")
    request = rf.get("/")
    for role, shown in (("agent", False), ("billing", True)):
        html = template.render(
            Context({"customer": contract.customer, "bo_role": role, "request": request})
        )
        assert 'data-panel="money"' in html
        assert (reverse("backoffice:payment_record", args=[contract.customer.pk]) in html) is shown


def test_the_navigation_links(db, rf, monkeypatch):
    template = Template("{% load payments_tags %}{% payments_backoffice_nav %}")
    request = rf.get("/gestion/")
    assert template.render(Context({"bo_role": "agent", "request": request})).strip() == ""
    html = template.render(Context({"bo_role": "billing", "request": request}))
    assert reverse("backoffice:refunds") in html

    def missing(name, *args, **kwargs):
        raise NoReverseMatch(name)

    monkeypatch.setattr(payments_tags, "reverse", missing)
    assert payments_tags.debit_batches_url() == ""
    assert "Prélèvements" not in template.render(
        Context({"bo_role": "billing", "request": request})
    )
    portal = Template("{% load payments_tags %}{% payments_portal_nav %}")
    nav = portal.render(Context({"section": "payments"}))
    assert 'aria-current="page"' in nav and "/compte/paiements/" in nav
