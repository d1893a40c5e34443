"""Fixtures for customer services: a customer made by the real sign-up service."""

from __future__ import annotations

import dataclasses

import pytest

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.customers.models import Customer


@pytest.fixture
def contract(signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))


@pytest.fixture
def customer(contract: Contract) -> Customer:
    return contract.customer


@pytest.fixture
def other_customer(signup_request: SignupRequest) -> Customer:
    request = dataclasses.replace(
        signup_request,
        first_name="Louis",
        last_name="Bernard",
        email="louis.bernard@example.org",
        phone="07 11 22 33 44",
        option_codes=[],
    )
    return signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 6)).customer
