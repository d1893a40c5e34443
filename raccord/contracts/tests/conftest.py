"""Lifecycle fixtures: subscribers signed and activated on the dates a test needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth.models import User

from raccord.catalog.models import CGVVersion
from raccord.catalog.selectors import cgv_in_force
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor

SYSTEM = Actor.system()
Subscribe = Callable[..., Contract]


@pytest.fixture
def subscribe(signup_request: SignupRequest) -> Subscribe:
    """``subscribe(signed=date, received=date|None, activated=date|None, **signup_overrides)``.

    Older sign-ups (loi Chatel examples) get a CGV version in force on their date."""
    counter = {"n": 0}

    def _make(
        *,
        signed: date,
        received: date | None = None,
        activated: date | None = None,
        **overrides: object,
    ) -> Contract:
        counter["n"] += 1
        signup_request.email = f"abonne{counter['n']}@example.org"
        signup_request.signup_key = None
        for key, value in overrides.items():
            setattr(signup_request, key, value)
        cgv = cgv_in_force(on=signed) or CGVVersion.objects.create(
            version=f"{signed.year}-old", effective_date=date(signed.year, 1, 1)
        )
        signup_request.cgv_version_id = cgv.pk
        contract = signup_create(
            request=signup_request,
            actor=Actor.customer(None),
            at=paris(signed.year, signed.month, signed.day),
        )
        if received is not None or activated is not None:
            contract = contract_equipment_receive(
                contract=contract, on=received or signed, actor=SYSTEM
            )
        if activated is not None:
            contract = contract_activate(
                contract=contract, on=activated, source="radius", actor=SYSTEM
            )
        return contract

    return _make


@pytest.fixture
def agent(db: None) -> Actor:
    user = User.objects.create_user(username="agent.dupont", password="x", is_staff=True)
    return Actor.agent(user)
