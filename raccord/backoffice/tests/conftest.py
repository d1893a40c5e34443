"""Back-office fixtures: staff users per role, logged-in clients, a signed contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any

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


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the change form of an admin page."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        # The change form, not the logout form of the header.
        if tag == "form" and a.get("id", "").endswith("_form") and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(name, a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._add(self._select, value)
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data


def admin_form_data(client: Client, url: str) -> dict[str, Any]:
    """The data an admin change form would post as it is, to be edited by a test."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    reader = _FormReader()
    reader.feed(response.content.decode())
    return {k: v if len(v) > 1 else v[0] for k, v in reader.data.items()}
