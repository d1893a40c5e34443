"""``raccord refunds prepare|export``: refunds of credit notes (B6).

``raccord refunds export --output FILE [--date D] [--version 001.001.03|001.001.09]`` prepares
the refunds of every credit note not yet given back, puts the pending transfers in one pain.001
file (validated against the XSD before it is written to FILE) and marks them exported. Run
again the same day with nothing new, it writes the same file again."""

from __future__ import annotations

import os
import tempfile
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.payments.refunds import (
    DEFAULT_VERSION,
    refund_batch_write,
    refunds_export,
    refunds_prepare,
)
from raccord.payments.sepa_credit import PAIN001_VERSIONS, pain001_validate

ACTOR = Actor.system("raccord refunds")


def _date(value: str | None) -> date:
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date attend AAAA-MM-JJ, pas {value!r}.") from None


class Command(BaseCommand):
    help = "Refunds of credit notes: `prepare` them, `export` the transfers as a pain.001 file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        prepare = sub.add_parser("prepare", help="create the refunds of the credit notes")
        prepare.add_argument("--date", help="AAAA-MM-JJ (default: today)")
        export = sub.add_parser("export", help="write the pain.001 transfer file")
        export.add_argument("--output", required=True, help="the file to write")
        export.add_argument("--date", help="AAAA-MM-JJ (default: today)")
        export.add_argument("--version", choices=PAIN001_VERSIONS, default=DEFAULT_VERSION)

    def handle(self, *args: Any, **options: Any) -> None:
        on = _date(options["date"])
        try:
            created = refunds_prepare(on=on, actor=ACTOR)
            self.stdout.write(f"{len(created)} remboursement(s) préparé(s).")
            if options["action"] == "export":
                self._export(on=on, output=Path(options["output"]), version=options["version"])
        except DomainError as error:
            raise CommandError(error.message) from None

    def _export(self, *, on: date, output: Path, version: str) -> None:
        result = refunds_export(on=on, actor=ACTOR, version=version)
        if result is None:
            self.stdout.write("Aucun remboursement par virement à émettre.")
            return
        batch = result.batch
        # Written next to FILE, validated, then moved: FILE is never a half-written file.
        handle, spool = tempfile.mkstemp(dir=output.parent or Path("."), suffix=".xml.part")
        try:
            with os.fdopen(handle, "wb") as stream:
                refund_batch_write(batch, stream, version=version)
            check = pain001_validate(spool, version=version)
            if not check.valid:
                raise CommandError(
                    f"Le fichier ne respecte pas le schéma pain.{version} "
                    f"(ligne {check.line}) : {check.error}"
                )
            os.replace(spool, output)
        finally:
            if os.path.exists(spool):
                os.unlink(spool)
        state = "créé" if result.created else "déjà créé aujourd'hui, écrit à nouveau"
        self.stdout.write(
            f"{output} : {batch.message_id} ({state}), {batch.count} virement(s), "
            f"{batch.total} €, exécution le {batch.execution_date:%d/%m/%Y}."
        )
