"""Mon Compte « Mes paiements », the home panel and the bank-details change signed online."""

from __future__ import annotations

import html as html_lib
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.conftest import VALID_IBAN, paris
from raccord.core.models import Event, OperatorProfile
from raccord.payments.ledger import cheque_key, payment_record
from raccord.payments.mandates import mandates_daily_run
from raccord.payments.models import Debit, Mandate
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import (
    IBAN_BAD_RIB_KEY,
    IBAN_BNP,
    PASSWORD,
    debit_make,
    invoice,
    system,
)

pytestmark = pytest.mark.django_db

PAGE = "/compte/paiements/"
BANK = "/compte/paiements/coordonnees-bancaires/"


@pytest.fixture(autouse=True)
def _portal_today(monkeypatch):
    """Mon Compte's clock: 6 March 2027, 10:00."""
    monkeypatch.setattr("raccord.portal.clock.now", lambda: paris(2027, 3, 6, 10))
    cache.clear()
    yield
    cache.clear()


def _client(contract) -> Client:
    client = Client()
    client.force_login(contract.customer.user)
    return client


def test_urls_are_in_the_portal_namespace():
    assert reverse("portal:payments") == PAGE
    assert reverse("portal:bank_details") == BANK


def test_a_cheque_payer_sees_what_is_due_and_how_to_pay__P5(make_contract):
    OperatorProfile.objects.filter(pk=OperatorProfile.get().pk).update(
        billing_address="Raccord – service facturation, BP 12, 67000 Strasbourg",
        legal_name="Raccord SAS",
    )
    contract = make_contract("cheque")
    march = invoice(contract, 3)
    response = _client(contract).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reste à régler" in html and "34,90" in html
    assert f'data-document="{march.number}" data-status="due"' in html
    assert "à régler avant le 10 mars" in html.lower()
    assert "BP 12, 67000 Strasbourg" in html
    assert "À l'ordre de Raccord SAS" in html_lib.unescape(html)


def test_a_rejected_debit_is_explained_in_french__P6(make_contract):
    contract = make_contract("sepa")
    february = invoice(contract, 2)
    debit_make(february, status=Debit.Status.RETURNED, reason="AM04")
    html = _client(contract).get(PAGE).content.decode()
    assert f'data-rejected="{february.number}"' in html
    assert "provision insuffisante (AM04)" in html
    assert "prélèvement rejeté – à régler" in html.lower()
    # and the home page shows the panel
    home = _client(contract).get("/compte/").content.decode()
    assert 'data-panel="payments"' in home
    assert "provision insuffisante" in home


def test_the_home_panel_stays_away_when_nothing_is_to_do(make_contract):
    contract = make_contract("sepa")
    invoice(contract, 3)  # debited on 5 March: the bank takes it, nothing to do
    debit_make(contract.customer.documents.get(), status=Debit.Status.COLLECTING)
    home = _client(contract).get("/compte/").content.decode()
    assert 'data-panel="payments"' not in home
    assert 'href="/compte/paiements/"' in home  # the navigation link


def test_payments_received_are_listed_with_the_late_flag__P5(make_contract):
    contract = make_contract("cheque")
    invoice(contract, 3)
    payment_record(
        customer=contract.customer,
        method="cheque",
        amount=Decimal("34.90"),
        received_on=date(2027, 3, 11),
        key=cheque_key(bank="CIC", number="77"),
        reference="Chèque n° 77",
        actor=system(),
    )
    html = _client(contract).get(PAGE).content.decode()
    assert "Chèque n° 77" in html
    assert "reçu en retard" in html
    assert "Vous êtes à jour" in html
    assert 'data-panel="payments"' not in _client(contract).get("/compte/").content.decode()


def test_a_customer_sees_only_their_own_payments(make_contract):
    mine = make_contract("cheque")
    theirs = make_contract("sepa", first_name="Louis", last_name="Bernard")
    my_invoice = invoice(mine, 3)
    their_invoice = invoice(theirs, 2)
    debit_make(their_invoice, status=Debit.Status.RETURNED, reason="MS02")
    payment_record(
        customer=theirs.customer,
        method="transfer",
        amount=Decimal("1.23"),
        received_on=date(2027, 3, 4),
        reference="VIREMENT-BERNARD",
        actor=system(),
    )
    html = _client(mine).get(PAGE).content.decode()
    assert my_invoice.number in html
    assert their_invoice.number not in html
    assert "VIREMENT-BERNARD" not in html
    assert "MS02" not in html
    assert "Bernard" not in html
    # the bank-details page reads only the logged-in customer too
    other = _client(theirs).get(BANK).content.decode()
    assert theirs.mandate.iban_masked in other


def test_pages_need_a_customer_login(make_contract, money_agent):
    assert Client().get(PAGE).status_code == 302
    staff = Client()
    staff.force_login(money_agent)
    assert staff.get(PAGE).status_code == 403
    assert staff.post(BANK, {}).status_code == 403


def _fill(contract, n_invoices):
    for month in range(2, 2 + n_invoices):
        invoice(contract, month)
    for n in range(n_invoices):
        payment_record(
            customer=contract.customer,
            method="cheque",
            amount=Decimal("10.00"),
            received_on=date(2027, 3, 1),
            key=cheque_key(bank="CIC", number=f"{contract.pk}-{n}"),
            reference=f"Chèque {n}",
            actor=system(),
        )


def test_the_page_reads_in_a_fixed_number_of_queries(make_contract):
    small, large = make_contract("cheque"), make_contract("cheque", first_name="Louis")
    _fill(small, 1)
    _fill(large, 8)
    counts = []
    for contract in (small, large):
        client = _client(contract)
        client.get(PAGE)  # warm the session and the policy rows
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 22


# --- bank-details change signed online (P4) --------------------------------------------------


def _sign(client, **overrides):
    data = {"iban": IBAN_BNP, "holder": "Camille Martin", "authorise": "on", "password": PASSWORD}
    data.update(overrides)
    return client.post(BANK, data)


def test_the_page_says_which_debit_a_change_made_today_will_use__P4(make_contract):
    contract = make_contract("sepa")
    html = _client(contract).get(BANK).content.decode()
    # today is 6 March 2027 (before the 25th): the April debit, 5 April 2027 (a Monday)
    assert "prélèvement du 5 avril 2027" in html
    assert "J'autorise Opérateur Raccord à envoyer des instructions" in html_lib.unescape(html)
    assert VALID_IBAN not in html


def test_signing_online_records_a_pending_mandate__P4(make_contract):
    contract = make_contract("sepa")
    client = _client(contract)
    response = _sign(client, iban="fr76 3000 4000 0100 0123 4567 830")
    assert response.status_code == 302
    assert response.url == PAGE
    mandate = Mandate.objects.get(customer=contract.customer, status=Mandate.Status.PENDING)
    assert mandate.iban == IBAN_BNP
    assert mandate.signature_method == Mandate.SignatureMethod.ONLINE
    assert mandate.signature_ip == "127.0.0.1"
    assert mandate.applies_from == date(2027, 4, 1)
    page = client.get(PAGE).content.decode()
    # the success message then the pending line: the April debit, the new account, masked
    assert "le prélèvement du 5 avril 2027 utilisera le compte FR76 **** **** 7830" in page
    assert IBAN_BNP not in page
    # in force from April
    mandates_daily_run(on=date(2027, 4, 1), actor=system())
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.ACTIVE


def test_a_wrong_password_signs_nothing(make_contract):
    contract = make_contract("sepa")
    response = _sign(_client(contract), password="pas-le-bon")
    assert response.status_code == 400
    assert "mot de passe n&#x27;est pas le bon" in response.content.decode()
    assert not Mandate.objects.filter(status=Mandate.Status.PENDING).exists()


def test_a_wrong_rib_key_and_a_missing_authorisation_are_refused(make_contract):
    contract = make_contract("sepa")
    client = _client(contract)
    response = _sign(client, iban=IBAN_BAD_RIB_KEY)
    assert response.status_code == 400
    assert "clé RIB" in response.content.decode()
    response = _sign(client, authorise="")
    assert response.status_code == 400
    assert "Cochez la case" in response.content.decode()
    assert not Mandate.objects.filter(status=Mandate.Status.PENDING).exists()


def test_wrong_passwords_are_throttled(make_contract):
    contract = make_contract("sepa")
    client = _client(contract)
    for _attempt in range(5):
        _sign(client, password="faux")
    response = _sign(client)  # even the right password waits now
    assert response.status_code == 400
    assert "Trop d&#x27;essais" in response.content.decode()
    assert not Mandate.objects.filter(status=Mandate.Status.PENDING).exists()


def test_a_cheque_payer_cannot_sign_a_mandate_here(make_contract):
    contract = make_contract("cheque")
    client = _client(contract)
    assert "Vous payez par chèque" in client.get(BANK).content.decode()
    assert _sign(client).status_code == 400
    assert not Mandate.objects.exists()


def test_a_lapsed_mandate_is_announced__P7(make_contract, monkeypatch):
    contract = make_contract("sepa")
    mandates_daily_run(on=date(2030, 1, 6), actor=system())
    monkeypatch.setattr("raccord.portal.clock.now", lambda: paris(2030, 1, 7, 10))
    html = _client(contract).get(PAGE).content.decode()
    assert "n'est plus valable" in html_lib.unescape(html)
    home = _client(contract).get("/compte/").content.decode()
    assert 'data-panel="payments"' in home
    assert Event.objects.filter(verb="mandate.lapsed").exists()


def test_a_closed_account_asks_for_new_bank_details__P6(make_contract):
    contract = make_contract("sepa")
    february = invoice(contract, 2)
    debit_make(february, status=Debit.Status.RETURNED, reason="AC04")
    html = html_lib.unescape(_client(contract).get(PAGE).content.decode())
    assert "compte clôturé (AC04)" in html
    assert "ne peut plus être prélevé" in html
