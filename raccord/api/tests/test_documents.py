"""Invoices and credit notes read with a token: lines explained, VAT, payment, PDF (B7, B9)."""

from __future__ import annotations

import sys
from datetime import date

import pytest
from django.core.files.base import ContentFile

from raccord.api.tests.conftest import bearer
from raccord.billing.models import Document
from raccord.billing.services import document_credit_fully
from raccord.billing.tests.factories import first_invoice as _first_invoice
from raccord.billing.tests.factories import monthly_invoice
from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.masking import iban_mask

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"


def first_invoice(contract: Contract) -> Document:
    # This API's first invoice has the « Téléphonie » option from February only.
    return _first_invoice(contract, phone_since=date(2027, 2, 1))


def _other(signup_request: SignupRequest, n: int = 2) -> Contract:
    request = SignupRequest(**{**signup_request.__dict__, "signup_key": None})
    request.email = f"client{n}@example.org"
    request.first_name = f"Client{n}"
    return signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 5))


# --- one document --------------------------------------------------------------------------


def test_a_document_comes_with_its_explained_lines_vat_and_payment__B9(
    client, integration_token, contract
):
    # given
    invoice = first_invoice(contract)
    # when
    response = client.get(f"/api/v1/documents/{invoice.pk}", **bearer(integration_token))
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["number"], body["kind"]) == (invoice.pk, invoice.number, "invoice")
    assert body["kind_label"] == "facture"
    assert body["customer_id"] == contract.customer_id
    assert body["issue_date"] == "2027-02-02"
    assert body["total"] == str(invoice.total)
    assert [line["position"] for line in body["lines"]] == [1, 2, 3, 4]
    by_kind = {(line["kind"], line["period_start"]): line for line in body["lines"]}
    prorata_line = by_kind[("subscription", "2027-01-20")]
    assert prorata_line["amount"] == "11.57"
    assert prorata_line["section"] == "subscriptions"
    assert prorata_line["section_label"] == "Abonnements et options"
    assert prorata_line["data"]["days"] == 12
    assert prorata_line["explanation"] == (
        f"THD Radio 30 du 20 au 31 janvier au prorata : 12 jours sur 31 × 29,90{NBSP}€ = "
        f"11,57{NBSP}€"
    )
    assert by_kind[("setup_fee", None)]["explanation"] == (
        f"Mise en service de votre ligne (frais uniques) : 49,00{NBSP}€"
    )
    assert body["first_invoice_summary"].startswith("Votre première facture est plus élevée")
    assert body["vat_breakdown"] == invoice.vat_breakdown  # rate, net, vat, gross as strings
    assert body["payment"] == {
        "method": "sepa",
        "debit_date": "2027-02-05",
        "due_before": None,
        "mandate_reference": contract.mandate.reference,
        "iban_masked": iban_mask(VALID_IBAN),
        "text": body["payment"]["text"],
    }
    # how it stands now, from the payments app (no debit made yet: planned), as Mon Compte says
    assert body["payment"]["text"].lower() == "prélèvement prévu le 5 février"
    assert body["contracts"] == [
        {"reference": contract.reference, "offer": "THD Radio 30", "commitment_end": None}
    ]
    assert VALID_IBAN not in response.content.decode()


def test_a_credit_note_names_the_invoice_it_corrects__B7(client, agent_token, contract):
    invoice = first_invoice(contract)
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 10), reason="erreur", actor=Actor.system()
    )
    body = client.get(f"/api/v1/documents/{credit.pk}", **bearer(agent_token)).json()
    assert body["kind"] == "credit_note"
    assert (body["corrects_id"], body["corrects_number"]) == (invoice.pk, invoice.number)
    assert body["total"] == str(-invoice.total)
    assert body["payment"]["method"] == "refund"
    assert body["first_invoice_summary"] is None
    assert all(line["explanation"].startswith("Annulation") for line in body["lines"])


def test_the_detail_costs_a_fixed_number_of_queries(
    client, integration_token, contract, django_assert_max_num_queries
):
    invoice = first_invoice(contract)
    url = f"/api/v1/documents/{invoice.pk}"
    client.get(url, **bearer(integration_token))  # the token's last use is written once
    # token, document (corrected invoice, run), lines, its payments status (allocations, debits)
    with django_assert_max_num_queries(5):
        assert client.get(url, **bearer(integration_token)).status_code == 200


# --- the list ------------------------------------------------------------------------------


def test_documents_are_listed_newest_first_and_filtered__B7(
    client, agent_token, contract, signup_request
):
    # given documents of two customers, and a credit note
    other = _other(signup_request)
    first = first_invoice(contract)
    march = monthly_invoice(contract, 3)
    theirs = monthly_invoice(other, 3)
    credit = document_credit_fully(
        document=first, on=date(2027, 3, 10), reason="erreur", actor=Actor.system()
    )
    # when
    everything = client.get("/api/v1/documents", **bearer(agent_token)).json()
    mine = client.get(
        "/api/v1/documents", {"customer_id": contract.customer_id}, **bearer(agent_token)
    ).json()
    credits = client.get("/api/v1/documents", {"kind": "credit_note"}, **bearer(agent_token)).json()
    # then
    assert [d["id"] for d in everything["items"]] == [credit.pk, theirs.pk, march.pk, first.pk]
    assert [d["id"] for d in mine["items"]] == [credit.pk, march.pk, first.pk]
    assert mine["count"] == 3
    assert [d["id"] for d in credits["items"]] == [credit.pk]
    assert "lines" not in everything["items"][0]


def test_documents_are_paginated(client, integration_token, contract):
    for month in range(2, 8):
        monthly_invoice(contract, month)
    body = client.get(
        "/api/v1/documents", {"limit": 2, "offset": 1}, **bearer(integration_token)
    ).json()
    assert (body["count"], body["limit"], body["offset"]) == (6, 2, 1)
    assert [d["issue_date"] for d in body["items"]] == ["2027-06-02", "2027-05-02"]


def test_the_list_costs_the_same_queries_for_many_documents(
    client, integration_token, contract, django_assert_max_num_queries
):
    monthly_invoice(contract, 2)
    client.get("/api/v1/documents", **bearer(integration_token))
    # token, page, count, the page's payments status (allocations, debits)
    with django_assert_max_num_queries(5) as few:
        client.get("/api/v1/documents", **bearer(integration_token))
    for month in range(3, 13):
        monthly_invoice(contract, month)
    with django_assert_max_num_queries(5) as many:
        response = client.get("/api/v1/documents", {"limit": 50}, **bearer(integration_token))
    assert response.json()["count"] == 11
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_is_served_inline(client, integration_token, contract, media):
    invoice = first_invoice(contract)
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(b"%PDF-1.4 api"), save=False)
    invoice.save(update_fields=["pdf"])
    listed = client.get("/api/v1/documents", **bearer(integration_token)).json()
    assert listed["items"][0]["pdf_stored"] is True
    response = client.get(f"/api/v1/documents/{invoice.pk}/pdf", **bearer(integration_token))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.getvalue() == b"%PDF-1.4 api"


def test_a_pdf_not_stored_yet_is_rendered_on_the_fly(client, integration_token, contract, media):
    pytest.importorskip("raccord.billing.pdf")
    invoice = first_invoice(contract)
    response = client.get(f"/api/v1/documents/{invoice.pk}/pdf", **bearer(integration_token))
    assert response.status_code == 200
    assert response.getvalue().startswith(b"%PDF")


def test_without_a_renderer_the_pdf_is_a_json_404(
    client, integration_token, contract, media, monkeypatch
):
    invoice = first_invoice(contract)
    monkeypatch.setitem(sys.modules, "raccord.billing.pdf", None)
    response = client.get(f"/api/v1/documents/{invoice.pk}/pdf", **bearer(integration_token))
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"].startswith("Le PDF de ce document n'est pas encore disponible")


# --- errors and access ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/v1/documents/abc", 422, "document_id"),
        ("/api/v1/documents/0", 404, "document_id"),
        ("/api/v1/documents/-3", 404, "document_id"),
        ("/api/v1/documents/99999999999999999999999999", 404, "document_id"),
        ("/api/v1/documents/424242", 404, "document_id"),
        ("/api/v1/documents/424242/pdf", 404, "document_id"),
        ("/api/v1/documents?kind=facture", 422, "kind"),
        ("/api/v1/documents?customer_id=abc", 422, "customer_id"),
        ("/api/v1/documents?customer_id=0", 422, "customer_id"),
        ("/api/v1/documents?limit=0", 422, "limit"),
        ("/api/v1/documents?offset=-1", 422, "offset"),
    ],
)
def test_bad_ids_and_filters_get_a_json_error(
    client, integration_token, contract, path, status, field
):
    response = client.get(path, **bearer(integration_token))
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field
    assert body["message"]


@pytest.mark.parametrize(
    "path", ["/api/v1/documents", "/api/v1/documents/1", "/api/v1/documents/1/pdf"]
)
def test_documents_need_a_token(client, contract, path):
    first_invoice(contract)
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_documents_are_scoped_by_the_principal(client, integration_token, contract, monkeypatch):
    # given a principal narrowed to no customer (what a customer principal would be for others)
    from raccord.api.auth import ApiPrincipal
    from raccord.customers.models import Customer

    invoice = first_invoice(contract)
    monkeypatch.setattr(ApiPrincipal, "customers", lambda self: Customer.objects.none())
    # then its documents are out of reach
    assert client.get("/api/v1/documents", **bearer(integration_token)).json()["count"] == 0
    response = client.get(f"/api/v1/documents/{invoice.pk}", **bearer(integration_token))
    assert response.status_code == 404
    pdf = client.get(f"/api/v1/documents/{invoice.pk}/pdf", **bearer(integration_token))
    assert pdf.status_code == 404


def test_the_payment_text_says_how_the_document_stands_now__P6(client, integration_token, contract):
    # given the invoice's debit rejected by the bank: the API says it, as Mon Compte does
    from raccord.portal.tests.payment_states import reject_debit

    invoice = first_invoice(contract)
    reject_debit(invoice, reason="AM04")
    detail = client.get(f"/api/v1/documents/{invoice.pk}", **bearer(integration_token)).json()
    listed = client.get("/api/v1/documents", **bearer(integration_token)).json()["items"]
    for payment in (detail["payment"], listed[0]["payment"]):
        assert "rejeté" in payment["text"] and "prévu" not in payment["text"]
