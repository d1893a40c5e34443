"""Who calls the API. A bearer token becomes an ``ApiPrincipal``; the endpoints ask the
principal what it may do rather than looking at the token, so that another kind of caller
(a customer logged in to the portal, later) only needs a new authenticator and a new principal
kind, not new endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from raccord.api.models import ApiToken
from raccord.api.services import TOKEN_START, token_hash
from raccord.contracts.models import Contract
from raccord.core.events import Actor
from raccord.customers.models import Customer

# Writing last_used_at on every call would turn each read into a write; once a minute is
# precise enough to tell a token in use from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiPrincipal:
    kind: str  # an ApiToken.Role value
    label: str
    user: User | None = None
    token_id: int | None = None

    def actor(self) -> Actor:
        if self.kind == ApiToken.Role.AGENT and self.user is not None:
            return Actor.agent(self.user)
        return Actor.partner(self.label)

    @property
    def signup_channels(self) -> tuple[str, ...]:
        """Channels this caller may record a sign-up under; the first one is the default."""
        if self.kind == ApiToken.Role.AGENT:
            return (Contract.Channel.PHONE, Contract.Channel.PAPER)
        return (Contract.Channel.API,)

    def customers(self) -> QuerySet[Customer]:
        """Customers this caller may read. Agents and partners see every customer; a customer
        principal would be narrowed to ``user=self.user`` here."""
        return Customer.objects.all()

    def contracts(self) -> QuerySet[Contract]:
        return Contract.objects.all()


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rac_…``. The token is found by its SHA-256 hash through a unique
    index: no stored secret is ever compared character by character, so response times say
    nothing about how close a guess was."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        raw = token.strip()
        if not raw.startswith(TOKEN_START) or len(raw) > 200:
            return None
        row = ApiToken.objects.select_related("user").filter(token_hash=token_hash(raw)).first()
        if row is None:
            return None
        if row.revoked_at is not None:
            raise AuthenticationError(message="Ce jeton d'accès a été révoqué.")
        if row.role == ApiToken.Role.AGENT and (row.user is None or not row.user.is_active):
            raise AuthenticationError(message="L'agent de ce jeton n'a plus accès.")
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        return ApiPrincipal(kind=row.role, label=row.name, user=row.user, token_id=row.pk)


token_auth = TokenAuth()


def principal_of(request: HttpRequest) -> ApiPrincipal:
    principal = getattr(request, "auth", None)
    assert isinstance(principal, ApiPrincipal), "endpoint mounted without token_auth"
    return principal
