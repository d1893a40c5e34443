"""The structured copy of an invoice or a credit note: a Factur-X 1.0 Cross-Industry-Invoice
(profile EN 16931, the same XML as ZUGFeRD 2.x), embedded in its PDF as ``factur-x.xml``.

Built from the document's view only, like the PDF (B9): the same stored copies, the same
amounts. Consumer prices are VAT-inclusive (M1) while EN 16931 is net-based: each line's net
amount is its share of the net of its VAT rate as the document stores it (M2, the figure the
PDF's VAT summary shows), so that the lines of a rate add up exactly to that net; the line's
VAT-inclusive amount, as the PDF prints it, goes in the line's note. Tax basis, VAT per rate,
grand total and amount due are the document's own figures, to the cent.

A credit note (type 381) states its amounts as credited (positive), and names the invoice it
corrects when it corrects one (B7). A line whose amount is negative (a commercial gesture, a
credit) has the quantity -1 and a positive net price (EN 16931: a price is never negative).

A 0 % line is "non soumis à TVA" (M1). EN 16931 has a category for it (O, not subject to VAT),
but a document using it may hold no other VAT category nor show the seller's VAT number
(BR-O-11, BR-O-02): a document with only 0 % lines uses O, a document that mixes them with
taxed lines files them as E (exempt) with the reason « Non soumis à TVA »."""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from raccord.billing.line_data import SetupFeeSubsidy, setup_fee_subsidy
from raccord.billing.models import LineKind
from raccord.billing.pdf.formatting import euros
from raccord.billing.pdf.view import DocumentView, LineView, SellerView
from raccord.core.money import CENT, div_half_up, round_half_up, to_fraction

FILENAME = "factur-x.xml"
# What the PDF's XMP says of the XML (Factur-X 1.0, its PDF/A extension schema).
VERSION = "1.0"
CONFORMANCE_LEVEL = "EN 16931"
GUIDELINE = "urn:cen.eu:en16931:2017"

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}

INVOICE = "380"
CREDIT_NOTE = "381"
# UNTDID 4461 payment means
SEPA_DIRECT_DEBIT = "59"
CHEQUE = "20"
# UNCL 5305 VAT categories
STANDARD, EXEMPT, OUT_OF_SCOPE = "S", "E", "O"
NOT_SUBJECT = "Non soumis à TVA"
# A French operator's customers: the copies carry no country.
COUNTRY = "FR"

# Characters XML 1.0 cannot carry (control characters): a stray one in a name must not make
# the document fail to render.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# « 4 rue de l'Industrie, 67400 Illkirch-Graffenstaden »: the seller's address is one string.
_QUOTE = {'"': "&quot;"}
_POSTAL = re.compile(r"^(?P<street>.*?)[,\s]+(?P<postcode>\d{5})\s+(?P<city>\S.*)$")


def xml_clean(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry."""
    if value.isprintable():  # the usual case: no control character at all
        return value.strip()
    return _NOT_XML.sub("", value).strip()


def _plain(text: str) -> str:
    """A sentence of the PDF with ordinary spaces: the no-break ones are typography."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _amount(value: Decimal) -> str:
    value = value.quantize(CENT)
    return f"{value.copy_abs() if value == 0 else value:f}"


def _percent(rate: Decimal) -> str:
    """Decimal('0.20') → « 20 », Decimal('0.055') → « 5.5 »."""
    text = f"{(rate * 100).quantize(Decimal('0.001')):f}"
    return text.rstrip("0").rstrip(".")


class _Element:
    """An XML element being built: the XML is some 180 elements per document, and these
    plain objects, written out once at the end, cost half the time of lxml's."""

    __slots__ = ("attributes", "children", "tag", "text")

    def __init__(self, tag: str, text: str | None, attributes: str) -> None:
        self.tag = tag
        self.text = text
        self.attributes = attributes
        self.children: list[_Element] = []

    def write(self, out: list[str]) -> None:
        if self.text is not None:
            out.append(f"<{self.tag}{self.attributes}>{self.text}</{self.tag}>")
        elif self.children:
            out.append(f"<{self.tag}{self.attributes}>")
            for child in self.children:
                child.write(out)
            out.append(f"</{self.tag}>")
        else:
            out.append(f"<{self.tag}{self.attributes}/>")


def _add(parent: _Element, tag: str, text: str | None = None, **attributes: str) -> _Element:
    element = _Element(
        tag,
        None if text is None else escape(xml_clean(text)),
        "".join(f' {name}="{escape(value, _QUOTE)}"' for name, value in attributes.items()),
    )
    parent.children.append(element)
    return element


def _date(parent: Any, tag: str, value: date, *, qualified: bool = False) -> None:
    string = "qdt:DateTimeString" if qualified else "udt:DateTimeString"
    _add(_add(parent, tag), string, f"{value:%Y%m%d}", format="102")


@functools.cache
def _net_ratio(rate: Decimal) -> tuple[int, int]:
    """1 / (1 + rate) as a fraction of integers: a net is gross × a / b."""
    ratio = 1 / (1 + to_fraction(rate))
    return ratio.numerator, ratio.denominator


def _cents(amount: Decimal) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} is not an amount in cents")
    return int(cents)


def line_nets(grosses: list[Decimal], rate: Decimal, net: Decimal) -> list[Decimal]:
    """The net amounts of the lines of one VAT rate: each line's exact net rounded half-up
    (M2), then the cents that make them add up to ``net`` (the rate's net, rounded once over
    the rate) given one each to the lines whose rounding gave away the most (the largest
    remainders; ties in line order). The same lines always get the same nets.

    In integer cents (exact, and a tenth of the time of fractions: this runs for every
    document the monthly run renders)."""
    a, b = _net_ratio(rate)
    exact = [_cents(gross) * a for gross in grosses]  # the exact nets, in cents × b
    nets = [div_half_up(value, b) for value in exact]
    missing = _cents(net) - sum(nets)
    if abs(missing) > len(nets):
        raise ValueError(f"the lines at {rate} do not add up to the net {net}")
    step = 1 if missing > 0 else -1
    # what rounding took from each line (in cents × b), in the direction the cents go
    given = sorted(range(len(nets)), key=lambda n: (-(exact[n] - nets[n] * b) * step, n))
    for n in given[: abs(missing)]:
        nets[n] += step
    return [Decimal(cents).scaleb(-2) for cents in nets]


def _subsidy(line: LineView, net: Decimal) -> SetupFeeSubsidy | None:
    """A set-up fee lowered by a local authority's subsidy (C1), read as the line's explanation
    reads it; only a line charged (a positive net) shows it as an allowance."""
    if line.kind != LineKind.SETUP_FEE or net <= 0:
        return None
    return setup_fee_subsidy(data=line.data, amount=line.amount)


def _category(rate: Decimal, only_untaxed: bool) -> str:
    if rate:
        return STANDARD
    return OUT_OF_SCOPE if only_untaxed else EXEMPT


def _tax(parent: Any, category: str, rate: Decimal) -> None:
    """A line's VAT: category and rate (none for O, BR-O-05)."""
    tax = _add(parent, "ram:ApplicableTradeTax")
    _add(tax, "ram:TypeCode", "VAT")
    _add(tax, "ram:CategoryCode", category)
    if category != OUT_OF_SCOPE:
        _add(tax, "ram:RateApplicablePercent", _percent(rate))


def _line(transaction: Any, position: int, line: LineView, net: Decimal, category: str) -> None:
    item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")
    document = _add(item, "ram:AssociatedDocumentLineDocument")
    _add(document, "ram:LineID", str(position))
    note = f"Montant TTC : {euros(line.amount)}"
    subsidy = _subsidy(line, net)
    if subsidy is not None:
        fee, part, authority = subsidy
        note += f" (frais de {euros(fee)}, dont {euros(part)} pris en charge"
        note += f" par {authority})" if authority else ")"
    _add(_add(document, "ram:IncludedNote"), "ram:Content", _plain(note))
    _add(_add(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.label)
    # EN 16931: a price is never negative; a negative line is -1 × its price.
    quantity = -1 if net < 0 else 1
    agreement = _add(item, "ram:SpecifiedLineTradeAgreement")
    if subsidy is not None:
        # The fee before the subsidy, and the subsidy as a discount on the price (net).
        gross_price = round_half_up(to_fraction(subsidy[0]) / (1 + to_fraction(line.vat_rate)))
        if gross_price > net:
            gross = _add(agreement, "ram:GrossPriceProductTradePrice")
            _add(gross, "ram:ChargeAmount", _amount(gross_price))
            discount = _add(gross, "ram:AppliedTradeAllowanceCharge")
            _add(_add(discount, "ram:ChargeIndicator"), "udt:Indicator", "false")
            _add(discount, "ram:ActualAmount", _amount(gross_price - net))
    price = _add(agreement, "ram:NetPriceProductTradePrice")
    _add(price, "ram:ChargeAmount", _amount(abs(net)))
    delivery = _add(item, "ram:SpecifiedLineTradeDelivery")
    _add(delivery, "ram:BilledQuantity", str(quantity), unitCode="C62")
    settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
    _tax(settlement, category, line.vat_rate)
    start, end = line.period_start, line.period_end
    if start or end:
        period = _add(settlement, "ram:BillingSpecifiedPeriod")
        if start:
            _date(period, "ram:StartDateTime", start)
        if end:
            _date(period, "ram:EndDateTime", end)
    summation = _add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _add(summation, "ram:LineTotalAmount", _amount(net))


def _seller(agreement: Any, seller: SellerView, *, vat_number: bool) -> None:
    party = _add(agreement, "ram:SellerTradeParty")
    _add(party, "ram:Name", seller.legal_name or seller.trade_name)
    if seller.siren or seller.trade_name:
        legal = _add(party, "ram:SpecifiedLegalOrganization")
        if seller.siren:
            # ISO 6523 ICD 0002: the French SIREN
            _add(legal, "ram:ID", seller.siren, schemeID="0002")
        if seller.trade_name:
            _add(legal, "ram:TradingBusinessName", seller.trade_name)
    if seller.customer_service_phone or seller.customer_service_email:
        contact = _add(party, "ram:DefinedTradeContact")
        _add(contact, "ram:DepartmentName", "Service client")
        if seller.customer_service_phone:
            phone = _add(contact, "ram:TelephoneUniversalCommunication")
            _add(phone, "ram:CompleteNumber", seller.customer_service_phone)
        if seller.customer_service_email:
            email = _add(contact, "ram:EmailURIUniversalCommunication")
            _add(email, "ram:URIID", seller.customer_service_email)
    address = _add(party, "ram:PostalTradeAddress")
    postal = _POSTAL.match(seller.address.strip())
    if postal:
        _add(address, "ram:PostcodeCode", postal["postcode"])
        _add(address, "ram:LineOne", postal["street"])
        _add(address, "ram:CityName", postal["city"])
    elif seller.address.strip():
        _add(address, "ram:LineOne", seller.address)
    _add(address, "ram:CountryID", COUNTRY)
    if vat_number and seller.vat_number:
        registration = _add(party, "ram:SpecifiedTaxRegistration")
        _add(registration, "ram:ID", seller.vat_number, schemeID="VA")


def _buyer(agreement: Any, view: DocumentView) -> None:
    buyer = view.buyer
    party = _add(agreement, "ram:BuyerTradeParty")
    if buyer.reference:
        _add(party, "ram:ID", buyer.reference)
    _add(party, "ram:Name", buyer.name)
    address = _add(party, "ram:PostalTradeAddress")
    if buyer.postal_code:
        _add(address, "ram:PostcodeCode", buyer.postal_code)
    if buyer.address:
        _add(address, "ram:LineOne", buyer.address)
    if buyer.city:
        _add(address, "ram:CityName", buyer.city)
    _add(address, "ram:CountryID", COUNTRY)


def _payment(settlement: Any, view: DocumentView) -> tuple[date | None, str]:
    """How it is paid (B9, P1, P5); returns where the terms go (after the VAT breakdown)."""
    payment = view.payment
    due = bool(view.total) and not view.is_credit_note
    if due and payment.method == "sepa":
        if view.seller.creditor_id:
            _add(settlement, "ram:CreditorReferenceID", view.seller.creditor_id)
        _add(settlement, "ram:InvoiceCurrencyCode", "EUR")
        means = _add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _add(means, "ram:TypeCode", SEPA_DIRECT_DEBIT)
        if payment.iban_masked:
            account = _add(means, "ram:PayerPartyDebtorFinancialAccount")
            # masked as stored: the full IBAN is never copied on a document
            _add(account, "ram:IBANID", payment.iban_masked)
        return payment.debit_date, payment.mandate
    _add(settlement, "ram:InvoiceCurrencyCode", "EUR")
    if due and payment.method == "cheque":
        means = _add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _add(means, "ram:TypeCode", CHEQUE)
        return payment.due_before, ""
    return None, ""


def invoice_xml(view: DocumentView, *, payment_terms: str) -> bytes:
    """The Factur-X XML (EN 16931) of ``view``; ``payment_terms`` is the PDF's payment
    sentence. Same view, same bytes."""
    sign = -1 if view.is_credit_note else 1
    only_untaxed = all(row.rate == 0 for row in view.vat)
    root = _Element(
        "rsm:CrossIndustryInvoice",
        None,
        "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in NSMAP.items()),
    )
    context = _add(root, "rsm:ExchangedDocumentContext")
    _add(_add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)
    header = _add(root, "rsm:ExchangedDocument")
    _add(header, "ram:ID", view.number)
    _add(header, "ram:TypeCode", CREDIT_NOTE if view.is_credit_note else INVOICE)
    _date(header, "ram:IssueDateTime", view.issue_date)

    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    nets: dict[int, Decimal] = {}
    for row in view.vat:
        positions = [n for n, line in enumerate(view.lines) if line.vat_rate == row.rate]
        grosses = [sign * view.lines[n].amount for n in positions]
        if sum(grosses, start=Decimal("0.00")) != sign * row.gross:
            raise ValueError(f"{view.number}: the lines at {row.rate} do not add up to {row.gross}")
        nets.update(zip(positions, line_nets(grosses, row.rate, sign * row.net), strict=True))
    if len(nets) != len(view.lines):
        raise ValueError(f"{view.number}: a line's VAT rate is not in the VAT breakdown")
    for n, line in enumerate(view.lines):
        _line(transaction, n + 1, line, nets[n], _category(line.vat_rate, only_untaxed))

    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    _seller(agreement, view.seller, vat_number=not only_untaxed)
    _buyer(agreement, view)
    _add(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    due_date, mandate = _payment(settlement, view)
    for row in view.vat:
        category = _category(row.rate, only_untaxed)
        tax = _add(settlement, "ram:ApplicableTradeTax")
        _add(tax, "ram:CalculatedAmount", _amount(sign * row.vat))
        _add(tax, "ram:TypeCode", "VAT")
        if category != STANDARD:
            _add(tax, "ram:ExemptionReason", NOT_SUBJECT)
        _add(tax, "ram:BasisAmount", _amount(sign * row.net))
        _add(tax, "ram:CategoryCode", category)
        if category == OUT_OF_SCOPE:
            _add(tax, "ram:ExemptionReasonCode", "VATEX-EU-O")
        else:
            _add(tax, "ram:RateApplicablePercent", _percent(row.rate))
    if payment_terms or due_date or mandate:
        terms = _add(settlement, "ram:SpecifiedTradePaymentTerms")
        if payment_terms:
            _add(terms, "ram:Description", _plain(payment_terms))
        if due_date:
            _date(terms, "ram:DueDateDateTime", due_date)
        if mandate:
            _add(terms, "ram:DirectDebitMandateID", mandate)
    net = sign * sum((row.net for row in view.vat), start=Decimal("0.00"))
    vat = sign * sum((row.vat for row in view.vat), start=Decimal("0.00"))
    totals = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _add(totals, "ram:LineTotalAmount", _amount(net))
    _add(totals, "ram:TaxBasisTotalAmount", _amount(net))
    _add(totals, "ram:TaxTotalAmount", _amount(vat), currencyID="EUR")
    _add(totals, "ram:GrandTotalAmount", _amount(sign * view.total))
    _add(totals, "ram:DuePayableAmount", _amount(sign * view.total))
    if view.corrects_number:
        referenced = _add(settlement, "ram:InvoiceReferencedDocument")
        _add(referenced, "ram:IssuerAssignedID", view.corrects_number)
        if view.corrects_issue_date:
            _date(
                referenced, "ram:FormattedIssueDateTime", view.corrects_issue_date, qualified=True
            )
    out = ["<?xml version='1.0' encoding='UTF-8'?>\n"]
    root.write(out)
    return "".join(out).encode("utf-8")
