"""The API describes itself: OpenAPI document, interactive documentation, JSON everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ninja
import pytest

pytestmark = pytest.mark.django_db
NINJA_STATIC = Path(ninja.__file__).parent / "static"


def test_openapi_document_is_json_listing_every_endpoint(client):
    # when
    response = client.get("/api/v1/openapi.json")
    # then
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "Raccord API"
    assert set(schema["paths"]) == {
        "/api/v1/addresses",
        "/api/v1/eligibility",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/contracts",
        "/api/v1/contracts/{contract_id}",
        "/api/v1/signups",
        "/api/v1/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/documents/{document_id}/pdf",
    }
    assert "post" in schema["paths"]["/api/v1/signups"]


def test_openapi_declares_bearer_auth_on_private_endpoints_only(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert "security" in schema["paths"]["/api/v1/contracts"]["get"]
    assert "security" not in schema["paths"]["/api/v1/addresses"]["get"]


def test_openapi_describes_amounts_as_strings__M1(client):
    schema = client.get("/api/v1/openapi.json").json()
    price = schema["components"]["schemas"]["EligibleOfferOut"]["properties"]["monthly_price"]
    assert price["type"] == "string"


def test_docs_page_answers(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/api/v1/openapi.json" in response.content


def test_docs_assets_are_local_not_from_a_cdn(client, settings):
    # ninja serves Swagger UI from its own static files only when "ninja" is in INSTALLED_APPS,
    # otherwise from a CDN that a closed network cannot reach.
    assert "ninja" in settings.INSTALLED_APPS
    html = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith(settings.STATIC_URL) for a in assets), assets
    for asset in assets:
        assert (NINJA_STATIC / asset.removeprefix(settings.STATIC_URL)).is_file()


def test_unknown_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_api_root_points_to_the_docs(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json()["docs"].endswith("/api/v1/docs")
