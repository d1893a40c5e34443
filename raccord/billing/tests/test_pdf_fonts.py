"""Embedded fonts with codes fixed per process (B9): every document embeds the same cached
subsets, so nothing one document prints can change the glyphs or the bytes of another.

Rendered from unsaved documents (no database); read back with poppler like test_pdf.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reportlab.pdfbase import pdfmetrics

from raccord.billing.models import Document, DocumentLine, LineKind, section_of
from raccord.billing.pdf import document_view, render_view
from raccord.billing.pdf.fonts import FixedSubsetFont, _fixed_codes, document_fonts
from raccord.billing.tests.test_pdf import _run_on_pdf, pdf_text

# Letters that sit in the second subset (Central European) and in the first (French), and
# punctuation outside Latin-1: each document below prints a different mix.
POLISH_CZECH = "Łukasz Dvořák-Żółwiński"
ROMANIAN_HUNGARIAN = "Ștefan Țurcanu-Erdős"
FRENCH = "Zoé Kœnig-Hœrter"


def _document(name: str, label: str, number: str) -> bytes:
    issue = date(2027, 2, 2)
    line = DocumentLine(
        position=1,
        kind=LineKind.SUBSCRIPTION,
        section=section_of(LineKind.SUBSCRIPTION),
        product="THD30",
        label=label,
        period_start=date(2027, 2, 1),
        period_end=date(2027, 2, 28),
        amount=Decimal("29.90"),
        vat_rate=Decimal("0.20"),
        data={},
    )
    document = Document(
        kind=Document.Kind.INVOICE,
        number=number,
        issue_date=issue,
        total=Decimal("29.90"),
        vat_breakdown=[{"rate": "0.20", "net": "24.92", "vat": "4.98", "gross": "29.90"}],
        buyer={
            "reference": "C100001",
            "name": name,
            "address": "3 rue des Écoles",
            "postal_code": "67000",
            "city": "Strasbourg",
        },
        payment={"method": "cheque", "due_before": "2027-02-10"},
        contracts=[],
    )
    document.seller = {
        "legal_name": "Raccord Télécom Alsace SAS",
        "siren": "912345678",
    }  # an unsaved document: no stored copy
    return render_view(document_view(document, lines=[line]))


def test_documents_with_different_rare_letters_each_read_back_their_own__B9():
    # given two documents printing different letters of the second subset, rendered one
    # after the other in the same process (the second reuses the cached font objects)
    first = _document(POLISH_CZECH, "Abonnement « Fibre 300 » → 1 000 Mbit/s", "F2027-000001")
    second = _document(ROMANIAN_HUNGARIAN, "Option Téléphonie — appels ≤ 2 h", "F2027-000002")
    third = _document(FRENCH, "Frais de mise en service…", "F2027-000003")

    # then each one's text is its own, letter for letter
    assert POLISH_CZECH in pdf_text(first)
    assert "Abonnement « Fibre 300 » → 1 000 Mbit/s" in pdf_text(first)
    assert ROMANIAN_HUNGARIAN in pdf_text(second)
    assert "Option Téléphonie — appels ≤ 2 h" in pdf_text(second)
    assert FRENCH in pdf_text(third)
    assert "Frais de mise en service…" in pdf_text(third)
    assert ROMANIAN_HUNGARIAN not in pdf_text(first)


def test_a_document_gives_the_same_bytes_whatever_was_rendered_before__B9():
    alone = _document(POLISH_CZECH, "Abonnement Fibre 300", "F2027-000001")

    _document(ROMANIAN_HUNGARIAN, "Option « Ž » ‰ ™ ← ↑ ↓", "F2027-000002")
    _document(FRENCH, "Frais — ‹ › „ ‚", "F2027-000003")
    after_others = _document(POLISH_CZECH, "Abonnement Fibre 300", "F2027-000001")

    assert alone == after_others


def test_every_subset_a_document_uses_is_embedded__B9():
    # the name is printed in bold, the line's label in the regular face
    data = _document(POLISH_CZECH, "Abonnement Fibre 300 (Łódź)", "F2027-000001")

    report = _run_on_pdf("pdffonts", data)

    rows = report.splitlines()[2:]
    # regular and bold, each with its first subset and the one with Ł, ř, Ż
    assert len(rows) == 4, report
    for row in rows:
        # columns: name, type (two words), encoding, emb, sub, uni, object, id
        assert row.split()[-5:-2] == ["yes", "yes", "yes"], report


def test_a_document_in_latin_1_embeds_only_the_first_subset__B9():
    data = _document(FRENCH, "Abonnement Fibre 300 à 29,90 €", "F2027-000001")

    rows = _run_on_pdf("pdffonts", data).splitlines()[2:]

    assert len(rows) == 2


def test_every_character_of_the_face_has_one_fixed_code__B9():
    fonts = document_fonts()
    for name in (fonts.regular, fonts.bold):
        font = pdfmetrics.getFont(name)
        assert isinstance(font, FixedSubsetFont)
        drawn = {code for code, glyph in font.face.charToGlyph.items() if glyph}
        codes = [code for subset in font.subsets for code in subset if code]
        # each character once, except the space that every subset has at byte 32
        assert sorted(set(codes)) == sorted(drawn - {0xA0})
        assert len(codes) == len(set(codes)) + len(font.subsets) - 1
        assert all(len(subset) <= 256 and subset[32] == 32 for subset in font.subsets)
        assert font.subsets[0][ord("A")] == ord("A")


def test_codes_depend_only_on_the_character_set__B9():
    characters = [0x20, 0x41, 0xE9, 0x20AC, 0x141, 0x159, 0x2192]

    assert _fixed_codes(characters) == _fixed_codes(reversed(characters))
    subsets = _fixed_codes(characters)
    # French first: é, € and → with ASCII, then Ł and ř in code point order
    assert [code for code in subsets[0] if code] == [0xE9, 0x20AC, 0x2192, 0x141, 0x159, 0x20, 0x41]
