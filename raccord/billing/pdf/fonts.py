"""The fonts of the documents: DejaVu Sans subsets shipped with the code (see fonts/README.md).

Every PDF embeds its fonts (PDF/A-3b, see pdfa.py); the standard PDF fonts (Helvetica)
would not be embedded. Registered once per process.

ReportLab's ``TTFont`` gives each document its own 256-code subsets, numbered in the order the
document first uses each character, and so writes a new font program for every document:
parsing the glyphs, building the tables and compressing them cost as much as the rest of the
render. ``FixedSubsetFont`` gives every character of the face a code fixed once per process
(the same for every document, see ``_fixed_codes``) and embeds the whole subset of each code
range a document uses: its font program, widths and ToUnicode map are then the same bytes for
every document, built and compressed once per process."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR_FILE = FONTS_DIR / "DejaVuSans-Latin.ttf"
BOLD_FILE = FONTS_DIR / "DejaVuSans-Latin-Bold.ttf"

SPACE = 0x20
NBSP = 0xA0
# Characters outside Latin-1 that French invoices print often (amounts, dashes, quotes, Œ):
# they get codes in the first subset with Latin-1, so that most documents embed one subset
# per face. The others (Central European letters…) come after, in code point order.
FRENCH_EXTRAS = frozenset(map(ord, "\u202f€–—‘’“”…•←↑→↓−‚„‹›‰™≤≥‐‑‒ŒœŸ"))


@dataclass(frozen=True)
class Fonts:
    """The ReportLab names of the two faces a document uses."""

    regular: str
    bold: str


def _fixed_codes(characters: Iterable[int]) -> list[list[int]]:
    """The subsets of a face: ``subsets[n][code]`` is the character (code point) that byte
    ``code`` of subset ``n`` draws, 0 for none (.notdef). Codes 32–126 of subset 0 are ASCII
    (content streams stay readable), code 32 is the space in every subset (word spacing
    applies to byte 32), the rest is filled in a fixed order: Latin-1, ``FRENCH_EXTRAS``,
    then by code point. Pure function of the face's character set: same file, same codes."""
    characters = set(characters)
    ascii_ = {code for code in characters if SPACE <= code < 0x7F}
    others = sorted(
        (
            code
            for code in characters
            if code not in ascii_ and code > SPACE and code != NBSP  # NBSP prints as a space
        ),
        key=lambda code: (code > 0xFF and code not in FRENCH_EXTRAS, code),
    )
    subsets: list[list[int]] = []
    pending = iter(others)
    remaining = len(others)
    while not subsets or remaining:
        subset = [0] * 256
        subset[SPACE] = SPACE
        if not subsets:
            for code in ascii_:
                subset[code] = code
        for slot in range(1, 256):
            if subset[slot] or slot == SPACE or remaining == 0:
                continue
            subset[slot] = next(pending)
            remaining -= 1
        while len(subset) > SPACE + 1 and subset[-1] == 0:
            subset.pop()
        subsets.append(subset)
    return subsets


class _SameBytes:
    """A stream whose bytes are the same in every document: formatted once, then copied.

    Only compressed streams are kept: an uncompressed one takes the document's default
    filters. An encrypted document encrypts each stream with its own object number, so it
    gets the stream formatted afresh (no document of ours is encrypted; this keeps it right)."""

    def __init__(self, stream: pdfdoc.PDFStream) -> None:
        self.stream = stream
        self.data: bytes | None = None

    def format(self, document: Any) -> bytes:
        if self.stream.filters is None or not isinstance(document.encrypt, pdfdoc.NoEncryption):
            return self.stream.format(document)
        if self.data is None:
            # Two threads may both build it: the same bytes, and the assignment is atomic.
            self.data = self.stream.format(document)
        return self.data


class _Stream(pdfdoc.PDFObject):
    """One document's indirect object for a ``_SameBytes`` stream (ReportLab marks each
    object with its name in the document, so objects are not shared between documents)."""

    __RefOnly__ = 1

    def __init__(self, same: _SameBytes) -> None:
        self._same = same

    def format(self, document: Any) -> bytes:
        return self._same.format(document)


class _Formatted(pdfdoc.PDFObject):
    """A direct object (the widths array) formatted once."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def format(self, document: Any) -> bytes:
        return self._data


@dataclass(frozen=True)
class _Subset:
    """What every document that uses subset ``n`` of a face embeds (built once)."""

    base_font: str
    last_char: int
    widths: _Formatted
    to_unicode: _SameBytes
    font_file: _SameBytes


class _DocumentState:
    """What a face records about one document: its PDF name and the subsets it used."""

    namePrefix = "F"

    def __init__(self) -> None:
        self.internalName: str | None = None
        self.used: set[int] = set()


class FixedSubsetFont(TTFont):
    """A TrueType face with codes fixed per process, embedded as whole cached subsets.

    Same text, same bytes, whatever else the document or the process printed before: the code
    of a character depends only on the font file. A document embeds each subset it uses
    entirely (every character of the range, not only those it prints): a few kilobytes more
    per document, and no font program built per document."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=True, shapable=False)
        charToGlyph = self.face.charToGlyph
        # A character mapped to glyph 0 (U+FFFF in the DejaVu cmap) has no glyph of its own.
        self.subsets = _fixed_codes(code for code, glyph in charToGlyph.items() if glyph)
        self._codes: dict[int, tuple[int, int]] = {
            character: (n, code)
            for n, subset in enumerate(self.subsets)
            for code, character in enumerate(subset)
            if character
        }
        self._codes[SPACE] = self._codes[NBSP] = (0, SPACE)
        # Most strings print with subset 0 only: one translate() call gives their bytes.
        self._first = {
            character: chr(code) for character, (n, code) in self._codes.items() if n == 0
        }
        self._first_characters = frozenset(chr(character) for character in self._first)
        self._embedded: dict[tuple[int, bool], _Subset] = {}

    def _state(self, doc: Any) -> _DocumentState:
        try:
            return self.state[doc]
        except KeyError:
            state = self.state[doc] = _DocumentState()
            return state

    def splitString(
        self, text: str | bytes, doc: Any, encoding: str = "utf-8"
    ) -> list[tuple[int, bytes]]:
        """``text`` as (subset, bytes) runs; a character the face lacks is code 0 of subset 0
        (.notdef, as ReportLab does; ``printable`` keeps such characters out)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if self._first_characters.issuperset(text):
            return [(0, text.translate(self._first).encode("latin-1"))] if text else []
        codes = self._codes
        results: list[tuple[int, bytes]] = []
        current = -1
        run = bytearray()
        for character in map(ord, text):
            n, code = codes.get(character, (0, 0))
            if n != current:
                if run:
                    results.append((current, bytes(run)))
                current, run = n, bytearray()
            run.append(code)
        if run:
            results.append((current, bytes(run)))
        return results

    def getSubsetInternalName(self, subset: int, doc: Any) -> str:
        if subset < 0 or subset >= len(self.subsets):
            raise IndexError(f"Subset {subset} does not exist in font {self.fontName}")
        state = self._state(doc)
        if state.internalName is None:
            state.internalName = f"{state.namePrefix}{len(doc.fontMapping) + 1}"
            doc.fontMapping[self.fontName] = "/" + state.internalName
            doc.delayedFonts.append(self)
        state.used.add(subset)
        return f"/{state.internalName}+{subset}"

    def _subset(self, n: int, compression: bool) -> _Subset:
        try:
            return self._embedded[n, compression]
        except KeyError:
            pass
        face = self.face
        subset = self.subsets[n]
        base_font = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
        filters = [pdfdoc.PDFZCompress] if compression else None
        program = face.makeSubset(subset)
        font_file = pdfdoc.PDFStream(content=program, filters=filters)
        font_file.dictionary["Length1"] = len(program)
        to_unicode = pdfdoc.PDFStream(content=makeToUnicodeCMap(base_font, subset), filters=filters)
        widths = pdfdoc.PDFArray([face.getCharWidth(code) for code in subset]).format(None)
        result = self._embedded[n, compression] = _Subset(
            base_font=base_font,
            last_char=len(subset) - 1,
            widths=_Formatted(widths),
            to_unicode=_SameBytes(to_unicode),
            font_file=_SameBytes(font_file),
        )
        return result

    def addObjects(self, doc: Any) -> None:
        """The font objects of the subsets ``doc`` used, in subset order."""
        state = self._state(doc)
        face = self.face
        fonts = doc.idToObject["BasicFonts"].dict
        for n in sorted(state.used):
            subset = self._subset(n, bool(doc.compression))
            internal_name = f"{state.internalName}+{n}"
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(subset.base_font),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": doc.Reference(
                        _Stream(subset.font_file), f"fontFile:{face.filename}({subset.base_font})"
                    ),
                    "MissingWidth": face.defaultWidth,
                }
            )
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            font.Name = internal_name
            font.BaseFont = subset.base_font
            font.FirstChar = 0
            font.LastChar = subset.last_char
            font.Widths = subset.widths
            font.ToUnicode = doc.Reference(
                _Stream(subset.to_unicode), f"toUnicodeCMap:{subset.base_font}"
            )
            font.FontDescriptor = doc.Reference(descriptor, f"fontDescriptor:{subset.base_font}")
            doc.Reference(font, internal_name)
            fonts[internal_name] = font
        del self.state[doc]


def fonts_register(*, name: str, regular: Path, bold: Path) -> Fonts:
    """Register a pair of TrueType files under ``name`` (idempotent).

    ReportLab keys TrueType faces by their PostScript name: a second file with the same
    PostScript name would silently stand for the first one. Refused here, loudly."""
    fonts = Fonts(regular=name, bold=f"{name}-Bold")
    registered = pdfmetrics.getRegisteredFontNames()
    for font_name, path in ((fonts.regular, regular), (fonts.bold, bold)):
        if font_name not in registered:
            pdfmetrics.registerFont(FixedSubsetFont(font_name, str(path)))
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
    # Glyph 0 is .notdef (the empty box): a character mapped to it is not drawn.
    return frozenset(
        chr(code) for code in set(maps[0]) & set(maps[1]) if maps[0][code] and maps[1][code]
    )


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
