"""The dashboard: contracts per status and the sign-ups of the last seven days."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from raccord.backoffice.selectors import dashboard_figures
from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor

pytestmark = pytest.mark.django_db


def _sign(signup_request: SignupRequest, n: int, at, channel: str = "online") -> Contract:
    request = SignupRequest(
        **{
            **signup_request.__dict__,
            "email": f"client{n}@example.org",
            "channel": channel,
            "signup_key": uuid.uuid4(),
        }
    )
    return signup_create(request=request, actor=Actor.customer(None), at=at)


def test_figures_count_the_last_seven_days_including_today(
    signup_request: SignupRequest,
) -> None:
    # given sign-ups on 2027-01-04 (8 days before), 01-05 (first day in) and 01-11 (today)
    _sign(signup_request, 1, paris(2027, 1, 4, 23, 30))
    _sign(signup_request, 2, paris(2027, 1, 5, 0, 30), channel="phone")
    cancelled = _sign(signup_request, 3, paris(2027, 1, 11, 9, 0))
    Contract.objects.filter(pk=cancelled.pk).update(status=Contract.Status.CANCELLED)
    # when the figures are read on 2027-01-11
    figures = dashboard_figures(today=date(2027, 1, 11))
    # then
    assert figures.since == date(2027, 1, 5)
    assert figures.signups_recent == 2
    by_channel = {item.status: item.count for item in figures.signups_recent_by_channel}
    assert by_channel["phone"] == 1 and by_channel["online"] == 1
    by_status = {item.status: item.count for item in figures.contracts_by_status}
    assert by_status["ordered"] == 2 and by_status["cancelled"] == 1
    assert figures.contracts_total == 3
    assert figures.latest_contracts[0].pk == cancelled.pk


def test_dashboard_page_uses_the_clock_and_offers_search(
    agent_client: Client, signup_request: SignupRequest
) -> None:
    now = timezone.localtime()
    _sign(signup_request, 1, now)
    _sign(signup_request, 2, now - timedelta(days=30))
    response = agent_client.get(reverse("backoffice:dashboard"))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert 'data-figure="signups-recent">1<' in html
    assert 'data-status="ordered"><th scope="row">Commandé</th><td class="num">2<' in html
    assert 'action="/gestion/clients/"' in html and 'name="q"' in html
