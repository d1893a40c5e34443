"""Back-office fixtures: staff users per role, logged-in clients, a signed contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from raccord.backoffice.services import agent_create
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor

AGENT_PASSWORD = "gestion-Raccord-2027"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # The login throttle counts in the shared cache: each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(role: str, email: str | None = None) -> User:
        return agent_create(
            email=email or f"{role}@raccord.test", role=role, password=AGENT_PASSWORD
        )

    return make


@pytest.fixture
def agent(make_staff: Callable[..., User]) -> User:
    return make_staff("agent")


@pytest.fixture
def billing_agent(make_staff: Callable[..., User]) -> User:
    return make_staff("billing")


@pytest.fixture
def admin_agent(make_staff: Callable[..., User]) -> User:
    return make_staff("admin")


@pytest.fixture
def agent_client(agent: User) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def admin_agent_client(admin_agent: User) -> Client:
    client = Client()
    client.force_login(admin_agent)
    return client


@pytest.fixture
def contract(signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
