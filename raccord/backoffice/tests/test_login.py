"""The agents' login page: email and password, only staff with a role, throttled."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from raccord.backoffice.tests.conftest import AGENT_PASSWORD
from raccord.contracts.models import Contract

pytestmark = pytest.mark.django_db

LOGIN = "/gestion/connexion/"


def test_agent_logs_in_with_email_and_password_and_goes_where_they_were_going(
    client: Client, agent: User
) -> None:
    response = client.post(
        LOGIN,
        {"email": "AGENT@raccord.test", "password": AGENT_PASSWORD, "next": "/gestion/clients/"},
    )
    assert response.status_code == 302 and response["Location"] == "/gestion/clients/"
    assert client.get(reverse("backoffice:dashboard")).status_code == 200


def test_login_ignores_a_next_url_on_another_site(client: Client, agent: User) -> None:
    response = client.post(
        LOGIN,
        {"email": agent.email, "password": AGENT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("backoffice:dashboard")


def test_wrong_password_is_refused_in_french(client: Client, agent: User) -> None:
    response = client.post(LOGIN, {"email": agent.email, "password": "pas-le-bon-mot"})
    assert response.status_code == 400
    assert "Email ou mot de passe incorrect" in unescape(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_customer_cannot_log_in_to_the_back_office(client: Client, contract: Contract) -> None:
    # given a customer with a password
    user = contract.customer.user
    assert user is not None
    user.set_password(AGENT_PASSWORD)
    user.save()
    # when they try the agents' login page
    response = client.post(LOGIN, {"email": user.email, "password": AGENT_PASSWORD})
    # then they get the same refusal as a wrong password, and are not logged in
    assert response.status_code == 400
    assert "pas accès à l'espace de gestion" in unescape(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_empty_fields_get_french_errors_next_to_them(client: Client, db: None) -> None:
    response = client.post(LOGIN, {"email": "", "password": ""})
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Indiquez votre adresse email." in html
    assert 'aria-describedby="id_email-error"' in html and 'id="id_email-error"' in html


def test_login_is_throttled_after_the_limit(client: Client, agent: User) -> None:
    limit = settings.RACCORD_RATE_LIMITS["login"]
    for _attempt in range(limit):
        client.post(LOGIN, {"email": agent.email, "password": "mauvais-mot"})
    # the right password no longer gets through within the window
    response = client.post(LOGIN, {"email": agent.email, "password": AGENT_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in unescape(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(agent_client: Client) -> None:
    assert agent_client.get(reverse("backoffice:logout")).status_code == 405
    response = agent_client.post(reverse("backoffice:logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert agent_client.get(reverse("backoffice:dashboard")).status_code == 302


def test_admin_login_page_is_the_throttled_agents_login(client: Client, db: None) -> None:
    response = client.get(reverse("admin:login") + "?next=/gestion/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
