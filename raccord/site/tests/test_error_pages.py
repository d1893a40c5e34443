"""Error pages are in French and keep the operator's look: a missing page, a refused page
(with a way back that fits who is signed in), an expired form, a server error."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from raccord.backoffice.services import agent_create


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def test_a_missing_page_says_so_in_french_with_ways_back(client: Client, db):
    response = client.get("/cette-page-n-existe-pas/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in html and "Not Found" not in html
    assert 'href="/compte/"' in html


def test_an_agent_without_the_role_gets_a_french_refusal_back_to_the_back_office(db):
    client = Client()
    client.force_login(agent_create(email="a@raccord.test", role="agent", password="x" * 12))
    response = client.get("/gestion/facturation/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Accès refusé" in html and "Forbidden" not in html
    assert "Retour à l'espace de gestion" in html.replace("&#x27;", "'")


def test_an_expired_form_is_explained_in_french(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/compte/connexion/", {"email": "a@b.fr", "password": "x"})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_a_server_error_page_needs_nothing_but_itself(db):
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Le service a rencontré une erreur" in html and 'lang="fr"' in html
