"""``raccord create-agent --email E --role agent|billing|admin [--password P]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from raccord.backoffice.roles import ROLES
from raccord.backoffice.services import agent_create
from raccord.core.errors import DomainError


class Command(BaseCommand):
    help = "Crée (ou met à jour) un compte de gestion avec son rôle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--password", default=None)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = agent_create(
                email=options["email"],
                role=options["role"],
                password=options["password"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Compte de gestion {user.email} : rôle {options['role']}.")
        if options["password"] is None and not user.has_usable_password():
            self.stdout.write(
                f"Pas encore de mot de passe : définissez-le avec "
                f"« raccord changepassword {user.get_username()} »."
            )
