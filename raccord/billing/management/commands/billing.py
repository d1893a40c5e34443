"""``raccord billing run --month YYYY-MM [--dry-run]``: the monthly run with a progress bar."""

from __future__ import annotations

import subprocess
import sys
import time
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.billing.run import billing_run
from raccord.core.errors import DomainError
from raccord.core.identity import seller_identity_check


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month attend AAAA-MM, pas {value!r}.") from None


def _shard(value: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise CommandError(f"--shard attend I/N, pas {value!r}.") from None
    if not 0 <= index < count:
        raise CommandError(f"--shard {value} : I doit être entre 0 et N-1.")
    return index, count


class Command(BaseCommand):
    help = "Billing operations. `run`: the monthly run of a month (idempotent, resumable)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run (or resume) the monthly run of a month")
        run.add_argument("--month", required=True, help="AAAA-MM")
        run.add_argument("--dry-run", action="store_true", help="compute and print, write nothing")
        run.add_argument("--batch-size", type=int, default=2000)
        run.add_argument("--no-pdf", action="store_true", help="do not queue the PDF rendering")
        run.add_argument(
            "--workers",
            type=int,
            default=1,
            help="share the run between N processes on this machine (then close it)",
        )
        run.add_argument(
            "--shard", help="I/N: process only this worker's share (the run stays open)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        month = _month(options["month"])
        started = time.perf_counter()
        shard = _shard(options["shard"]) if options["shard"] else None
        workers = options["workers"]
        if not options["dry_run"]:
            try:
                seller_identity_check()
            except DomainError as error:
                raise CommandError(error.message) from None
        if workers < 1 or workers > 64:
            raise CommandError("--workers attend un nombre entre 1 et 64.")
        if workers > 1:
            if options["dry_run"] or shard:
                raise CommandError("--workers ne se combine ni avec --dry-run ni avec --shard.")
            # Each child takes every N-th batch; the numbering lock keeps the series gapless.
            children = [
                subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
                    [
                        sys.executable,
                        "-m",
                        "raccord.manage",
                        "billing",
                        "run",
                        "--month",
                        options["month"],
                        "--batch-size",
                        str(options["batch_size"]),
                        "--shard",
                        f"{i}/{workers}",
                    ]
                    + (["--no-pdf"] if options["no_pdf"] else []),
                    stdout=subprocess.DEVNULL,
                )
                for i in range(workers)
            ]
            failed = [child.args for child in children if child.wait() != 0]
            if failed:
                raise CommandError(
                    "Un processus de facturation a échoué ; relancez la commande pour reprendre."
                )
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            width = 30
            filled = int(width * done / total) if total else width
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} clients"
            if interactive:
                self.stdout.write(line, ending="")
            else:
                # one line per batch, seen as it happens by a supervisor or a log reader
                self.stdout.write(line.strip())
            self.stdout.flush()

        result = billing_run(
            month=month,
            at=timezone.now(),
            dry_run=options["dry_run"],
            progress=progress,
            batch_size=options["batch_size"],
            render_pdfs=not options["no_pdf"],
            shard=shard,
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
