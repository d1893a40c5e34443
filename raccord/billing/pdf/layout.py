"""Page machinery for documents: text and shapes placed top to bottom, a new page when one is
full, then drawn on a ReportLab canvas.

Layout first, drawing second: the number of pages is known before anything is drawn, so every
page can say "page 1 sur 2". All the text of a page goes into one PDF text object."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from raccord.billing.pdf.fonts import Fonts, printable

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 42.0
RIGHT = PAGE_WIDTH - 42.0
WIDTH = RIGHT - LEFT
TOP = PAGE_HEIGHT - 44.0
BOTTOM = 56.0  # room for the footer

# Dark enough on white and on the light panels for a contrast ratio above 7:1.
INK = (0.1, 0.1, 0.12)
MUTED = (0.3, 0.3, 0.34)
ACCENT = (0.04, 0.27, 0.5)
PANEL = (0.94, 0.95, 0.97)
RULE = (0.75, 0.77, 0.8)

Color = tuple[float, float, float]


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float
    bold: bool
    color: Color
    right: bool


@dataclass
class Page:
    rects: list[tuple[float, float, float, float, Color]] = field(default_factory=list)
    rules: list[tuple[float, float, float, Color]] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


class Layout:
    """Places text and shapes on pages, top to bottom, opening a page when one is full."""

    def __init__(self, fonts: Fonts, continuation: Callable[[Layout], None]) -> None:
        self.fonts = fonts
        self.pages: list[Page] = [Page()]
        self.y = TOP
        self._continuation = continuation
        self.repeat: Callable[[Layout], None] | None = None

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 9.0,
        bold: bool = False,
        color: Color = INK,
        right: bool = False,
    ) -> None:
        if text:
            self.page.texts.append(Text(x, y, text, size, bold, color, right))

    def rect(self, x: float, y: float, width: float, height: float, color: Color) -> None:
        self.page.rects.append((x, y, width, height, color))

    def rule(self, y: float, x1: float = LEFT, x2: float = RIGHT, color: Color = RULE) -> None:
        self.page.rules.append((x1, x2, y, color))

    def wrap(self, text: str, width: float, *, size: float = 9.0, bold: bool = False) -> list[str]:
        """``text`` cut into lines of at most ``width`` points, at ordinary spaces only: a
        no-break space (« 29,90 € », a masked IBAN) holds its words together."""
        font = self.fonts.bold if bold else self.fonts.regular
        text = printable(text, self.fonts)
        if stringWidth(text, font, size) <= width:
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            if not word:
                continue
            candidate = f"{current} {word}" if current else word
            if stringWidth(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            # A word wider than the column (a long URL) is cut where it must be.
            while len(word) > 1 and stringWidth(word, font, size) > width:
                cut = len(word) - 1
                while cut > 1 and stringWidth(word[:cut], font, size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
        return lines or [text]

    def ensure(self, height: float) -> None:
        """Open a new page unless ``height`` points still fit on this one."""
        if self.y - height >= BOTTOM:
            return
        self.pages.append(Page())
        self.y = TOP
        self._continuation(self)
        if self.repeat is not None:
            self.repeat(self)


def page_draw(canvas: Canvas, page: Page, fonts: Fonts) -> None:
    for x, y, width, height, fill in page.rects:
        canvas.setFillColorRGB(*fill)
        canvas.rect(x, y, width, height, stroke=0, fill=1)
    canvas.setLineWidth(0.5)
    for x1, x2, y, stroke in page.rules:
        canvas.setStrokeColorRGB(*stroke)
        canvas.line(x1, y, x2, y)
    text = canvas.beginText()
    current: tuple[str, float] | None = None
    color: Color | None = None
    for item in page.texts:
        font = fonts.bold if item.bold else fonts.regular
        string = printable(item.text, fonts)
        if current != (font, item.size):
            text.setFont(font, item.size)
            current = (font, item.size)
        if color != item.color:
            text.setFillColorRGB(*item.color)
            color = item.color
        x = item.x - stringWidth(string, font, item.size) if item.right else item.x
        text.setTextOrigin(x, item.y)
        # textLine, not textOut: every string has its own origin, and textOut would measure
        # each one again only to move a cursor that is never used.
        text.textLine(string)
    canvas.drawText(text)


@contextmanager
def binary_streams() -> Iterator[None]:
    """Compressed streams without the ASCII85 layer ReportLab adds by default: smaller files,
    and the encoding is a sizeable share of the render time. ReportLab reads it from its global
    settings only, so it is switched for the duration of a render (workers are processes)."""
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = previous
