"""Sign-ups by partners and agents' tools (C2): the funnel's checks through ``signup_create``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Router, Status

from raccord.api.auth import principal_of, token_auth
from raccord.api.models import ApiToken
from raccord.api.schemas import ContractOut, Error, SignupIn
from raccord.api.selectors import contract_get
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.errors import DomainError

router = Router(tags=["Souscriptions"], auth=token_auth)

IdempotencyKey = Annotated[
    uuid.UUID | None,
    Header(
        alias="Idempotency-Key",
        description="UUID choisi par le client : renvoyer la même requête avec la même clé "
        "renvoie le même contrat au lieu d'en créer un second.",
    ),
]


class ChannelNotAllowed(DomainError):
    # 403 rather than 400: the value is well-formed, this caller is just not allowed to use it.
    status_code = 403

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(
            "Ce jeton ne peut pas enregistrer une souscription sur ce canal ; canaux permis : "
            + ", ".join(allowed)
            + ".",
            field="channel",
            code="forbidden",
        )


class IdempotencyKeyTaken(DomainError):
    status_code = 409

    def __init__(self) -> None:
        super().__init__(
            "Cette clé d'idempotence a déjà servi : choisissez-en une nouvelle.",
            field="Idempotency-Key",
            code="conflict",
        )


@router.post(
    "/signups",
    response={
        200: ContractOut,
        201: ContractOut,
        **dict.fromkeys((400, 401, 403, 409, 422), Error),
    },
)
def signups_create(
    request: HttpRequest,
    payload: SignupIn,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Crée le client, le contrat et, pour un prélèvement, le mandat SEPA (C2).

    201 à la création ; 200 avec le même contrat quand la clé d'idempotence a déjà servi."""
    principal = principal_of(request)
    allowed = principal.signup_channels
    channel = payload.channel or allowed[0]
    if channel not in allowed:
        raise ChannelNotAllowed(allowed)
    fields = payload.model_dump(exclude={"channel", "signup_ip"})
    signup = SignupRequest(
        **fields,
        channel=channel,
        # The customer's own address when a partner's site collected the acceptance; an agent's
        # phone or paper sign-up has none.
        signup_ip=(
            str(payload.signup_ip)
            if payload.signup_ip is not None and principal.kind == ApiToken.Role.INTEGRATION
            else None
        ),
        signup_key=idempotency_key,
    )
    at = timezone.now()
    contract = signup_create(request=signup, actor=principal.actor(), at=at)
    # A contract signed at another instant was created by an earlier request with the same key.
    created = contract.signed_at == at
    shown: Contract | None = contract_get(principal=principal, contract_id=contract.pk)
    if shown is None:
        # The key was used by a sign-up this caller may not read: say so, show nothing of it.
        raise IdempotencyKeyTaken()
    return Status(201 if created else 200, shown)
