"""``raccord api-token create|revoke|list``: issue, revoke and list API tokens.

The token is printed once, at creation: only its hash is stored, so it cannot be shown again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from raccord.api.models import ApiToken
from raccord.api.services import api_token_create, api_token_revoke
from raccord.core.errors import DomainError
from raccord.core.events import Actor

ACTOR = Actor.system("raccord api-token")


class Command(BaseCommand):
    help = "Crée, révoque ou liste les jetons d'accès à l'API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Crée un jeton et l'affiche une seule fois.")
        create.add_argument("--name", required=True, help="Nom unique, par exemple le partenaire.")
        create.add_argument("--role", required=True, choices=ApiToken.Role.values)
        create.add_argument(
            "--user", help="Identifiant de l'agent au nom duquel agit un jeton « agent »."
        )
        revoke = sub.add_parser("revoke", help="Révoque un jeton immédiatement.")
        revoke.add_argument("--name", required=True)
        sub.add_parser("list", help="Liste les jetons (sans leur valeur).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self._create(options)
            elif options["action"] == "revoke":
                token = api_token_revoke(name=options["name"], at=timezone.now(), actor=ACTOR)
                self.stdout.write(
                    f"Jeton « {token.name} » révoqué le {token.revoked_at:%Y-%m-%d %H:%M}."
                )
            else:
                self._list()
        except DomainError as error:
            raise CommandError(error.message) from None

    def _create(self, options: dict[str, Any]) -> None:
        user = None
        if options.get("user"):
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"Utilisateur inconnu : {options['user']}.")
        issued = api_token_create(
            name=options["name"], role=options["role"], user=user, at=timezone.now(), actor=ACTOR
        )
        self.stdout.write(issued.raw)
        self.stderr.write(
            f"Jeton « {issued.token.name} » ({issued.token.get_role_display()}) créé. "
            "Copiez-le maintenant : il ne sera plus affiché."
        )

    def _list(self) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("name")
        if not tokens:
            self.stdout.write("Aucun jeton.")
            return
        for token in tokens:
            state = f"révoqué le {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "actif"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "jamais"
            agent = f" agent={token.user.get_username()}" if token.user else ""
            self.stdout.write(
                f"{token.name}\t{token.role}\trac_{token.prefix}_…\t{state}\t"
                f"utilisé : {used}{agent}"
            )
