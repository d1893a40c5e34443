"""Fixtures for Mon Compte: customers made by the real sign-up service, with a password, and a
movable clock for the portal (link expiry, throttling windows)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.customers.models import Customer

PASSWORD = "Vert-Sapin-2027!"
OTHER_PASSWORD = "Bleu-Ocean-2027?"


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:
    # The production hasher takes ~0.1 s per hash by design; these tests hash dozens of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # The throttling counters live in the cache: no test may inherit another's attempts.
    cache.clear()
    yield
    cache.clear()


class Clock:
    """What ``raccord.portal.clock.now`` returns during a test."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock(paris(2027, 1, 10, 10, 0))
    monkeypatch.setattr("raccord.portal.clock.now", fixed.now)
    return fixed


@pytest.fixture
def contract(signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))


@pytest.fixture
def customer(contract: Contract) -> Customer:
    customer = contract.customer
    assert customer.user is not None
    customer.user.set_password(PASSWORD)
    customer.user.save()
    return customer


@pytest.fixture
def other_contract(signup_request: SignupRequest, catalogue) -> Contract:
    request = dataclasses.replace(
        signup_request,
        offer_code="FIBRE300",
        option_codes=[],
        first_name="Louis",
        last_name="Bernard",
        email="louis.bernard@example.org",
        phone="07 11 22 33 44",
        account_holder="Louis Bernard",
        address_id=catalogue.address_equipped.pk,
        installation_mode="equipped",
        signup_ip="198.51.100.7",
    )
    return signup_create(request=request, actor=Actor.customer(None), at=paris(2027, 1, 6))


@pytest.fixture
def other_customer(other_contract: Contract) -> Customer:
    customer = other_contract.customer
    assert customer.user is not None
    customer.user.set_password(OTHER_PASSWORD)
    customer.user.save()
    return customer


@pytest.fixture
def logged_in(client: Client, customer: Customer) -> Client:
    assert customer.user is not None
    client.force_login(customer.user)
    return client
