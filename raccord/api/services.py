"""Writes of the API app: issuing and revoking access tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from raccord.api.models import ApiToken
from raccord.core.errors import DomainError, NotFound
from raccord.core.events import Actor, event_record

TOKEN_START = "rac_"  # noqa: S105 - a public marker, not a secret


def token_hash(raw: str) -> str:
    """The stored form of a token. A plain SHA-256 is enough: tokens carry 256 random bits, so
    there is nothing to brute-force that a slow password hash would protect."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once to the person who created it, never stored


@transaction.atomic
def api_token_create(
    *, name: str, role: str, at: datetime, actor: Actor, user: User | None = None
) -> IssuedToken:
    name = name.strip()
    if not name:
        raise DomainError("Donnez un nom au jeton.", field="name")
    if len(name) > 100:
        raise DomainError("100 caractères au plus.", field="name")
    if role not in ApiToken.Role.values:
        raise DomainError("Rôle inconnu : « agent » ou « integration ».", field="role")
    if role == ApiToken.Role.AGENT:
        if user is None:
            raise DomainError(
                "Un jeton « agent » agit au nom d'un agent : indiquez-le.", field="user"
            )
        if not (user.is_active and user.is_staff):
            raise DomainError("Cet utilisateur n'est pas un agent actif.", field="user")
    elif user is not None:
        raise DomainError(
            "Un jeton « integration » représente un partenaire, pas un agent.", field="user"
        )
    if ApiToken.objects.filter(name=name).exists():
        raise DomainError("Un jeton porte déjà ce nom.", field="name")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        role=role,
        token_hash=token_hash(raw),
        prefix=prefix,
        user=user,
        created_at=at,
    )
    event_record(
        actor=actor,
        verb="api_token.created",
        at=at,
        subject_type="api_token",
        subject_id=token.pk,
        summary=f"Jeton d'API « {name} » créé ({token.get_role_display()})",
        data={"name": name, "role": role, "prefix": prefix},
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, name: str, at: datetime, actor: Actor) -> ApiToken:
    """Revoke a token at once; revoking it again changes nothing."""
    token = ApiToken.objects.select_for_update().filter(name=name.strip()).first()
    if token is None:
        raise NotFound("Aucun jeton ne porte ce nom.", field="name")
    if token.revoked_at is not None:
        return token
    token.revoked_at = at
    token.save(update_fields=["revoked_at"])
    event_record(
        actor=actor,
        verb="api_token.revoked",
        at=at,
        subject_type="api_token",
        subject_id=token.pk,
        summary=f"Jeton d'API « {token.name} » révoqué",
        data={"name": token.name, "prefix": token.prefix},
    )
    return token
