"""The fonts of the documents: DejaVu Sans subsets shipped with the code (see fonts/README.md).

Every PDF embeds its fonts (PDF/A-3 for Factur-X later); the standard PDF fonts (Helvetica)
would not be embedded. Registered once per process."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR_FILE = FONTS_DIR / "DejaVuSans-Latin.ttf"
BOLD_FILE = FONTS_DIR / "DejaVuSans-Latin-Bold.ttf"


@dataclass(frozen=True)
class Fonts:
    """The ReportLab names of the two faces a document uses."""

    regular: str
    bold: str


def fonts_register(*, name: str, regular: Path, bold: Path) -> Fonts:
    """Register a pair of TrueType files under ``name`` (idempotent).

    ReportLab keys TrueType faces by their PostScript name: a second file with the same
    PostScript name would silently stand for the first one. Refused here, loudly."""
    fonts = Fonts(regular=name, bold=f"{name}-Bold")
    registered = pdfmetrics.getRegisteredFontNames()
    for font_name, path in ((fonts.regular, regular), (fonts.bold, bold)):
        if font_name not in registered:
            pdfmetrics.registerFont(TTFont(font_name, str(path)))
        actual = pdfmetrics.getFont(font_name).face.filename
        if Path(actual).resolve() != path.resolve():
            raise ValueError(f"font {font_name} is {actual}, not {path}: same PostScript name")
    return fonts


@functools.cache
def document_fonts() -> Fonts:
    return fonts_register(name="RaccordSans", regular=REGULAR_FILE, bold=BOLD_FILE)


@functools.cache
def _covered(fonts: Fonts) -> frozenset[str] | None:
    """The characters both faces draw; None for the standard PDF fonts (no character map)."""
    maps = [
        getattr(getattr(pdfmetrics.getFont(name), "face", None), "charToGlyph", None)
        for name in (fonts.regular, fonts.bold)
    ]
    if maps[0] is None or maps[1] is None:
        return None
    return frozenset(chr(code) for code in set(maps[0]) & set(maps[1]))


def printable(text: str, fonts: Fonts) -> str:
    """``text`` with only characters the fonts can draw: a letter the subset lacks becomes its
    unaccented letter (ǎ → a), anything else « ? », a tab or a newline a space. A missing glyph
    would otherwise print as an empty box, silently, in a customer's name."""
    covered = _covered(fonts)
    if covered is None or covered.issuperset(text):
        return text
    result = []
    for char in text:
        if char in covered:
            result.append(char)
        elif char.isspace():
            result.append(" ")
        else:
            base = "".join(
                part
                for part in unicodedata.normalize("NFKD", char)
                if part in covered and not unicodedata.combining(part)
            )
            result.append(base or "?")
    return "".join(result)
