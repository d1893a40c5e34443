"""API tokens: issued by ``raccord api-token``, stored as a hash, refused once revoked."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from raccord.api.models import ApiToken
from raccord.api.tests.conftest import bearer, token_create
from raccord.core.models import Event

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("api-token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_prints_the_token_once_and_stores_only_its_hash():
    # when
    raw = token_create(name="revendeur-est", role="integration")
    # then
    token = ApiToken.objects.get(name="revendeur-est")
    assert raw.startswith(f"rac_{token.prefix}_")
    assert len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.token_hash, token.prefix}
    assert token.role == ApiToken.Role.INTEGRATION
    assert token.revoked_at is None
    assert Event.objects.filter(verb="api_token.created", subject_id=token.pk).exists()


def test_created_token_opens_the_private_endpoints(client, contract):
    # given
    raw = token_create(name="revendeur-est", role="integration")
    # when
    response = client.get("/api/v1/contracts", **bearer(raw))
    # then
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ApiToken.objects.get(name="revendeur-est").last_used_at is not None


def test_two_tokens_never_share_a_value():
    first = token_create(name="a", role="integration")
    second = token_create(name="b", role="integration")
    assert first != second


def test_agent_token_needs_an_active_staff_user(agent_user):
    with pytest.raises(CommandError, match="agent"):
        token_create(name="sans-agent", role="agent")
    customer = User.objects.create_user(username="client@example.org")
    with pytest.raises(CommandError, match="agent"):
        token_create(name="client", role="agent", user=customer.username)
    with pytest.raises(CommandError, match="Utilisateur inconnu"):
        token_create(name="fantome", role="agent", user="personne")
    token_create(name="accueil", role="agent", user=agent_user.username)
    assert ApiToken.objects.get(name="accueil").user == agent_user


def test_names_are_unique():
    token_create(name="double", role="integration")
    with pytest.raises(CommandError, match="déjà"):
        token_create(name="double", role="integration")
    assert ApiToken.objects.filter(name="double").count() == 1


def test_list_shows_prefixes_and_states_but_never_tokens(integration_token, agent_token):
    # given
    _run("revoke", "--name", "comparateur")
    # when
    listing = _run("list")
    # then
    assert "comparateur" in listing
    assert "poste-accueil" in listing
    assert "révoqué" in listing
    assert "agent=agent.dupont" in listing
    assert integration_token not in listing
    assert agent_token not in listing
    assert f"rac_{ApiToken.objects.get(name='comparateur').prefix}_" in listing


def test_revoked_token_is_refused_with_401(client, integration_token):
    # given a token that works
    assert client.get("/api/v1/customers", **bearer(integration_token)).status_code == 200
    # when it is revoked
    output = _run("revoke", "--name", "comparateur")
    # then it is refused from the next request on
    assert "révoqué" in output
    response = client.get("/api/v1/customers", **bearer(integration_token))
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthorized"
    assert "révoqué" in body["message"]
    assert Event.objects.filter(verb="api_token.revoked").count() == 1


def test_revoking_twice_changes_nothing(integration_token):
    _run("revoke", "--name", "comparateur")
    first = ApiToken.objects.get(name="comparateur").revoked_at
    _run("revoke", "--name", "comparateur")
    assert ApiToken.objects.get(name="comparateur").revoked_at == first
    assert Event.objects.filter(verb="api_token.revoked").count() == 1


def test_revoking_an_unknown_name_is_an_error():
    with pytest.raises(CommandError, match="Aucun jeton"):
        _run("revoke", "--name", "inconnu")


def test_token_of_a_deactivated_agent_is_refused(client, agent_token, agent_user):
    agent_user.is_active = False
    agent_user.save()
    response = client.get("/api/v1/customers", **bearer(agent_token))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": ""},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer n'importe quoi"},
        {"HTTP_AUTHORIZATION": "Bearer rac_00000000_inventé"},
        {"HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="},
        {"HTTP_AUTHORIZATION": "Bearer rac_" + "x" * 5000},
    ],
)
@pytest.mark.parametrize(
    "method_path",
    [("get", "/api/v1/customers"), ("get", "/api/v1/contracts/1"), ("post", "/api/v1/signups")],
)
def test_missing_or_garbage_tokens_get_a_json_401(client, integration_token, headers, method_path):
    method, path = method_path
    response = getattr(client, method)(path, **headers)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) >= {"message", "field", "code"}


def test_token_hash_is_the_only_lookup_key(client, integration_token):
    # A token that differs only in its last character must not work.
    forged = integration_token[:-1] + ("A" if integration_token[-1] != "A" else "B")
    assert client.get("/api/v1/customers", **bearer(forged)).status_code == 401
