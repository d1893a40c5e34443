"""Invoice and credit-note PDFs (B9): what they show, fonts embedded, same bytes on every render,
stored once.

Text is read back with poppler's ``pdftotext``/``pdffonts``/``pdfinfo`` (Debian package
poppler-utils): skipped where it is missing, but CI must have it (a failure there)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from raccord.billing.documents import DraftLine, document_issue
from raccord.billing.models import Document, LineKind
from raccord.billing.pdf import document_pdf_store, render_document
from raccord.billing.pdf.formatting import date_long, euros
from raccord.billing.services import document_credit_fully
from raccord.billing.tasks import documents_render
from raccord.conftest import VALID_IBAN
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest
from raccord.core.events import Actor
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile
from raccord.customers.models import Customer

ISSUE = date(2027, 2, 2)
ACTIVATION = date(2027, 1, 20)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} (Debian package poppler-utils) is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must install it (make system-deps)")
        pytest.skip(reason)
    return path


def _run_on_pdf(tool: str, data: bytes, *args: str) -> str:
    executable = _poppler(tool)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(data)
        pdf.flush()
        return subprocess.run(
            [executable, *args, pdf.name, *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of spaces (no-break ones too) and newlines made one space,
    so that a phrase wrapped over two lines is still found."""
    return re.sub(r"\s+", " ", _run_on_pdf("pdftotext", data))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def operator(db: None) -> OperatorProfile:
    profile = OperatorProfile.get()
    profile.legal_name = "Raccord Télécom Alsace SAS"
    profile.trade_name = "Raccord"
    profile.address = "4 rue de l'Industrie, 67400 Illkirch-Graffenstaden"
    profile.siren = "912345678"
    profile.vat_number = "FR45912345678"
    profile.customer_service_phone = "03 88 00 00 00"
    profile.customer_service_hours = "du lundi au vendredi, de 9 h à 18 h"
    profile.customer_service_email = "service-client@raccord.example"
    profile.customer_service_address = "Service client, BP 40, 67401 Illkirch Cedex"
    profile.billing_address = "Règlements, BP 41, 67401 Illkirch Cedex"
    profile.mediator_name = "Médiateur des communications électroniques"
    profile.mediator_address = "CS 30342, 94257 Gentilly Cedex"
    profile.mediator_url = "https://www.mediateur-telecom.fr"
    profile.save()
    return profile


@pytest.fixture
def sepa_contract(
    operator: OperatorProfile, activate: Callable[..., Contract], signup_request: SignupRequest
) -> Contract:
    return activate(signup_request, on=ACTIVATION)


@pytest.fixture
def cheque_contract(
    operator: OperatorProfile, activate: Callable[..., Contract], signup_request: SignupRequest
) -> Contract:
    return activate(
        signup_request,
        on=ACTIVATION,
        payment_method="cheque",
        iban="",
        account_holder="",
        first_name="Jérôme",
        last_name="Kœnig",
    )


def _line(
    contract: Contract,
    kind: str,
    label: str,
    amount: str,
    *,
    vat: str = "0.20",
    start: date | None = None,
    end: date | None = None,
    data: dict[str, Any] | None = None,
) -> DraftLine:
    return DraftLine(
        contract_id=contract.pk,
        kind=kind,
        product="",
        label=label,
        period_start=start,
        period_end=end,
        amount=Decimal(amount),
        vat_rate=Decimal(vat),
        data=data or {},
    )


def first_invoice_lines(contract: Contract) -> list[DraftLine]:
    """A first invoice (B2): set-up fee, January prorata, February, an option, calls and a
    0 % VAT equipment fee — every section used."""
    feb = (date(2027, 2, 1), date(2027, 2, 28))
    return [
        _line(contract, LineKind.SETUP_FEE, "Frais de mise en service THD Radio 30", "49.00"),
        _line(
            contract,
            LineKind.SUBSCRIPTION,
            "Abonnement THD Radio 30",
            "11.57",
            start=ACTIVATION,
            end=date(2027, 1, 31),
            data={"days": 12, "days_in_month": 31, "monthly_price": "29.90", "full_month": False},
        ),
        _line(
            contract,
            LineKind.SUBSCRIPTION,
            "Abonnement THD Radio 30",
            "29.90",
            start=feb[0],
            end=feb[1],
        ),
        _line(
            contract, LineKind.SUBSCRIPTION, "Option Téléphonie", "5.00", start=feb[0], end=feb[1]
        ),
        _line(
            contract,
            LineKind.CALLS,
            "Appels vers les mobiles",
            "3.42",
            start=date(2027, 1, 20),
            end=date(2027, 1, 31),
        ),
        _line(
            contract,
            LineKind.NON_RETURN_FEE,
            "Frais de non-restitution : Antenne radio",
            "150.00",
            vat="0",
        ),
    ]


def issue(contract: Contract, lines: list[DraftLine], **kwargs: Any) -> Document:
    with transaction.atomic():
        return document_issue(
            customer_id=contract.customer_id, issue_date=ISSUE, lines=lines, run=None, **kwargs
        )


def fresh(document: Document) -> Document:
    """The document as a worker loads it: nothing cached from its creation."""
    return Document.objects.get(pk=document.pk)


# --- what an invoice shows -----------------------------------------------------------------


def test_invoice_shows_the_operator_the_customer_and_its_number__B9(sepa_contract: Contract):
    # given
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    customer = sepa_contract.customer

    # when
    text = pdf_text(render_document(fresh(invoice)))

    # then
    assert "Facture" in text
    assert f"N° {invoice.number}" in text
    assert f"Date d'émission : {date_long(ISSUE)}" in text
    assert "Date d'émission : 2 février 2027" in text
    for expected in (
        "Raccord Télécom Alsace SAS",
        "4 rue de l'Industrie, 67400 Illkirch-Graffenstaden",
        "SIREN 912345678",
        "N° de TVA intracommunautaire : FR45912345678",
        f"{customer.first_name} {customer.last_name}",
        f"Référence client : {customer.reference}",
        flat(f"{customer.postal_code} {customer.city}"),
    ):
        assert expected in text


def test_invoice_lines_show_their_period_and_vat_rate_in_three_sections__B9(
    sepa_contract: Contract,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    text = pdf_text(render_document(fresh(invoice)))

    subscriptions = text.index("Abonnements et options")
    communications = text.index("Communications")
    other = text.index("Autres éléments")
    assert subscriptions < communications < other
    assert "du 20/01/2027 au 31/01/2027" in text
    assert "12 jours sur 31, à 29,90 € par mois" in text
    assert "du 01/02/2027 au 28/02/2027" in text
    assert "20 %" in text
    # The equipment fee is at 0 %: said in words, on the line and in the VAT summary.
    fee = text.index("Frais de non-restitution : Antenne radio")
    assert "non soumis à TVA" in text[fee - 40 : fee + 80]
    assert "Non soumis à TVA" in text
    for line in fresh(invoice).lines.all():
        assert flat(euros(line.amount)) in text


def test_invoice_totals_and_vat_per_rate_are_in_french_format__B9_M2(sepa_contract: Contract):
    invoice = fresh(issue(sepa_contract, first_invoice_lines(sepa_contract)))

    text = pdf_text(render_document(invoice))

    assert "29,90 €" in text
    assert "150,00 €" in text
    assert "Montant total TTC" in text
    assert flat(euros(invoice.total)) in text
    assert "248,89 €" in text  # 49 + 11,57 + 29,90 + 5 + 3,42 + 150
    assert len(invoice.vat_breakdown) == 2
    for row in invoice.vat_breakdown:
        for key in ("net", "vat", "gross"):
            assert flat(euros(Decimal(row[key]))) in text
    assert "Total" in text and "Récapitulatif TVA" in text


def test_sepa_invoice_shows_the_debit_date_the_masked_iban_and_the_mandate__B9_P1(
    sepa_contract: Contract,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    mandate = sepa_contract.mandate
    assert mandate is not None

    text = pdf_text(render_document(fresh(invoice)))

    assert (
        f"Prélevé le 5 février 2027 sur le compte {iban_mask(VALID_IBAN)}, "
        f"mandat {mandate.reference}." in text
    )
    assert "FR76 **** **** 0189" in text


def test_the_full_iban_never_appears__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    credit = document_credit_fully(document=invoice, on=ISSUE, reason="test", actor=Actor.system())

    for document in (invoice, credit):
        text = pdf_text(render_document(fresh(document)))
        compact = text.replace(" ", "")
        assert VALID_IBAN not in compact
        assert VALID_IBAN[4:-4] not in compact  # not even the bank and account digits


def test_invoice_shows_commitment_contacts_and_the_mediator__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    text = pdf_text(render_document(fresh(invoice)))

    assert f"Contrat {sepa_contract.reference}" in text
    assert "Engagement jusqu'au 19 janvier 2028" in text
    for expected in (
        "03 88 00 00 00",
        "du lundi au vendredi, de 9 h à 18 h",
        "service-client@raccord.example",
        "Service client, BP 40, 67401 Illkirch Cedex",
        "Médiateur des communications électroniques",
        "CS 30342, 94257 Gentilly Cedex",
        "https://www.mediateur-telecom.fr",
    ):
        assert expected in text


def test_a_contract_without_commitment_says_so__B9(
    operator: OperatorProfile, activate: Callable[..., Contract], signup_request: SignupRequest
):
    contract = activate(signup_request, on=ACTIVATION)
    Contract.objects.filter(pk=contract.pk).update(commitment_end=None, commitment_months=0)
    invoice = issue(contract, first_invoice_lines(contract)[2:4])

    text = pdf_text(render_document(fresh(invoice)))

    assert f"Contrat {contract.reference}" in text
    assert "Sans engagement" in text
    assert "Engagement jusqu'au" not in text


def test_empty_sections_are_left_out__B9(sepa_contract: Contract):
    only_subscriptions = first_invoice_lines(sepa_contract)[1:4]
    invoice = issue(sepa_contract, only_subscriptions)

    text = pdf_text(render_document(fresh(invoice)))

    assert "Abonnements et options" in text
    assert "Communications" not in text
    assert "Autres éléments" not in text


def test_cheque_invoice_says_before_when_to_whom_and_where_to_send_it__B9_P5(
    cheque_contract: Contract,
):
    invoice = issue(cheque_contract, first_invoice_lines(cheque_contract))

    text = pdf_text(render_document(fresh(invoice)))

    assert (
        "À régler par chèque avant le 10 février 2027 à l'ordre de Raccord Télécom Alsace SAS, "
        "adresse Règlements, BP 41, 67401 Illkirch Cedex." in text
    )
    assert "Prélevé" not in text
    assert "Jérôme Kœnig" in text


def test_credit_note_names_the_invoice_it_corrects_and_the_refund__B7_B9(
    sepa_contract: Contract,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    credit = document_credit_fully(
        document=invoice, on=ISSUE, reason="erreur de facturation", actor=Actor.system()
    )

    text = pdf_text(render_document(fresh(credit)))

    assert "Avoir" in text
    assert f"N° {credit.number}" in text
    assert f"Avoir sur la facture n° {invoice.number}" in text
    assert f"Remboursé sur votre compte {iban_mask(VALID_IBAN)}." in text
    assert "Montant en votre faveur" in text
    assert flat(euros(-credit.total)) in text
    assert "Annulation : Abonnement THD Radio 30" in text
    assert "Facture" not in text.replace(f"la facture n° {invoice.number}", "")


def test_a_long_invoice_continues_on_numbered_pages__B9(sepa_contract: Contract):
    calls = [
        _line(
            sepa_contract,
            LineKind.CALLS,
            f"Appel vers le 06 00 00 00 {n:02d}",
            f"0.{n:02d}",
            start=date(2027, 1, 20),
            end=date(2027, 1, 31),
        )
        for n in range(1, 61)
    ]
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract) + calls)

    data = render_document(fresh(invoice))

    pages = int(re.search(r"Pages:\s+(\d+)", _run_on_pdf("pdfinfo", data)).group(1))  # type: ignore[union-attr]
    assert pages >= 2
    text = pdf_text(data)
    assert f"page {pages} sur {pages}" in text
    assert f"Facture n° {invoice.number} (suite)" in text
    assert all(f"Appel vers le 06 00 00 00 {n:02d}" in text for n in range(1, 61))
    assert "Médiateur des communications électroniques" in text


# --- the file itself -----------------------------------------------------------------------


def test_every_font_is_embedded__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    report = _run_on_pdf("pdffonts", render_document(fresh(invoice)))

    rows = report.splitlines()[2:]
    assert rows, report
    for row in rows:
        # columns: name, type (two words), encoding, emb, sub, uni, object, id
        assert row.split()[-5] == "yes", report


def test_metadata_has_title_author_subject_and_language__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    customer = Customer.objects.get(pk=sepa_contract.customer_id)

    data = render_document(fresh(invoice))
    info = _run_on_pdf("pdfinfo", data)

    assert re.search(rf"Title:\s+Facture {invoice.number}\n", info)
    assert re.search(r"Author:\s+Raccord Télécom Alsace SAS\n", info)
    assert f"{customer.first_name} {customer.last_name}" in info
    assert b"/Lang (fr-FR)" in data


def test_rendering_again_gives_the_same_bytes__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    first = render_document(fresh(invoice))
    second = render_document(fresh(invoice))

    assert first.startswith(b"%PDF")
    assert first == second


def test_the_pdf_reads_the_documents_copies_not_live_rows__B9(sepa_contract: Contract):
    # given an issued invoice
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    before = render_document(fresh(invoice))

    # when the operator and the customer change afterwards
    OperatorProfile.objects.filter(pk=1).update(legal_name="Nouveau Nom SA", siren="111222333")
    Customer.objects.filter(pk=sepa_contract.customer_id).update(last_name="Autre")

    # then the invoice still renders exactly as issued
    assert render_document(fresh(invoice)) == before


# --- storage -------------------------------------------------------------------------------


def test_store_attaches_the_pdf_and_its_sha256__B9(sepa_contract: Contract, media: Path):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    document_pdf_store(document=fresh(invoice))

    stored = fresh(invoice)
    assert stored.pdf.name.startswith("documents/")
    assert stored.pdf.name.endswith(f"{invoice.number}.pdf")
    data = stored.pdf.read()
    assert hashlib.sha256(data).hexdigest() == stored.pdf_sha256
    assert data == render_document(stored)


def test_store_is_idempotent_and_never_regenerates__B9(sepa_contract: Contract, media: Path):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    stale = fresh(invoice)  # loaded before the PDF exists, as a redelivered task would be
    document_pdf_store(document=fresh(invoice))
    stored = fresh(invoice)

    # a new renderer would draw something else: a stored PDF must not be replaced by it
    OperatorProfile.objects.filter(pk=1).update(legal_name="Autre SA")
    document_pdf_store(document=stored)
    document_pdf_store(document=stale)

    again = fresh(invoice)
    assert (again.pdf.name, again.pdf_sha256) == (stored.pdf.name, stored.pdf_sha256)
    assert stale.pdf.name == stored.pdf.name
    assert len(list(media.rglob("*.pdf"))) == 1


def test_render_task_stores_each_pdf_once_in_a_constant_number_of_queries__B9(
    sepa_contract: Contract,
    cheque_contract: Contract,
    media: Path,
    django_assert_max_num_queries: Any,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    cheque = issue(cheque_contract, first_invoice_lines(cheque_contract))
    credit = document_credit_fully(document=invoice, on=ISSUE, reason="test", actor=Actor.system())
    ids = [invoice.pk, cheque.pk, credit.pk]

    # the chunk's reads, one locked read of its rows and one update (+ savepoints), whatever
    # the number of documents
    with django_assert_max_num_queries(7):
        stored = documents_render.apply(args=[ids]).get()

    assert stored == 3
    assert all(fresh(Document(pk=pk)).pdf_sha256 for pk in ids)
    assert documents_render.apply(args=[ids]).get() == 0
    assert len(list(media.rglob("*.pdf"))) == 3
