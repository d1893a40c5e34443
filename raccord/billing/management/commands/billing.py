"""``raccord billing run --month YYYY-MM [--dry-run]``: the monthly run with a progress bar."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.billing.run import billing_run


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month attend AAAA-MM, pas {value!r}.") from None


class Command(BaseCommand):
    help = "Billing operations. `run`: the monthly run of a month (idempotent, resumable)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run (or resume) the monthly run of a month")
        run.add_argument("--month", required=True, help="AAAA-MM")
        run.add_argument("--dry-run", action="store_true", help="compute and print, write nothing")
        run.add_argument("--batch-size", type=int, default=2000)
        run.add_argument("--no-pdf", action="store_true", help="do not queue the PDF rendering")

    def handle(self, *args: Any, **options: Any) -> None:
        month = _month(options["month"])
        started = time.perf_counter()
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            width = 30
            filled = int(width * done / total) if total else width
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} clients"
            if interactive:
                self.stdout.write(line, ending="")
                self.stdout.flush()
            else:
                self.stdout.write(line.strip())

        result = billing_run(
            month=month,
            at=timezone.now(),
            dry_run=options["dry_run"],
            progress=progress,
            batch_size=options["batch_size"],
            render_pdfs=not options["no_pdf"],
        )
        elapsed = time.perf_counter() - started
        if interactive:
            self.stdout.write("")
        kind = "Aperçu (rien n'est écrit)" if result.dry_run else "Facturation"
        self.stdout.write(
            self.style.SUCCESS(
                f"{kind} de {month:%m/%Y}, documents datés du {result.run_date:%d/%m/%Y} : "
                f"{result.invoices} facture(s) pour {result.total_invoiced} €, "
                f"{result.credit_notes} avoir(s) pour {result.total_credited} € ({elapsed:.1f} s)."
            )
        )
