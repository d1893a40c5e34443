from __future__ import annotations

from datetime import date

import pytest

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor


@pytest.fixture
def activate():
    """Sign up and activate a subscriber: ``activate(on=date(2027, 1, 20), **signup_overrides)``."""
    counter = {"n": 0}

    def _make(
        signup_request: SignupRequest, *, on: date, signed: date | None = None, **overrides: object
    ) -> Contract:
        counter["n"] += 1
        signup_request.email = f"abonne{counter['n']}@example.org"
        signup_request.signup_key = None
        for key, value in overrides.items():
            setattr(signup_request, key, value)
        signed = signed or on.replace(day=1)
        contract = signup_create(
            request=signup_request,
            actor=Actor.customer(None),
            at=paris(signed.year, signed.month, signed.day),
        )
        contract = contract_equipment_receive(contract=contract, on=signed, actor=Actor.system())
        return contract_activate(contract=contract, on=on, source="radius", actor=Actor.system())

    return _make
