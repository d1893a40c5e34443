"""Back-office: a customer's invoices and credit notes on their page, a document explained
line by line, its PDF (B7, B9)."""

from __future__ import annotations

import sys
from datetime import date
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from raccord.backoffice.tests.test_customer_page import CUSTOMER_PAGE_QUERIES
from raccord.billing.models import Document
from raccord.billing.services import document_credit_fully
from raccord.billing.tests.factories import first_invoice as _first_invoice
from raccord.billing.tests.factories import monthly_invoice as _monthly_invoice
from raccord.contracts.models import Contract
from raccord.core.events import Actor
from raccord.core.models import Event, OperatorProfile

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return unescape(response.content.decode()).replace("\u00a0", " ").replace("\u202f", " ")


def first_invoice(contract: Contract) -> Document:
    # The back-office pages are read on a first invoice without the « Téléphonie » option.
    return _first_invoice(contract, phone_since=None)


def monthly_invoice(contract: Contract, month: int) -> Document:
    return _monthly_invoice(contract, month, phone=False)


def _customer_page(client: Client, contract: Contract) -> str:
    response = client.get(reverse("backoffice:customer_detail", args=[contract.customer_id]))
    assert response.status_code == 200
    return _text(response)


# --- the customer page ---------------------------------------------------------------------


def test_customer_page_lists_invoices_and_credit_notes_with_links__B7(
    agent_client: Client, contract: Contract
) -> None:
    # given an invoice and the credit note that cancels it
    invoice = first_invoice(contract)
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 10), reason="erreur", actor=Actor.system()
    )
    # when
    html = _customer_page(agent_client, contract)
    # then
    assert "Factures et avoirs" in html
    assert html.index(f'data-document="{credit.number}"') < html.index(
        f'data-document="{invoice.number}"'
    )
    for document in (invoice, credit):
        assert reverse("backoffice:document_detail", args=[document.pk]) in html
        assert reverse("backoffice:document_pdf", args=[document.pk]) in html
    assert f"corrige {invoice.number}" in html
    assert "prélèvement le 2027-02-05" not in html  # dates are shown the French way
    assert f"{invoice.total:.2f}".replace(".", ",") + " €" in html


def test_customer_page_without_documents_says_so(agent_client: Client, contract: Contract) -> None:
    assert "Aucune facture ni aucun avoir." in _customer_page(agent_client, contract)


def test_customer_page_shows_only_this_customers_documents(
    agent_client: Client, contract: Contract, signup_request
) -> None:
    from raccord.conftest import paris
    from raccord.contracts.signup import signup_create

    signup_request.email = "autre@example.org"
    other = signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 6))
    theirs = monthly_invoice(other, 3)
    mine = monthly_invoice(contract, 3)
    html = _customer_page(agent_client, contract)
    assert mine.number in html
    assert theirs.number not in html


def test_customer_page_queries_do_not_grow_with_documents(
    agent_client: Client, contract: Contract, django_assert_max_num_queries
) -> None:
    OperatorProfile.get()
    monthly_invoice(contract, 2)
    with django_assert_max_num_queries(CUSTOMER_PAGE_QUERIES) as few:
        _customer_page(agent_client, contract)
    for month in range(3, 13):
        monthly_invoice(contract, month)
    with django_assert_max_num_queries(CUSTOMER_PAGE_QUERIES) as many:
        html = _customer_page(agent_client, contract)
    assert html.count('<tr data-document="') == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_customer_page_shows_the_latest_documents_and_says_there_are_more(
    agent_client: Client, contract: Contract, monkeypatch
) -> None:
    from raccord.backoffice import views

    monkeypatch.setattr(views, "DOCUMENTS_SHOWN", 3)
    for month in range(2, 7):
        monthly_invoice(contract, month)
    html = _customer_page(agent_client, contract)
    assert html.count('<tr data-document="') == 3
    assert "Les 3 documents les plus récents sont affichés." in html


# --- a document ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "billing", "admin"])
def test_every_role_reads_a_document_explained_line_by_line__B9(
    make_staff, contract: Contract, role: str
) -> None:
    invoice = first_invoice(contract)
    client = Client()
    client.force_login(make_staff(role))
    response = client.get(reverse("backoffice:document_detail", args=[invoice.pk]))
    assert response.status_code == 200
    html = _text(response)
    assert f"Facture {invoice.number}" in html
    assert (
        "THD Radio 30 du 20 au 31 janvier au prorata : 12 jours sur 31 × 29,90 € = 11,57 €" in html
    )
    assert "Mise en service de votre ligne (frais uniques) : 49,00 €" in html
    assert "Votre première facture est plus élevée" in html
    assert "Abonnements et options" in html and "Autres éléments" in html
    assert invoice.payment["mandate"] in html
    assert invoice.payment["iban_masked"] in html
    assert reverse("backoffice:customer_detail", args=[contract.customer_id]) in html


def test_a_credit_note_and_its_invoice_link_to_each_other__B7(
    agent_client: Client, contract: Contract
) -> None:
    invoice = first_invoice(contract)
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 10), reason="erreur", actor=Actor.system()
    )
    invoice_page = _text(agent_client.get(reverse("backoffice:document_detail", args=[invoice.pk])))
    credit_page = _text(agent_client.get(reverse("backoffice:document_detail", args=[credit.pk])))
    assert reverse("backoffice:document_detail", args=[credit.pk]) in invoice_page
    assert "Corrigé par" in invoice_page
    assert reverse("backoffice:document_detail", args=[invoice.pk]) in credit_page
    assert "Annulation de la ligne facturée" in credit_page


def test_reading_a_document_writes_no_history(agent_client: Client, contract: Contract) -> None:
    invoice = first_invoice(contract)
    before = Event.objects.count()
    agent_client.get(reverse("backoffice:document_detail", args=[invoice.pk]))
    assert Event.objects.count() == before


def test_the_document_page_costs_a_fixed_number_of_queries(
    agent_client: Client, contract: Contract, django_assert_max_num_queries
) -> None:
    invoice = first_invoice(contract)
    url = reverse("backoffice:document_detail", args=[invoice.pk])
    agent_client.get(url)
    # session, user, role, document (customer, run, corrected), lines, corrections, its
    # allocations and debits (the payment state), operator
    with django_assert_max_num_queries(9):
        assert agent_client.get(url).status_code == 200


def test_an_unknown_document_is_a_404(agent_client: Client, db: None) -> None:
    assert agent_client.get(reverse("backoffice:document_detail", args=[424242])).status_code == 404
    assert agent_client.get(reverse("backoffice:document_pdf", args=[424242])).status_code == 404


@pytest.mark.parametrize("name", ["backoffice:document_detail", "backoffice:document_pdf"])
def test_customers_and_staff_without_role_cannot_read_documents(
    client: Client, contract: Contract, name: str
) -> None:
    invoice = first_invoice(contract)
    url = reverse(name, args=[invoice.pk])
    # anonymous: to the agents' login page
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login"))
    # the customer themself, logged in to Mon Compte: refused
    customer_user = contract.customer.user
    assert customer_user is not None
    client.force_login(customer_user)
    assert client.get(url).status_code == 403
    # a staff account without a role: refused
    staff = User.objects.create_user(username="sans-role", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403


# --- the PDF -------------------------------------------------------------------------------


def test_the_stored_pdf_is_streamed_inline__B9(
    agent_client: Client, contract: Contract, media
) -> None:
    invoice = first_invoice(contract)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(b"%PDF-1.4 stored"), save=False)
    invoice.save(update_fields=["pdf"])
    response = agent_client.get(reverse("backoffice:document_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.getvalue() == b"%PDF-1.4 stored"


def test_a_pdf_not_yet_stored_is_rendered_on_the_fly(
    agent_client: Client, contract: Contract, media
) -> None:
    pytest.importorskip("raccord.billing.pdf")
    invoice = first_invoice(contract)
    response = agent_client.get(reverse("backoffice:document_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response.getvalue().startswith(b"%PDF")
    invoice.refresh_from_db()
    assert not invoice.pdf


def test_without_a_renderer_the_pdf_page_explains(
    agent_client: Client, contract: Contract, media, monkeypatch
) -> None:
    invoice = first_invoice(contract)
    monkeypatch.setitem(sys.modules, "raccord.billing.pdf", None)
    response = agent_client.get(reverse("backoffice:document_pdf", args=[invoice.pk]))
    assert response.status_code == 404
    assert "Le PDF de ce document n'est pas encore disponible" in _text(response)
