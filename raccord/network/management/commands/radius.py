"""``raccord radius …``: the network accounting commands.

- ``serve --listen HOST:PORT [--secret SECRET] [--journal DIR | --direct]``: the built-in
  accounting server (RFC 2866), journaling what it acknowledges and merging it (a child
  process) into the sessions, or storing directly with ``--direct``;
- ``merge --journal DIR [--follow]``: the journal's merger run apart (``serve --no-merger``);
- ``status [--journal DIR]``: what the merger has not stored yet;
- ``sync-radacct --dsn postgresql://… [--follow] [--interval S]``: read FreeRADIUS's radacct;
- ``export-suspended [--format users|sql] [--dsn …]``: the suspended lines for FreeRADIUS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from argparse import SUPPRESS, ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from raccord.network.suspended import (
    WALLED_GARDEN_FILTER,
    WALLED_GARDEN_GROUP,
    suspended_apply,
    suspended_sql,
    suspended_users_file,
)


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise CommandError(f"--listen attend HÔTE:PORT, pas {value!r}.")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - a server chooses where it listens
    return host, int(port)


def _priority(value: str) -> str:
    if value != "idle" and not (value.isdigit() and 0 <= int(value) <= 19):
        raise CommandError(f"--priority attend idle ou un nombre de 0 à 19, pas {value!r}.")
    return value


class Command(BaseCommand):
    help = "Comptabilité réseau : serveur RADIUS, synchronisation radacct, export des suspensions."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="le serveur d'accounting RADIUS intégré")
        serve.add_argument("--listen", default="0.0.0.0:1813", help="HÔTE:PORT (0.0.0.0:1813)")
        serve.add_argument(
            "--secret",
            help="secret de tout client absent des clients RADIUS configurés (sinon refusé)",
        )
        serve.add_argument("--batch-ms", type=float, default=2.0, help="attente d'un lot (ms)")
        serve.add_argument("--max-batch", type=int, default=2000)
        modes = serve.add_mutually_exclusive_group()
        modes.add_argument(
            "--journal",
            type=Path,
            help="répertoire du journal (par défaut RACCORD_DATA_DIR/radius-journal)",
        )
        modes.add_argument(
            "--direct",
            action="store_true",
            help="enregistre dans la base avant de répondre, sans journal",
        )
        modes.add_argument(
            "--decode-only",
            action="store_true",
            help="décode et répond sans rien enregistrer (mesure de la limite, jamais en service)",
        )
        serve.add_argument(
            "--no-merger",
            action="store_true",
            help="ne lance pas la fusion du journal (raccord radius merge tourne à part)",
        )
        serve.add_argument(
            "--merger-priority",
            type=_priority,
            default="idle",
            help="priorité de la fusion : idle (seulement le temps processeur libre, par "
            "défaut) ou une valeur de nice (0 à 19)",
        )
        serve.add_argument(
            "--journal-depth",
            type=int,
            default=2,
            help="lots du journal écrits et synchronisés en même temps (2)",
        )
        merge = sub.add_parser("merge", help="fusionne le journal du serveur dans les sessions")
        merge.add_argument("--journal", type=Path, help="répertoire du journal")
        merge.add_argument("--follow", action="store_true", help="continue (Ctrl-C pour arrêter)")
        merge.add_argument("--batch", type=int, default=5000, help="enregistrements par lot")
        merge.add_argument("--interval", type=float, default=0.2, help="attente si rien à lire (s)")
        merge.add_argument(
            "--priority",
            type=_priority,
            default="0",
            help="idle (seulement le temps processeur libre) ou une valeur de nice (0 à 19)",
        )
        merge.add_argument(
            "--report-every", type=float, default=10.0, help="secondes entre deux bilans"
        )
        merge.add_argument(
            "--defer-above",
            type=float,
            default=2000.0,
            help="enregistrements/s au-delà desquels la fusion attend la fin de la rafale (2000 ; "
            "0 : jamais)",
        )
        merge.add_argument(
            "--defer-at-most",
            type=float,
            default=30.0,
            help="retard maximal (s) accepté pendant une rafale avant de fusionner quand même",
        )
        merge.add_argument("--parent", type=int, default=0, help=SUPPRESS)
        status = sub.add_parser("status", help="le retard de la fusion du journal")
        status.add_argument("--journal", type=Path, help="répertoire du journal")
        sync = sub.add_parser("sync-radacct", help="lit la table radacct de FreeRADIUS")
        sync.add_argument("--dsn", required=True, help="postgresql://utilisateur@hôte/base")
        sync.add_argument("--table", default="radacct")
        sync.add_argument("--follow", action="store_true", help="continue (Ctrl-C pour arrêter)")
        sync.add_argument(
            "--interval", type=float, default=5.0, help="secondes entre deux lectures"
        )
        sync.add_argument("--batch", type=int, default=2000)
        sync.add_argument(
            "--lag",
            type=float,
            default=300.0,
            help="relit les lignes mises à jour depuis ce nombre de secondes (horloges des NAS)",
        )
        export = sub.add_parser("export-suspended", help="les lignes suspendues pour FreeRADIUS")
        export.add_argument("--format", choices=["users", "sql"], default="users")
        export.add_argument("--output", help="fichier (sinon la sortie standard)")
        export.add_argument("--group", default=WALLED_GARDEN_GROUP)
        export.add_argument("--filter-id", default=WALLED_GARDEN_FILTER)
        export.add_argument("--pool", default="", help="Framed-Pool du jardin clos (facultatif)")
        export.add_argument(
            "--dsn", help="applique directement dans la base de FreeRADIUS (radusergroup)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "serve":
            self._serve(options)
        elif action == "merge":
            self._merge(options)
        elif action == "status":
            self._status(options)
        elif action == "sync-radacct":
            self._sync(options)
        else:
            self._export(options)

    def _serve(self, options: dict[str, Any]) -> None:
        from raccord.network.journal import JournalError
        from raccord.network.radius_serve import Mode, radius_serve

        host, port = _listen(options["listen"])
        if options["verbosity"] >= 1:
            logging.getLogger("raccord.network").setLevel(logging.INFO)

        mode: Mode = (
            "decode-only"
            if options["decode_only"]
            else "direct"
            if options["direct"]
            else "journal"
        )

        def ready(server: Any) -> None:
            detail = {
                "decode-only": " (décodage seul)",
                "direct": " (enregistrement direct dans la base)",
                "journal": f" (journal {server.journal.directory if server.journal else ''})",
            }[mode]
            self.stdout.write(f"Serveur RADIUS à l'écoute sur {host}:{server.port}{detail}")
            self.stdout.flush()

        try:
            asyncio.run(
                radius_serve(
                    host=host,
                    port=port,
                    default_secret=options["secret"],
                    mode=mode,
                    journal_dir=options["journal"],
                    merger=not options["no_merger"],
                    merger_priority=options["merger_priority"],
                    journal_depth=options["journal_depth"],
                    verbosity=options["verbosity"],
                    batch_window=options["batch_ms"] / 1000,
                    max_batch=options["max_batch"],
                    ready=ready,
                )
            )
        except JournalError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"Impossible d'écouter sur {host}:{port} : {error}") from None

    def _merge(self, options: dict[str, Any]) -> None:
        from raccord.network.journal import journal_directory_default
        from raccord.network.journal_merge import JournalMerger, MergeBatch

        if options["verbosity"] >= 1:
            logging.getLogger("raccord.network").setLevel(logging.INFO)
        from raccord.network.journal import priority_lower

        priority_lower(options["priority"])
        directory = (options["journal"] or journal_directory_default()).resolve()
        merger = JournalMerger(directory, batch=options["batch"])
        stopping = {"signals": 0}
        parent = options["parent"]

        def on_signal(_signum: int, _frame: FrameType | None) -> None:
            # The first: merge what the journal holds, then exit; the second: exit now (the
            # batch in progress is rolled back, nothing is lost).
            stopping["signals"] += 1
            if stopping["signals"] > 1:
                raise KeyboardInterrupt

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_signal)

        if parent:
            # Run by the server: told to stop by the end of its stdin (closed by the server,
            # or by the system when the server dies).
            def watch_stdin() -> None:
                with contextlib.suppress(OSError, ValueError):
                    while sys.stdin.buffer.read(4096):
                        pass
                stopping["signals"] = max(stopping["signals"], 1)

            threading.Thread(target=watch_stdin, name="merger-stop", daemon=True).start()

        def should_stop() -> bool:
            return bool(stopping["signals"]) or (parent != 0 and os.getppid() != parent)

        waited = {"logged": False}

        def wait() -> bool:
            if not waited["logged"]:
                self.stderr.write(f"Journal {directory} : une autre fusion tourne, attente…")
                waited["logged"] = True
            time.sleep(0.5)
            return not should_stop()

        if not merger.lock(wait=wait if options["follow"] else None):
            if options["follow"]:
                return
            raise CommandError(f"Une autre fusion du journal {directory} est en cours.")

        def on_batch(batch: MergeBatch) -> None:
            if options["verbosity"] >= 2 and batch.records:
                self.stdout.write(f"{batch.records} enregistrements fusionnés")
                self.stdout.flush()

        try:
            total = merger.run(
                follow=options["follow"],
                should_stop=should_stop,
                interval=options["interval"],
                report_every=options["report_every"],
                on_batch=on_batch,
                defer_above=options["defer_above"],
                defer_at_most=options["defer_at_most"],
            )
        except KeyboardInterrupt:
            self.stdout.write("Fusion interrompue (le lot en cours sera refait).")
            return
        finally:
            merger.unlock()
        self.stdout.write(f"Fusion terminée : {total} enregistrements fusionnés.")

    def _status(self, options: dict[str, Any]) -> None:
        from raccord.network.journal import journal_directory_default, segments
        from raccord.network.journal_merge import JournalMerger

        directory = (options["journal"] or journal_directory_default()).resolve()
        merger = JournalMerger(directory)
        position = merger.position(create=False)  # a status writes nothing
        if position is None:
            self.stdout.write(f"Pas de journal dans {directory}.")
            return
        lag = merger.lag(create=False)
        files = segments(directory)
        self.stdout.write(
            f"Journal {directory} : {len(files)} segment(s), fusionné jusqu'à "
            f"{position[0]}:{position[1]}\n"
            f"Reste à fusionner : {lag.records} enregistrement(s), {lag.bytes} octets"
            + (
                f", le plus ancien reçu il y a {lag.seconds(time.time()):.0f} s"
                if lag.oldest is not None
                else ""
            )
        )

    def _sync(self, options: dict[str, Any]) -> None:
        from raccord.network.radacct import radacct_follow

        def progress(read: int, stored: int) -> None:
            if read:
                self.stdout.write(f"{read} lignes radacct lues, {stored} enregistrements stockés")

        try:
            total = radacct_follow(
                dsn=options["dsn"],
                table=options["table"],
                follow=options["follow"],
                interval=options["interval"],
                batch=options["batch"],
                lag_seconds=options["lag"],
                progress=progress,
            )
        except KeyboardInterrupt:
            self.stdout.write("Arrêt demandé.")
            return
        self.stdout.write(f"Synchronisation terminée : {total} lignes lues.")

    def _export(self, options: dict[str, Any]) -> None:
        if options["dsn"]:
            count = suspended_apply(
                dsn=options["dsn"],
                group=options["group"],
                filter_id=options["filter_id"],
                pool=options["pool"],
            )
            self.stdout.write(f"{count} ligne(s) suspendue(s) dans le groupe {options['group']}.")
            return
        if options["format"] == "sql":
            text = suspended_sql(
                group=options["group"], filter_id=options["filter_id"], pool=options["pool"]
            )
        else:
            text = suspended_users_file(filter_id=options["filter_id"], pool=options["pool"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as stream:
                stream.write(text)
        else:
            sys.stdout.write(text)
