"""``raccord daily [--date YYYY-MM-DD]``: run the daily jobs (activation fallback, terminations
taking effect, equipment return deadlines). Running a day twice changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from raccord.contracts.daily import daily_run


class Command(BaseCommand):
    help = (
        "Lance les tâches quotidiennes : mise en service au plus tard 30 jours après réception "
        "du matériel, résiliations arrivées à leur date d'effet, frais de matériel non restitué. "
        "Relancer le même jour ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="jour traité (AAAA-MM-JJ) ; par défaut aujourd'hui")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["date"]
        try:
            # The clock is read here, at the edge; the jobs take the day as a parameter.
            on = date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise CommandError(f"Date invalide : {raw} (attendu AAAA-MM-JJ)") from None
        report = daily_run(on=on)
        self.stdout.write(f"Tâches quotidiennes du {on:%d/%m/%Y}")
        self.stdout.write(f"  mises en service (délai dépassé) : {len(report.activated)}")
        for reference in report.activated:
            self.stdout.write(f"    {reference}")
        self.stdout.write(f"  résiliations effectives : {len(report.terminated)}")
        for reference in report.terminated:
            self.stdout.write(f"    {reference}")
        self.stdout.write(f"  frais de non-restitution : {len(report.non_return_fees)}")
        for reference in report.non_return_fees:
            self.stdout.write(f"    {reference}")
        for error in report.errors:
            self.stderr.write(f"  erreur : {error}")
        labels = {
            "mandates": "mandats (mise en vigueur, caducité)",
            "dunning": "relances (suspensions)",
            "refunds": "avoirs à rembourser",
            "network": "coupures détectées",
        }
        for name, items in report.other.items():
            self.stdout.write(f"  {labels.get(name, name)} : {len(items)}")
            for item in items:
                self.stdout.write(f"    {item}")
        if not report.changed and not report.errors:
            self.stdout.write("  rien à faire")
