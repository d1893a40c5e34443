"""``raccord import_addresses FILE.csv``: import the national address base (BAN) CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from raccord.core.errors import DomainError
from raccord.eligibility.services import address_import

# Bad rows printed after the summary; the job row keeps more.
ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Importe un fichier CSV de la Base Adresse Nationale (séparateur « ; », UTF-8, avec "
        "en-tête). Relancer le même fichier ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="fichier CSV BAN (adresses-XX.csv)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        # The command is the edge that reads the clock; the service takes the time as a value.
        # Undecodable bytes become U+FFFD so the row is reported instead of aborting the import.
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
            try:
                job = address_import(stream=stream, file_name=str(path), started_at=timezone.now())
            except DomainError as error:
                raise CommandError(error.message) from error
        seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at else 0.0
        rate = job.rows_read / seconds if seconds > 0 else 0.0
        self.stdout.write(
            f"Import {job.pk} de {path.name} : {job.rows_read} lignes lues, "
            f"{job.rows_created} créées, {job.rows_updated} mises à jour, "
            f"{job.rows_rejected} refusées en {seconds:.1f} s ({rate:,.0f} lignes/s)."
        )
        for bad_row in job.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  ligne {bad_row['line']} : {bad_row['message']}")
        if job.rows_rejected > ERRORS_SHOWN:
            self.stdout.write(f"  … et {job.rows_rejected - ERRORS_SHOWN} autres lignes refusées.")
