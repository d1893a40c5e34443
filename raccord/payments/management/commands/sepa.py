"""``raccord sepa …``: the direct-debit files and their returns (P2, P3, P6).

- ``export --month YYYY-MM --output FILE [--version 001.02|001.08] [--force] [--no-validate]``:
  one pain.008 file per debit date of the month (FILE itself for one date, FILE with the date
  as a suffix for several), validated against the official schema unless ``--no-validate``.
- ``import-returns FILE [--on YYYY-MM-DD]``: a pain.002 or camt.054 file of R-transactions.
- ``submit MESSAGE_ID [--on D]``, ``settle MESSAGE_ID [--on D]``: the batch's life.
- ``returns-file MESSAGE_ID --output FILE [--format F] [--reason AM04] [--count N |
  --invoice NUMBER …]``: a returns file as the bank would send it, for the demo and tests."""

from __future__ import annotations

import shutil
import time
from argparse import ArgumentParser, BooleanOptionalAction
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.payments.debits import (
    DebitFileResult,
    debit_batch_settle,
    debit_batch_submit,
    debit_dates_of_month,
    debit_file_create,
)
from raccord.payments.models import Debit, DebitBatch
from raccord.payments.returns import returns_import
from raccord.payments.sepa.creditor import creditor_get
from raccord.payments.sepa.returns_read import CAMT054_02, CAMT054_08, PAIN002
from raccord.payments.sepa.returns_write import (
    camt054_build,
    pain002_build,
    return_specs_for_debits,
)
from raccord.payments.sepa.schemas import PAIN008_VERSIONS, pain008_validate

ACTOR = Actor.system("raccord sepa")
RETURN_FORMATS = (PAIN002, CAMT054_02, CAMT054_08)


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month attend AAAA-MM, pas {value!r}.") from None


def _day(value: str | None) -> date:
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Date attendue au format AAAA-MM-JJ, pas {value!r}.") from None


def output_path(output: Path, debit_date: date, *, several: bool) -> Path:
    """FILE for a month with one debit date; FILE-YYYY-MM-DD.ext for each of several."""
    if not several:
        return output
    return output.with_name(f"{output.stem}-{debit_date.isoformat()}{output.suffix}")


class Command(BaseCommand):
    help = "SEPA direct debits: export pain.008 files, import returns, submit and settle batches."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the pain.008 file(s) of a month")
        export.add_argument("--month", required=True, help="AAAA-MM")
        export.add_argument("--output", required=True, help="the file to write")
        export.add_argument("--version", choices=PAIN008_VERSIONS, default=None)
        export.add_argument(
            "--force", action="store_true", help="create it even after the P2 deadline"
        )
        export.add_argument(
            "--validate",
            action=BooleanOptionalAction,
            default=True,
            help="validate against the official XSD (default: yes)",
        )
        returns = sub.add_parser("import-returns", help="import a pain.002 / camt.054 file")
        returns.add_argument("file")
        returns.add_argument("--on", help="AAAA-MM-JJ (default: today)")
        for name, text in (("submit", "mark sent to the bank"), ("settle", "mark the money in")):
            action = sub.add_parser(name, help=text)
            action.add_argument("message_id")
            action.add_argument("--on", help="AAAA-MM-JJ (default: today)")
        generated = sub.add_parser(
            "returns-file", help="write a returns file for debits of a batch (demo, tests)"
        )
        generated.add_argument("message_id")
        generated.add_argument("--output", required=True)
        generated.add_argument("--format", choices=RETURN_FORMATS, default=PAIN002)
        generated.add_argument("--reason", default="AM04", help="R-transaction code (AM04…)")
        generated.add_argument("--count", type=int, default=1, help="the first N debits")
        generated.add_argument("--invoice", action="append", help="these invoices' debits")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            action = options["action"]
            if action == "export":
                self._export(options)
            elif action == "import-returns":
                self._import(options)
            elif action == "returns-file":
                self._returns_file(options)
            else:
                self._batch(action, options)
        except DomainError as error:
            raise CommandError(error.message) from None

    def _export(self, options: dict[str, Any]) -> None:
        month = _month(options["month"])
        output = Path(options["output"])
        dates = debit_dates_of_month(month=month)
        if not dates:
            self.stdout.write(f"Aucune facture à prélever en {month:%m/%Y}.")
            return
        several = len(dates) > 1
        if several:
            self.stdout.write(
                f"{len(dates)} dates de prélèvement en {month:%m/%Y} "
                f"({', '.join(d.strftime('%d/%m/%Y') for d in dates)}) : un fichier par date."
            )
        for debit_date in dates:
            started = time.perf_counter()
            result = debit_file_create(
                debit_date=debit_date,
                at=timezone.now(),
                actor=ACTOR,
                version=options["version"],
                force=options["force"],
            )
            self._write(result, output_path(output, debit_date, several=several), options, started)

    def _write(
        self, result: DebitFileResult, path: Path, options: dict[str, Any], started: float
    ) -> None:
        batch = result.batch
        for earlier in result.earlier:
            self.stdout.write(
                f"  {earlier.message_id} ({earlier.get_status_display()}) : déjà transmis, inchangé."
            )
        if batch is None:
            self.stdout.write(f"{result.debit_date:%d/%m/%Y} : rien de nouveau à prélever.")
            return
        with batch.file.open("rb") as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        state = "créé" if result.rewritten else "inchangé (déjà créé)"
        self.stdout.write(
            self.style.SUCCESS(
                f"{batch.message_id} du {batch.debit_date:%d/%m/%Y} {state} : {batch.count} "
                f"prélèvement(s) pour {batch.total} €, pain.008.{batch.version} → {path} "
                f"({time.perf_counter() - started:.1f} s)"
            )
        )
        if result.without_mandate_count:
            self.stdout.write(
                self.style.WARNING(
                    f"  {result.without_mandate_count} facture(s) sans mandat en vigueur, non "
                    f"prélevée(s) : {', '.join(result.without_mandate)}"
                )
            )
        if options["validate"]:
            check = pain008_validate(path, version=batch.version)
            if not check.valid:
                raise CommandError(
                    f"{path} n'est pas conforme au schéma pain.008.{batch.version} "
                    f"(ligne {check.line}) : {check.error}"
                )
            self.stdout.write(f"  Conforme au schéma pain.008.{batch.version}.")

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Lecture impossible de {path} : {error.strerror}") from None
        report = returns_import(
            content=content, filename=path.name, on=_day(options["on"]), actor=ACTOR
        )
        record = report.record
        if report.already_imported:
            self.stdout.write(
                f"Fichier déjà importé le {record.imported_on:%d/%m/%Y} : rien n'a changé."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{record.format} : {record.entries} rejet(s) lu(s), {record.matched} appliqué(s)."
            )
        )
        for problem in record.problems:
            where = f"entrée {problem['position']}" + (
                f", ligne {problem['line']}" if problem.get("line") else ""
            )
            self.stdout.write(self.style.WARNING(f"  {where} : {problem['error']}"))

    def _returns_file(self, options: dict[str, Any]) -> None:
        batch = DebitBatch.objects.filter(message_id=options["message_id"]).first()
        if batch is None:
            raise CommandError(f"Fichier de prélèvements inconnu : {options['message_id']}.")
        debits = (
            Debit.objects.filter(batch=batch)
            .exclude(status=Debit.Status.RETURNED)
            .select_related("batch", "mandate")
            .order_by("pk")
        )
        if options["invoice"]:
            debits = debits.filter(end_to_end_id__in=options["invoice"])
        else:
            debits = debits[: max(options["count"], 0)]
        chosen = list(debits)
        if not chosen:
            raise CommandError("Aucun prélèvement de ce fichier à rejeter.")
        specs = return_specs_for_debits(chosen, options["reason"].upper())
        now = timezone.now()
        stamp = f"{now:%Y%m%d%H%M%S}"
        file_format = options["format"]
        if file_format == PAIN002:
            content = pain002_build(
                specs,
                message_id=f"REJ-{stamp}",
                created_at=now,
                original_message_id=batch.message_id,
            )
        else:
            try:
                account = creditor_get().iban
            except DomainError:
                account = ""
            content = camt054_build(
                specs,
                version=file_format.removeprefix("camt.054."),
                message_id=f"CAMT-{stamp}",
                created_at=now,
                booked_on=timezone.localdate(),
                account_iban=account,
            )
        Path(options["output"]).write_bytes(content)
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['output']} : {len(chosen)} rejet(s) {options['reason']} au format "
                f"{file_format} ({', '.join(d.end_to_end_id for d in chosen)})."
            )
        )

    def _batch(self, action: str, options: dict[str, Any]) -> None:
        batch = DebitBatch.objects.filter(message_id=options["message_id"]).first()
        if batch is None:
            raise CommandError(f"Fichier de prélèvements inconnu : {options['message_id']}.")
        on = _day(options["on"])
        if action == "submit":
            batch = debit_batch_submit(batch=batch, on=on, actor=ACTOR)
        else:
            batch = debit_batch_settle(batch=batch, on=on, actor=ACTOR)
        self.stdout.write(self.style.SUCCESS(f"{batch.message_id} : {batch.get_status_display()}."))
