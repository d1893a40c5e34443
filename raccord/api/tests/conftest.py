"""Fixtures of the API tests: a client, tokens issued through the management command, and a
contract signed through the shared sign-up service."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command

from raccord.conftest import Catalogue, paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # The rate limiter counts in the cache, which outlives a test: start each test at zero.
    cache.clear()
    yield
    cache.clear()


def token_create(*, name: str, role: str, user: str | None = None) -> str:
    """Issue a token the way an operator does, and return what the command printed."""
    out, err = io.StringIO(), io.StringIO()
    args = ["create", "--name", name, "--role", role]
    if user:
        args += ["--user", user]
    call_command("api-token", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


@pytest.fixture
def agent_user(db: None) -> User:
    return User.objects.create_user(
        username="agent.dupont", email="dupont@operateur.example", is_staff=True
    )


@pytest.fixture
def integration_token(db: None) -> str:
    return token_create(name="comparateur", role="integration")


@pytest.fixture
def agent_token(agent_user: User) -> str:
    return token_create(name="poste-accueil", role="agent", user=agent_user.username)


def bearer(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def contract(catalogue: Catalogue, signup_request: SignupRequest) -> Contract:
    return signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
