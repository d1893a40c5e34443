"""Mes factures: the list, a document explained line by line, its PDF; only one's own (B9)."""

from __future__ import annotations

import html
import sys
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import LineKind
from raccord.billing.services import document_credit_fully
from raccord.billing.tests.factories import first_invoice, monthly_invoice
from raccord.contracts.models import Contract
from raccord.core.events import Actor
from raccord.portal.tests.payment_states import settle_by_debit

INVOICES = reverse("portal:invoices")
NBSP = "\u00a0"


def _text(response) -> str:
    return html.unescape(response.content.decode()).replace(NBSP, " ").replace("\u202f", " ")


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_document_newest_first_with_its_payment__B6_P1(
    logged_in, contract, clock
):
    # given a first invoice, a March invoice and a credit note of the first
    first = first_invoice(contract)
    march = monthly_invoice(contract, 3)
    credit = document_credit_fully(
        document=first, on=date(2027, 3, 10), reason="erreur", actor=Actor.system()
    )
    settle_by_debit(first)  # the first invoice's debit of 5 February went through
    clock.current = clock.current.replace(year=2027, month=3, day=3)
    # when
    response = logged_in.get(INVOICES)
    # then
    assert response.status_code == 200
    page = _text(response)
    rows = [f'data-document="{d.number}"' for d in (credit, march, first)]
    assert page.index(rows[0]) < page.index(rows[1]) < page.index(rows[2])
    assert f"Facture {first.number}" in page and f"Avoir {credit.number}" in page
    assert "2 février 2027" in page
    assert "Prélevée le 5 février" in page  # the past debit of the first invoice
    assert "Prélèvement prévu le 5 mars" in page  # the coming one of March
    assert f"corrige la facture {first.number}" in page
    assert f"{first.total:.2f}".replace(".", ",") + " €" in page
    assert "en votre faveur" in page  # the credit note's amount
    assert reverse("portal:invoice_detail", args=[first.pk]) in page
    assert reverse("portal:invoice_pdf", args=[march.pk]) in page
    assert "Vous n'avez pas encore de facture." not in page


def test_a_cheque_payer_reads_the_due_date__P5(logged_in, customer, contract, clock):
    Contract.objects.filter(pk=contract.pk).update(payment_method="cheque", mandate=None)
    first_invoice(contract)
    page = _text(logged_in.get(INVOICES))
    assert "À régler avant le 10 février" in page


def test_the_empty_state_stays_while_there_is_no_document__B1(logged_in, customer):
    page = _text(logged_in.get(INVOICES))
    assert "Vous n'avez pas encore de facture." in page


def test_the_list_costs_the_same_queries_for_2_or_12_documents(
    logged_in, contract, clock, django_assert_max_num_queries
):
    first_invoice(contract)
    monthly_invoice(contract, 3)
    logged_in.get(INVOICES)  # warm the caches shared by every page (operator, policy)
    # session, user, customer, count, policy, the page of documents, its allocations and
    # debits (the payment state), operator profile
    with django_assert_max_num_queries(9) as few:
        logged_in.get(INVOICES)
    for month in range(4, 13):
        monthly_invoice(contract, month)
    with django_assert_max_num_queries(9) as many:
        response = logged_in.get(INVOICES)
    assert _text(response).count('<tr data-document="') == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_long_history_is_paginated(logged_in, contract, clock):
    from raccord.portal import billing_views

    for month in range(2, 13):
        monthly_invoice(contract, month)
    billing_views.PAGE_SIZE, saved = 4, billing_views.PAGE_SIZE
    try:
        page1 = _text(logged_in.get(INVOICES))
        page3 = _text(logged_in.get(INVOICES, {"page": 3}))
    finally:
        billing_views.PAGE_SIZE = saved
    assert page1.count('<tr data-document="') == 4
    assert page3.count('<tr data-document="') == 3
    assert "Page 1 sur 3" in page1


# --- a document ----------------------------------------------------------------------------


def test_the_detail_explains_every_line_and_the_first_invoice__B2_B9(logged_in, contract, clock):
    invoice = first_invoice(contract)
    response = logged_in.get(reverse("portal:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    page = _text(response)
    # sections in order, with their lines
    assert page.index("Abonnements et options") < page.index("Autres éléments")
    assert (
        "THD Radio 30 du 20 au 31 janvier au prorata : 12 jours sur 31 × 29,90 € = 11,57 €" in page
    )
    assert "THD Radio 30 pour février 2027 (mois complet) : 29,90 €" in page
    assert "Téléphonie du 20 au 31 janvier au prorata : 12 jours sur 31 × 5,00 € = 1,94 €" in page
    assert "Mise en service de votre ligne (frais uniques) : 49,00 €" in page
    # the first-invoice paragraph
    assert (
        "Votre première facture est plus élevée : elle comprend les frais de mise en service, "
        "les jours entre votre première connexion le 20 janvier 2027 et la fin du mois, puis "
        "le mois en cours." in page
    )
    # the VAT breakdown copied on the document (M2)
    (row,) = invoice.vat_breakdown
    assert "20 %" in page
    for key in ("net", "vat", "gross"):
        assert row[key].replace(".", ",") + " €" in page
    # the payment, with the masked account only
    assert "Prélèvement prévu le 5 février" in page
    assert invoice.payment["iban_masked"] in page
    assert reverse("portal:invoice_pdf", args=[invoice.pk]) in page


def test_a_credit_note_links_the_invoice_it_corrects__B7(logged_in, contract, clock):
    invoice = first_invoice(contract)
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 10), reason="erreur", actor=Actor.system()
    )
    page = _text(logged_in.get(reverse("portal:invoice_detail", args=[credit.pk])))
    assert f"Avoir {credit.number}" in page
    assert reverse("portal:invoice_detail", args=[invoice.pk]) in page
    assert "Annulation de la ligne facturée « Mise en service de votre ligne" in page
    assert "Votre première facture est plus élevée" not in page
    assert "Remboursement sur votre compte" in page
    assert "Télécharger l'avoir (PDF)" in page


def test_a_line_out_of_vat_scope_says_so__M1(logged_in, contract, clock):
    with transaction.atomic():
        document = document_issue(
            customer_id=contract.customer_id,
            issue_date=date(2027, 11, 2),
            lines=[
                DraftLine(
                    contract_id=contract.pk,
                    kind=LineKind.NON_RETURN_FEE,
                    product="ANT",
                    label="Frais de non-restitution",
                    period_start=None,
                    period_end=None,
                    amount=Decimal("150.00"),
                    vat_rate=Decimal("0"),
                    data={
                        "model": "Antenne radio",
                        "serial": "ANT-1",
                        "deadline": "2027-10-20",
                        "return_reference": "RM-000001",
                    },
                )
            ],
            run=None,
        )
    page = _text(logged_in.get(reverse("portal:invoice_detail", args=[document.pk])))
    assert "TVA : non soumis à TVA" in page
    assert "il devait être renvoyé au plus tard le 20 octobre 2027" in page


def test_the_detail_costs_a_fixed_number_of_queries(
    logged_in, contract, clock, django_assert_max_num_queries
):
    invoice = first_invoice(contract)
    url = reverse("portal:invoice_detail", args=[invoice.pk])
    logged_in.get(url)
    # session, user, customer, document (+ corrected invoice), lines, its allocations and
    # debits (the payment state), operator profile
    with django_assert_max_num_queries(8):
        response = logged_in.get(url)
    assert response.status_code == 200


# --- the PDF -------------------------------------------------------------------------------


def test_a_stored_pdf_is_streamed_inline_under_its_number__B9(logged_in, contract, clock, media):
    invoice = first_invoice(contract)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(b"%PDF-1.4 stored"), save=False)
    invoice.save(update_fields=["pdf"])
    response = logged_in.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert b"".join(response.streaming_content) == b"%PDF-1.4 stored"


def test_a_pdf_not_stored_yet_is_rendered_on_the_fly_and_not_stored__B9(
    logged_in, contract, clock, media
):
    pytest.importorskip("raccord.billing.pdf")
    invoice = first_invoice(contract)
    response = logged_in.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    invoice.refresh_from_db()
    assert not invoice.pdf  # a read writes nothing: the rendering task stores it


def test_without_a_renderer_the_pdf_page_says_it_is_coming(
    logged_in, contract, clock, media, monkeypatch
):
    invoice = first_invoice(contract)
    monkeypatch.setitem(sys.modules, "raccord.billing.pdf", None)  # import fails
    response = logged_in.get(reverse("portal:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 404
    assert "Le PDF de ce document est en cours de préparation" in _text(response)


# --- only one's own ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portal:invoice_detail", "portal:invoice_pdf"])
def test_another_customers_document_is_not_found__security(
    logged_in, contract, other_contract, clock, media, name
):
    # given B's invoice, with a stored PDF
    theirs = first_invoice(other_contract)
    theirs.pdf.save(f"{theirs.number}.pdf", ContentFile(b"%PDF-1.4 B"), save=False)
    theirs.save(update_fields=["pdf"])
    # when A asks for it
    response = logged_in.get(reverse(name, args=[theirs.pk]))
    # then it does not exist for A, and nothing of B's shows
    assert response.status_code == 404
    page = _text(response)
    assert "Ce document n'existe pas dans votre espace." in page
    assert theirs.number not in page
    assert other_contract.customer.last_name not in page


def test_the_list_never_shows_another_customers_document__security(
    logged_in, contract, other_contract, clock
):
    theirs = first_invoice(other_contract)
    mine = monthly_invoice(contract, 3)
    page = _text(logged_in.get(INVOICES + f"?customer={other_contract.customer_id}"))
    assert mine.number in page
    assert theirs.number not in page


@pytest.mark.parametrize(
    "path", ["/compte/factures/1/", "/compte/factures/1/pdf/", "/compte/resiliation/apercu/"]
)
def test_billing_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
