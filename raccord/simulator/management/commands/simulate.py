"""``raccord simulate SCENARIO.json``: play one subscriber's life through the real services on
a throw-away database and print the result as JSON (SIMULATOR.md).

Exit status 0 with the JSON on stdout; 2 with a message on stderr (and nothing on stdout) for
a scenario that cannot be played. ``-`` reads the scenario from stdin."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from raccord.simulator.sandbox import CHILD_FLAG, child_database_prepare, sandbox_play
from raccord.simulator.scenario import ScenarioError, scenario_parse

INVALID = 2


class Command(BaseCommand):
    help = (
        "Simule la vie d'un abonné (souscription, mise en service, factures, résiliation…) "
        "avec les vrais services, sur une base jetable, et affiche le résultat en JSON."
    )
    # The parent never touches the database; the child checks its own.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenario", help="fichier JSON du scénario (« - » : entrée standard)")

    def _refuse(self, message: str) -> None:
        self.stderr.write(f"Scénario invalide : {message}")
        raise SystemExit(INVALID)

    def _read(self, path: str) -> Any:
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        except OSError as exc:
            self._refuse(f"lecture de {path} impossible ({exc.strerror}).")
        except UnicodeDecodeError:
            self._refuse(f"{path} n'est pas un fichier texte UTF-8.")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self._refuse(f"JSON invalide, ligne {exc.lineno} colonne {exc.colno} : {exc.msg}.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = self._read(options["scenario"])
        try:
            scenario_parse(raw)
        except ScenarioError as exc:
            self._refuse(exc.message)
        if os.environ.get(CHILD_FLAG) == "1":
            self._play_here(raw)
            return
        result = sandbox_play(json.dumps(raw, ensure_ascii=False))
        if result.stderr:
            sys.stderr.write(result.stderr)
        if result.returncode != 0:
            raise SystemExit(result.returncode)
        sys.stdout.write(result.stdout)

    def _play_here(self, raw: Any) -> None:
        """In the child process, on the throw-away database."""
        from raccord.simulator.engine import simulate

        child_database_prepare()
        try:
            output = simulate(raw)
        except ScenarioError as exc:
            self._refuse(exc.message)
        sys.stdout.write(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
