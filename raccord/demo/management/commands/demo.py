"""``raccord demo``: create the embedded database, load the demo operator, serve it."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.contracts.models import Contract
from raccord.demo.loader import demo_load
from raccord.network.demo import DEMO_NAS_ADDRESS, DEMO_NAS_SECRET


class Command(BaseCommand):
    help = "Create the database, load the demo operator (idempotent) and serve it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="load the demo without serving it"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--date", help="the demo's 'today' (YYYY-MM-DD); default: today")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError:
            raise CommandError("--date attend une date AAAA-MM-JJ.") from None
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        report = demo_load(today=today)
        base = f"http://{options['host']}:{options['port']}"
        out = self.stdout
        out.write(
            self.style.SUCCESS(
                f"Démo Raccord prête ({len(report.created)} client(s) créé(s) cette fois)."
            )
        )
        out.write(f"  Base de données : {settings.DATABASES['default']['NAME']}")
        out.write(f"  Emails envoyés (fichiers) : {settings.EMAIL_FILE_PATH}")
        out.write("")
        out.write(f"  Site public        {base}/")
        out.write(f"  Éligibilité        {base}/eligibilite/")
        out.write(f"  Souscription       {base}/inscription/")
        out.write(f"  Mon Compte         {base}/compte/")
        out.write(f"  Back-office        {base}/gestion/")
        out.write(f"  Administration     {base}/gestion/admin/")
        out.write(f"  API (OpenAPI)      {base}/api/v1/docs")
        out.write("")
        out.write("  Identifiants de démonstration :")
        for login in report.logins:
            note = f"  ({login.note})" if login.note else ""
            out.write(f"    {login.role:<12} {login.email:<40} {login.password}{note}")
        waiting = (
            Contract.objects.filter(status=Contract.Status.EQUIPMENT_RECEIVED)
            .order_by("pk")
            .first()
        )
        if waiting is not None:
            out.write("")
            out.write("  Première connexion d'une ligne en attente (C4), dans un autre terminal :")
            out.write("    raccord radius serve --listen 127.0.0.1:1813")
            out.write(
                f"    echo 'User-Name={waiting.network_login},Acct-Status-Type=Start,"
                f"Acct-Session-Id=demo-1,NAS-IP-Address={DEMO_NAS_ADDRESS}' "
                f"| radclient 127.0.0.1:1813 acct {DEMO_NAS_SECRET}"
            )
        if options["no_serve"]:
            return
        out.write("")
        if "RACCORD_PUBLIC_URL" not in os.environ:
            # the links in the emails the served demo sends lead to it, on its port
            settings.RACCORD_PUBLIC_URL = base
        call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False)
