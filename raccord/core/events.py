"""The event log service: who did what, when, with which data (STYLE habit 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from raccord.core.models import Event


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a customer, an agent, the system (daily jobs) or an API partner."""

    kind: str
    user: User | None = None
    label: str = ""

    @classmethod
    def system(cls, label: str = "Raccord") -> Actor:
        return cls(kind=Event.ActorKind.SYSTEM, label=label)

    @classmethod
    def customer(cls, user: User | AnonymousUser | None, label: str = "") -> Actor:
        real = user if isinstance(user, User) else None
        return cls(
            kind=Event.ActorKind.CUSTOMER,
            user=real,
            label=label or (real.get_username() if real else "client"),
        )

    @classmethod
    def agent(cls, user: User, label: str = "") -> Actor:
        return cls(kind=Event.ActorKind.AGENT, user=user, label=label or user.get_username())

    @classmethod
    def partner(cls, label: str) -> Actor:
        return cls(kind=Event.ActorKind.PARTNER, label=label)

    @property
    def is_agent(self) -> bool:
        return self.kind == Event.ActorKind.AGENT


def event_record(
    *,
    actor: Actor,
    verb: str,
    summary: str,
    at: datetime,
    subject_type: str,
    subject_id: int | None = None,
    customer_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one entry to the history. Call it inside the transaction of the change."""
    return Event.objects.create(
        at=at,
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label[:200],
        customer_id=customer_id,
        subject_type=subject_type,
        subject_id=subject_id,
        verb=verb,
        summary=summary[:300],
        data=data or {},
    )
