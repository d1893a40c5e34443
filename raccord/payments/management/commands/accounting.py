"""``raccord accounting fec --year YYYY [--output FILE]``: the FEC of a calendar year.

The default file name is ``SIRENFECYYYYMMDD.txt`` (``OperatorProfile.siren``, closing day
31 December). Fields are tab-separated (``--separator pipe`` for « | »), encoded in ISO 8859-15
as LPF art. A47 A-1 allows (``--encoding utf-8`` if the accountant prefers; a character
ISO 8859-15 lacks becomes « ? »). The file is written next to its target, then moved."""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from raccord.payments.accounting import SEPARATORS, fec_filename, fec_write


class Command(BaseCommand):
    help = "Accounting exports. `fec`: the French FEC (18 columns) of a year."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fec = sub.add_parser("fec", help="write the FEC of a calendar year")
        fec.add_argument("--year", type=int, required=True, help="AAAA")
        fec.add_argument("--output", help="the file (default: SIRENFECAAAA1231.txt here)")
        fec.add_argument("--separator", choices=sorted(SEPARATORS), default="tab")
        fec.add_argument("--encoding", choices=["iso-8859-15", "utf-8"], default="iso-8859-15")

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        if not 2000 <= year <= 2100:
            raise CommandError("--year attend une année sur 4 chiffres.")
        output = Path(options["output"] or fec_filename(year=year))
        handle, spool = tempfile.mkstemp(dir=output.parent, suffix=".txt.part")
        try:
            with os.fdopen(
                handle, "w", encoding=options["encoding"], errors="replace", newline=""
            ) as stream:
                summary = fec_write(stream, year=year, separator=SEPARATORS[options["separator"]])
            os.replace(spool, output)
        finally:
            if os.path.exists(spool):
                os.unlink(spool)
        if summary.debit != summary.credit:  # pragma: no cover - every entry is balanced
            raise CommandError(f"Écritures déséquilibrées : {summary.debit} ≠ {summary.credit}")
        self.stdout.write(
            f"{output} : {summary.entries} écritures, {summary.lines} lignes, "
            f"total {summary.debit} € au débit et au crédit."
        )
