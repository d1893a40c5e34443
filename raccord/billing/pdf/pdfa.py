"""PDF/A-3b and Factur-X, written by ReportLab in the same pass as the pages.

What a PDF/A-3b file needs beyond what ``render.py`` already does (fonts embedded, the same
bytes for the same document, a file ID in the trailer, a binary comment after the header,
no transparency, no annotations, no JavaScript):

- XMP metadata in the catalog (uncompressed), saying PDF/A-3 conformance B, with the title,
  author, subject, creator tool, producer and dates of the Info dictionary, equal to them
  (the Info dictionary is written here too, without the « Keywords » and « Trapped » entries
  ReportLab adds by default, which the XMP would otherwise have to repeat);
- an output intent (GTS_PDFA1) with an sRGB ICC profile: the pages paint in DeviceRGB;
- for Factur-X: the XML as an embedded file ``factur-x.xml`` (MIME type, size and date in its
  parameters), its file specification with /AFRelationship /Data, listed in the catalog's
  /AF array and in /Names /EmbeddedFiles; and the XMP's Factur-X extension schema (fx:) with
  its PDF/A extension schema description, as the Factur-X 1.0 specification gives it.

Nothing here reads the clock: the dates are the issue date's, at midnight in Paris. The
ICC profile and the extension schema are the same bytes in every document: formatted and
compressed once per process (as the font programs, see ``fonts.py``)."""

from __future__ import annotations

import functools
import zlib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from raccord.billing.pdf import facturx
from raccord.billing.pdf.fonts import _SameBytes, _Stream

ICC_FILE = Path(__file__).resolve().parent / "data" / "sRGB.icc"
PARIS = ZoneInfo("Europe/Paris")
PRODUCER = "Raccord (ReportLab)"
# PDF/A-3 is based on PDF 1.7 (ISO 32000-1).
PDF_VERSION = (1, 7)
FACTURX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"

_XMP_HEAD = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">\n'
    "<pdfaid:part>3</pdfaid:part>\n"
    "<pdfaid:conformance>B</pdfaid:conformance>\n"
    "</rdf:Description>\n"
)
_XMP_DOCUMENT = (
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>\n'
    "<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>\n"
    '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt>'
    "</dc:description>\n"
    "</rdf:Description>\n"
    '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">\n'
    "<pdf:Producer>{producer}</pdf:Producer>\n"
    "</rdf:Description>\n"
    '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
    "<xmp:CreatorTool>{creator}</xmp:CreatorTool>\n"
    "<xmp:CreateDate>{date}</xmp:CreateDate>\n"
    "<xmp:ModifyDate>{date}</xmp:ModifyDate>\n"
    "</rdf:Description>\n"
)
_XMP_FACTURX_PROPERTY = (
    '<rdf:li rdf:parseType="Resource">\n'
    "<pdfaProperty:name>{name}</pdfaProperty:name>\n"
    "<pdfaProperty:valueType>Text</pdfaProperty:valueType>\n"
    "<pdfaProperty:category>external</pdfaProperty:category>\n"
    "<pdfaProperty:description>{description}</pdfaProperty:description>\n"
    "</rdf:li>\n"
)
_XMP_FACTURX = (
    '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
    ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
    ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\n'
    "<pdfaExtension:schemas><rdf:Bag>\n"
    '<rdf:li rdf:parseType="Resource">\n'
    "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\n"
    f"<pdfaSchema:namespaceURI>{FACTURX_NAMESPACE}</pdfaSchema:namespaceURI>\n"
    "<pdfaSchema:prefix>fx</pdfaSchema:prefix>\n"
    "<pdfaSchema:property><rdf:Seq>\n"
    + "".join(
        _XMP_FACTURX_PROPERTY.format(name=name, description=description)
        for name, description in (
            ("DocumentFileName", "The name of the embedded XML document"),
            ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
            ("Version", "The actual version of the standard applying to the embedded XML"),
            ("ConformanceLevel", "The conformance level of the embedded XML document"),
        )
    )
    + "</rdf:Seq></pdfaSchema:property>\n"
    "</rdf:li>\n"
    "</rdf:Bag></pdfaExtension:schemas>\n"
    "</rdf:Description>\n"
    f'<rdf:Description rdf:about="" xmlns:fx="{FACTURX_NAMESPACE}">\n'
    "<fx:DocumentType>INVOICE</fx:DocumentType>\n"
    f"<fx:DocumentFileName>{facturx.FILENAME}</fx:DocumentFileName>\n"
    f"<fx:Version>{facturx.VERSION}</fx:Version>\n"
    f"<fx:ConformanceLevel>{facturx.CONFORMANCE_LEVEL}</fx:ConformanceLevel>\n"
    "</rdf:Description>\n"
)
_XMP_TAIL = '</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>'


def _xmp_text(value: str) -> str:
    return escape(facturx.xml_clean(value))


def xmp(*, title: str, author: str, subject: str, creator: str, moment: datetime) -> bytes:
    """The XMP packet of a document (PDF/A-3b, Factur-X EN 16931)."""
    document = _XMP_DOCUMENT.format(
        title=_xmp_text(title),
        author=_xmp_text(author),
        subject=_xmp_text(subject),
        producer=PRODUCER,
        creator=_xmp_text(creator),
        date=moment.isoformat(),
    )
    return (_XMP_HEAD + document + _XMP_FACTURX + _XMP_TAIL).encode("utf-8")


def issue_moment(issue_date: date) -> datetime:
    """The time the metadata give a document: midnight in Paris on its issue date."""
    return datetime.combine(issue_date, time(0), PARIS)


def pdf_date(moment: datetime) -> str:
    """D:20270202000000+01'00' (PDF date with its offset, as PDF/A wants it)."""
    offset = moment.strftime("%z")
    return f"D:{moment:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}'"


class _Info(pdfdoc.PDFInfo):
    """The Info dictionary, with exactly the entries the XMP repeats."""

    moment: datetime | None = None

    def format(self, document: Any) -> bytes:
        assert self.moment is not None
        when = pdfdoc.PDFString(pdf_date(self.moment))
        entries = {
            "Title": pdfdoc.PDFString(self.title),
            "Author": pdfdoc.PDFString(self.author),
            "Subject": pdfdoc.PDFString(self.subject),
            "Creator": pdfdoc.PDFString(self.creator),
            "Producer": pdfdoc.PDFString(self.producer),
            "CreationDate": when,
            "ModDate": when,
        }
        return pdfdoc.PDFDictionary(entries).format(document)


@functools.cache
def _icc_profile() -> _SameBytes:
    profile = ICC_FILE.read_bytes()
    stream = pdfdoc.PDFStream(content=profile, filters=[pdfdoc.PDFZCompress])
    stream.dictionary["N"] = 3
    return _SameBytes(stream)


def pdfa_canvas_prepare(canvas: Canvas, *, moment: datetime) -> None:
    """Before anything is drawn: the Info dictionary PDF/A wants (dated ``moment``)."""
    document = canvas._doc
    info = _Info()
    info.moment = moment
    info.producer = PRODUCER
    document.info = info


def pdfa_finish(canvas: Canvas, *, moment: datetime, invoice_xml: bytes) -> None:
    """Before ``canvas.save()``: XMP, output intent and the embedded Factur-X XML."""
    document = canvas._doc
    info = document.info
    catalog = document.Catalog
    catalog.Metadata = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary(
            {"Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}
        ),
        content=xmp(
            title=info.title,
            author=info.author,
            subject=info.subject,
            creator=info.creator,
            moment=moment,
        ),
        filters=None,  # PDF/A: the metadata stays readable without decoding
    )
    icc = document.Reference(_Stream(_icc_profile()), "sRGBProfile")
    intent = pdfdoc.PDFDictionary(
        {
            "Type": pdfdoc.PDFName("OutputIntent"),
            "S": pdfdoc.PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": icc,
        }
    )
    embedded = pdfdoc.PDFStream(
        pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("EmbeddedFile"),
                # text/xml: ReportLab's PDFName leaves the slash as it is, ending the name there
                "Subtype": "/text#2Fxml",
                "Params": pdfdoc.PDFDictionary(
                    {
                        "ModDate": pdfdoc.PDFString(pdf_date(moment)),
                        "Size": len(invoice_xml),
                    }
                ),
            }
        ),
        content=zlib.compress(invoice_xml),
        filters=None,
    )
    embedded.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
    embedded_ref = document.Reference(embedded, "FacturXFile")
    name = pdfdoc.PDFString(facturx.FILENAME)
    filespec = document.Reference(
        pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Filespec"),
                "F": name,
                "UF": name,
                "Desc": pdfdoc.PDFString("Factur-X"),
                "AFRelationship": pdfdoc.PDFName("Data"),
                "EF": pdfdoc.PDFDictionary({"F": embedded_ref, "UF": embedded_ref}),
            }
        ),
        "FacturXFileSpec",
    )
    catalog.Names = pdfdoc.PDFDictionary(
        {"EmbeddedFiles": pdfdoc.PDFDictionary({"Names": pdfdoc.PDFArray([name, filespec])})}
    )
    # ReportLab's catalog writes only the keys it lists: these two are added for this one.
    catalog.__NoDefault__ = [*pdfdoc.PDFCatalog.__NoDefault__, "OutputIntents", "AF"]
    catalog.OutputIntents = pdfdoc.PDFArray([intent])
    catalog.AF = pdfdoc.PDFArray([filespec])
