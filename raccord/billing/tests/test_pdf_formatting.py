"""French formatting on documents, and characters the embedded fonts cannot draw (B9)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from raccord.billing.pdf.fonts import Fonts, document_fonts, printable
from raccord.billing.pdf.formatting import (
    date_long,
    date_short,
    euros,
    percent,
    period,
    vat_rate_label,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("29.90", f"29,90{NBSP}€"),
        ("0", f"0,00{NBSP}€"),
        ("1234.5", f"1{NNBSP}234,50{NBSP}€"),
        ("-1234567.89", f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        ("-0.05", f"-0,05{NBSP}€"),
    ],
)
def test_amounts_read_the_french_way__B9(amount: str, expected: str):
    assert euros(Decimal(amount)) == expected


def test_dates_in_words_and_in_figures__B9():
    assert date_long(date(2027, 2, 5)) == "5 février 2027"
    assert date_long(date(2027, 8, 1)) == "1er août 2027"
    assert date_long(date(2028, 1, 19)) == "19 janvier 2028"
    assert date_short(date(2027, 1, 5)) == "05/01/2027"


def test_service_periods__B9():
    assert period(date(2027, 1, 20), date(2027, 1, 31)) == "du 20/01/2027 au 31/01/2027"
    assert period(date(2027, 1, 20), date(2027, 1, 20)) == "le 20/01/2027"
    assert period(None, None) == ""


def test_vat_rates__B9():
    assert percent(Decimal("0.20")) == f"20{NBSP}%"
    assert percent(Decimal("0.055")) == f"5,5{NBSP}%"
    assert percent(Decimal("0.021")) == f"2,1{NBSP}%"
    assert vat_rate_label(Decimal("0")) == "non soumis à TVA"
    assert vat_rate_label(Decimal("0.100")) == f"10{NBSP}%"


def test_names_keep_every_letter_the_fonts_have__B9():
    fonts = document_fonts()
    for text in ("Kœnig", "Dvořák", "Łukasz Wiśniewski", "Ștefan Țurcanu", "« 29,90 € »", "→"):
        assert printable(text, fonts) == text


def test_a_character_the_fonts_lack_becomes_its_letter_or_a_question_mark__B9():
    fonts = document_fonts()
    assert printable("Nguyễn", fonts) == "Nguyen"
    assert printable("Zhang 张", fonts) == "Zhang ?"
    assert printable("ligne 1\nligne 2\tfin", fonts) == "ligne 1 ligne 2 fin"


def test_standard_fonts_are_left_alone():
    assert printable("张", Fonts(regular="Helvetica", bold="Helvetica-Bold")) == "张"
