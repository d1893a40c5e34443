"""What an invoice or a credit note shows, and where (B9).

Drawn directly on ReportLab's canvas (``layout.py``), not with platypus: an invoice has a fixed
layout, and the monthly run renders thousands of them (goal: 150 pages/s per core with
embedded fonts, see benchmarks/invoice_pdf.py).

Every document is a PDF/A-3b file carrying its Factur-X XML (``pdfa.py``, ``facturx.py``),
written in the same pass as the pages.

Same view, same bytes: ``invariant`` fixes the PDF's ID and timestamp (the dates written are
the issue date's), and nothing else varies between two renders."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from raccord.billing.models import Document, LineKind, Section
from raccord.billing.pdf.facturx import invoice_xml
from raccord.billing.pdf.fonts import Fonts, document_fonts
from raccord.billing.pdf.formatting import (
    NBSP,
    date_long,
    euros,
    percent,
    period,
    vat_rate_label,
)
from raccord.billing.pdf.layout import (
    ACCENT,
    LEFT,
    MUTED,
    PANEL,
    RIGHT,
    RULE,
    WIDTH,
    Layout,
    Page,
    Text,
    binary_streams,
    page_draw,
)
from raccord.billing.pdf.pdfa import (
    PDF_VERSION,
    issue_moment,
    pdfa_canvas_prepare,
    pdfa_finish,
)
from raccord.billing.pdf.view import DocumentView, LineView, document_view

RIGHT_COLUMN = 330.0

# Columns of the lines table.
VAT_X = 372.0
AMOUNT_RIGHT = RIGHT - 4.0
LABEL_WIDTH = VAT_X - LEFT - 14.0


def _title(view: DocumentView) -> str:
    return _("Avoir") if view.is_credit_note else _("Facture")


def _header(layout: Layout, view: DocumentView) -> None:
    """The operator's legal identity, the document's number and date, and the customer."""
    seller = view.seller
    top = layout.y
    layout.text(LEFT, top - 14, seller.trade_name or seller.legal_name, size=15, bold=True)
    y = top - 32
    for line in [
        seller.legal_name,
        *layout.wrap(seller.address, RIGHT_COLUMN - LEFT - 20, size=8.5),
        _("SIREN %(siren)s") % {"siren": seller.siren} if seller.siren else "",
        _("N° de TVA intracommunautaire : %(number)s") % {"number": seller.vat_number}
        if seller.vat_number
        else "",
    ]:
        if line:
            layout.text(LEFT, y, line, size=8.5, color=MUTED)
            y -= 11.5
    left_bottom = y

    layout.text(RIGHT_COLUMN, top - 18, _title(view), size=20, bold=True, color=ACCENT)
    y = top - 38
    layout.text(RIGHT_COLUMN, y, _("N° %(number)s") % {"number": view.number}, size=11, bold=True)
    y -= 15
    layout.text(
        RIGHT_COLUMN,
        y,
        _("Date d'émission : %(date)s") % {"date": date_long(view.issue_date)},
    )
    if view.corrects_number:
        y -= 12.5
        layout.text(
            RIGHT_COLUMN,
            y,
            _("Avoir sur la facture n° %(number)s") % {"number": view.corrects_number},
        )
    if view.buyer.reference:
        y -= 12.5
        layout.text(
            RIGHT_COLUMN,
            y,
            _("Référence client : %(reference)s") % {"reference": view.buyer.reference},
        )

    # The customer's postal block, where a window envelope shows it.
    y = min(y - 26, top - 110)
    layout.text(RIGHT_COLUMN, y, _("Client"), size=7.5, color=MUTED)
    y -= 14
    buyer = view.buyer
    layout.text(RIGHT_COLUMN, y, buyer.name, size=10.5, bold=True)
    for line in [
        *layout.wrap(buyer.address, RIGHT - RIGHT_COLUMN, size=9.5),
        f"{buyer.postal_code} {buyer.city}".strip(),
    ]:
        if line:
            y -= 12.5
            layout.text(RIGHT_COLUMN, y, line, size=9.5)
    layout.y = min(left_bottom, y) - 20


def _unbroken(text: str) -> str:
    return text.replace(" ", NBSP)


def _payment_sentence(view: DocumentView) -> str:
    payment = view.payment
    seller = view.seller
    if view.is_credit_note or payment.method == "refund":
        if payment.iban_masked:
            return _("Remboursé sur votre compte %(iban)s.") % {
                "iban": _unbroken(payment.iban_masked)
            }
        return _("Ce montant vous est remboursé par nos soins.")
    if not view.total:
        return _("Rien à régler : aucun prélèvement ni paiement n'est demandé pour cette facture.")
    if payment.method == "sepa":
        sentence = _("Prélevé le %(date)s sur le compte %(iban)s") % {
            "date": date_long(payment.debit_date) if payment.debit_date else "",
            "iban": _unbroken(payment.iban_masked),
        }
        if payment.mandate:
            sentence += _(", mandat %(mandate)s") % {"mandate": payment.mandate}
        return sentence + "."
    if payment.method == "cheque":
        sentence = _("À régler par chèque avant le %(date)s à l'ordre de %(payee)s") % {
            "date": date_long(payment.due_before) if payment.due_before else "",
            "payee": seller.legal_name or seller.trade_name,
        }
        if seller.billing_address:
            sentence += _(", adresse %(address)s") % {"address": seller.billing_address}
        return sentence + "."
    return ""


def _summary(layout: Layout, view: DocumentView) -> None:
    """The amount and how it is paid (B9), in a panel above the detail."""
    payment = layout.wrap(_payment_sentence(view), 300, size=9.5)
    height = max(46.0, 30 + 13 * len(payment))
    top = layout.y
    layout.rect(LEFT, top - height, WIDTH, height, PANEL)
    if view.is_credit_note:
        label, amount = _("Montant en votre faveur"), euros(abs(view.total))
    else:
        label, amount = _("Montant total TTC"), euros(view.total)
    layout.text(LEFT + 12, top - 16, label, size=8.5, color=MUTED)
    layout.text(LEFT + 12, top - 35, amount, size=17, bold=True)
    x = RIGHT - 312
    layout.text(x, top - 16, _("Règlement"), size=8.5, color=MUTED)
    y = top - 30
    for line in payment:
        layout.text(x, y, line, size=9.5)
        y -= 13
    layout.y = top - height - 20


def _table_header(layout: Layout) -> None:
    top = layout.y
    layout.rect(LEFT, top - 17, WIDTH, 17, PANEL)
    layout.text(LEFT + 6, top - 12, _("Désignation"), size=8.5, bold=True)
    layout.text(VAT_X, top - 12, _("TVA"), size=8.5, bold=True)
    layout.text(AMOUNT_RIGHT, top - 12, _("Montant TTC"), size=8.5, bold=True, right=True)
    layout.y = top - 21


def _detail(line: LineView) -> str:
    """A short explanation of a prorated subscription line (M3)."""
    data = line.data
    if (
        line.kind in (LineKind.SUBSCRIPTION, LineKind.SUBSCRIPTION_CREDIT)
        and data.get("full_month") is False
        and data.get("days")
        and data.get("days_in_month")
        and data.get("monthly_price")
    ):
        return _("%(days)s jours sur %(month)s, à %(price)s par mois") % {
            "days": data["days"],
            "month": data["days_in_month"],
            "price": euros(Decimal(str(data["monthly_price"]))),
        }
    return ""


def _line_rows(layout: Layout, line: LineView) -> tuple[list[str], str]:
    label = layout.wrap(line.label, LABEL_WIDTH, size=9)
    under = " · ".join(
        part for part in (period(line.period_start, line.period_end), _detail(line)) if part
    )
    return label, under


def _line_height(label: list[str], under: str) -> float:
    return 12.0 * len(label) + (11.0 if under else 0.0) + 5.0


def _line(layout: Layout, line: LineView, label: list[str], under: str) -> None:
    top = layout.y
    y = top - 9
    layout.text(VAT_X, y, vat_rate_label(line.vat_rate), size=8.5)
    layout.text(AMOUNT_RIGHT, y, euros(line.amount), right=True)
    for text in label:
        layout.text(LEFT + 6, y, text)
        y -= 12
    if under:
        layout.text(LEFT + 6, y + 1, under, size=8, color=MUTED)
    layout.y = top - _line_height(label, under)


def _lines(layout: Layout, view: DocumentView) -> None:
    _table_header(layout)
    layout.repeat = _table_header
    for section, lines in view.sections():
        rows = [_line_rows(layout, line) for line in lines]
        # A section title never stays alone at the bottom of a page.
        layout.ensure(20 + _line_height(*rows[0]))
        layout.y -= 2
        layout.text(LEFT + 6, layout.y - 9, str(Section(section).label), size=9.5, bold=True)
        layout.y -= 15
        for line, (label, under) in zip(lines, rows, strict=True):
            layout.ensure(_line_height(label, under))
            _line(layout, line, label, under)
        layout.ensure(16)
        layout.rule(layout.y)
        subtotal = sum((line.amount for line in lines), start=Decimal("0.00"))
        layout.text(
            AMOUNT_RIGHT - 76,
            layout.y - 11,
            _("Sous-total %(section)s") % {"section": str(Section(section).label).lower()},
            size=8.5,
            color=MUTED,
            right=True,
        )
        layout.text(AMOUNT_RIGHT, layout.y - 11, euros(subtotal), size=8.5, right=True)
        layout.y -= 16
    layout.repeat = None
    layout.y -= 6


def _vat(layout: Layout, view: DocumentView) -> None:
    """Net, VAT and gross per rate, then the totals (M2)."""
    columns = (RIGHT - 226, RIGHT - 120, AMOUNT_RIGHT)
    layout.ensure(17 + 14 * (len(view.vat) + 2) + 8)
    top = layout.y
    layout.rect(LEFT, top - 17, WIDTH, 17, PANEL)
    layout.text(LEFT + 6, top - 12, _("Récapitulatif TVA"), size=8.5, bold=True)
    for x, title in zip(columns, (_("Montant HT"), _("TVA"), _("Montant TTC")), strict=True):
        layout.text(x, top - 12, title, size=8.5, bold=True, right=True)
    y = top - 31
    for row in view.vat:
        rate = (
            _("Non soumis à TVA")
            if row.rate == 0
            else _("TVA à %(rate)s") % {"rate": percent(row.rate)}
        )
        layout.text(LEFT + 6, y, rate)
        for x, amount in zip(columns, (row.net, row.vat, row.gross), strict=True):
            layout.text(x, y, euros(amount), right=True)
        y -= 14
    layout.rule(y + 9)
    net = sum((row.net for row in view.vat), start=Decimal("0.00"))
    vat = sum((row.vat for row in view.vat), start=Decimal("0.00"))
    layout.text(LEFT + 6, y - 4, _("Total"), bold=True)
    for x, amount in zip(columns, (net, vat, view.total), strict=True):
        layout.text(x, y - 4, euros(amount), bold=True, right=True)
    layout.y = y - 20


def _block(layout: Layout, title: str, paragraphs: list[str]) -> None:
    """A titled block of paragraphs; the title stays with the first line."""
    wrapped = [layout.wrap(text, WIDTH, size=8.5) for text in paragraphs if text]
    if not wrapped:
        return
    layout.ensure(27)
    layout.text(LEFT, layout.y - 10, title, size=9.5, bold=True, color=ACCENT)
    layout.y -= 16
    for lines in wrapped:
        for line in lines:
            layout.ensure(11)
            layout.text(LEFT, layout.y - 9, line, size=8.5)
            layout.y -= 11
        layout.y -= 2
    layout.y -= 12


def _columns(layout: Layout, blocks: list[tuple[str, list[str]]], width: float) -> None:
    """Titled blocks side by side, ``width`` points each, kept on one page (short texts)."""
    wrapped = [
        (title, [layout.wrap(text, width, size=8.5) for text in paragraphs if text])
        for title, paragraphs in blocks
    ]
    wrapped = [(title, paragraphs) for title, paragraphs in wrapped if paragraphs]
    if not wrapped:
        return
    heights = [
        16 + sum(11 * len(lines) + 2 for lines in paragraphs) for _title, paragraphs in wrapped
    ]
    layout.ensure(max(heights))
    top = layout.y
    for column, (title, paragraphs) in enumerate(wrapped):
        x = LEFT + column * (WIDTH - width)
        layout.text(x, top - 10, title, size=9.5, bold=True, color=ACCENT)
        y = top - 25
        for lines in paragraphs:
            for line in lines:
                layout.text(x, y, line, size=8.5)
                y -= 11
            y -= 2
    layout.y = top - max(heights) - 12


def _commitments(view: DocumentView) -> list[str]:
    result = []
    for contract in view.contracts:
        if contract.commitment_end and contract.commitment_end >= view.issue_date:
            commitment = _("Engagement jusqu'au %(date)s") % {
                "date": date_long(contract.commitment_end)
            }
        else:
            commitment = _("Sans engagement")
        name = " — ".join(part for part in (contract.reference, contract.offer) if part)
        result.append(
            _("Contrat %(name)s : %(commitment)s") % {"name": name, "commitment": commitment}
        )
    return result


def _contacts(view: DocumentView) -> list[str]:
    seller = view.seller
    phone = seller.customer_service_phone
    if phone and seller.customer_service_hours:
        phone = f"{phone} ({seller.customer_service_hours})"
    return [
        _("Téléphone : %(phone)s") % {"phone": phone} if phone else "",
        _("Email : %(email)s") % {"email": seller.customer_service_email}
        if seller.customer_service_email
        else "",
        _("Courrier : %(address)s") % {"address": seller.customer_service_address}
        if seller.customer_service_address
        else "",
    ]


def _mediation(view: DocumentView) -> list[str]:
    seller = view.seller
    if not seller.mediator_name:
        return []
    where = ", ".join(part for part in (seller.mediator_address, seller.mediator_url) if part)
    return [
        _(
            "Si la réponse de notre service client ne vous satisfait pas, vous pouvez saisir "
            "gratuitement le médiateur : %(name)s%(where)s."
        )
        % {"name": seller.mediator_name, "where": f", {where}" if where else ""}
    ]


def _continuation(view: DocumentView) -> Callable[[Layout], None]:
    def header(layout: Layout) -> None:
        layout.text(
            LEFT,
            layout.y - 12,
            _("%(title)s n° %(number)s (suite)") % {"title": _title(view), "number": view.number},
            size=11,
            bold=True,
        )
        layout.y -= 30

    return header


def _layout(view: DocumentView, fonts: Fonts) -> list[Page]:
    layout = Layout(fonts, _continuation(view))
    _header(layout, view)
    _summary(layout, view)
    _lines(layout, view)
    _vat(layout, view)
    _block(layout, _("Vos contrats"), _commitments(view))
    _columns(
        layout,
        [(_("Service client"), _contacts(view)), (_("Médiation"), _mediation(view))],
        (WIDTH - 24) / 2,
    )
    return layout.pages


def _footer(page: Page, view: DocumentView, number: int, count: int) -> None:
    seller = view.seller
    identity = " — ".join(
        part
        for part in (
            seller.legal_name,
            _("SIREN %(siren)s") % {"siren": seller.siren} if seller.siren else "",
        )
        if part
    )
    page.rules.append((LEFT, RIGHT, 40.0, RULE))
    page.texts.append(Text(LEFT, 28.0, identity, 7.5, False, MUTED, False))
    where = _("%(title)s %(number)s — page %(page)s sur %(count)s") % {
        "title": _title(view),
        "number": view.number,
        "page": number,
        "count": count,
    }
    page.texts.append(Text(RIGHT, 28.0, where, 7.5, False, MUTED, True))


def render_view(view: DocumentView, *, fonts: Fonts | None = None) -> bytes:
    """The PDF of ``view``: same view, same bytes."""
    fonts = fonts or document_fonts()
    with translation.override("fr"), binary_streams():
        pages = _layout(view, fonts)
        for number, page in enumerate(pages, start=1):
            _footer(page, view, number, len(pages))
        buffer = io.BytesIO()
        canvas = Canvas(
            buffer,
            pagesize=A4,
            pageCompression=1,
            invariant=1,
            lang="fr-FR",
            initialFontName=fonts.regular,
            pdfVersion=PDF_VERSION,
        )
        # The dates in the file's metadata are the issue date, not the time of rendering.
        moment = issue_moment(view.issue_date)
        pdfa_canvas_prepare(canvas, moment=moment)
        title = f"{_title(view)} {view.number}"
        canvas.setTitle(title)
        canvas.setAuthor(view.seller.legal_name or view.seller.trade_name)
        canvas.setSubject(
            _("%(title)s du %(date)s — %(customer)s")
            % {"title": title, "date": date_long(view.issue_date), "customer": view.buyer.name}
        )
        canvas.setCreator("Raccord")
        canvas.setViewerPreference("DisplayDocTitle", "true")
        for page in pages:
            page_draw(canvas, page, fonts)
            canvas.showPage()
        pdfa_finish(
            canvas,
            moment=moment,
            invoice_xml=invoice_xml(view, payment_terms=_payment_sentence(view)),
        )
        canvas.save()
    return buffer.getvalue()


def render_document(document: Document) -> bytes:
    """The PDF of an issued invoice or credit note, from the document's own copies only."""
    return render_view(document_view(document))
