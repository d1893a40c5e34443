"""``raccord radius …``: the network accounting commands.

- ``serve --listen HOST:PORT [--secret SECRET]``: the built-in accounting server (RFC 2866);
- ``sync-radacct --dsn postgresql://… [--follow] [--interval S]``: read FreeRADIUS's radacct;
- ``export-suspended [--format users|sql] [--dsn …]``: the suspended lines for FreeRADIUS."""

from __future__ import annotations

import asyncio
import logging
import sys
from argparse import ArgumentParser
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
        serve.add_argument(
            "--decode-only",
            action="store_true",
            help="décode et répond sans rien enregistrer (mesure de la limite, jamais en service)",
        )
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
        elif action == "sync-radacct":
            self._sync(options)
        else:
            self._export(options)

    def _serve(self, options: dict[str, Any]) -> None:
        from raccord.network.radius_server import radius_serve

        host, port = _listen(options["listen"])
        if options["verbosity"] >= 1:
            logging.getLogger("raccord.network").setLevel(logging.INFO)

        def ready(server: Any) -> None:
            self.stdout.write(
                f"Serveur RADIUS à l'écoute sur {host}:{server.port}"
                + (" (décodage seul)" if options["decode_only"] else "")
            )
            self.stdout.flush()

        try:
            asyncio.run(
                radius_serve(
                    host=host,
                    port=port,
                    default_secret=options["secret"],
                    decode_only=options["decode_only"],
                    batch_window=options["batch_ms"] / 1000,
                    max_batch=options["max_batch"],
                    ready=ready,
                )
            )
        except OSError as error:
            raise CommandError(f"Impossible d'écouter sur {host}:{port} : {error}") from None

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
