"""A JSON 404 for any path under the API that no endpoint serves (Django's would be HTML)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from raccord.core.errors import NotFound

router = Router()


@router.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> Any:
    raise NotFound("Ce point d'accès n'existe pas : voir /api/v1/docs.")


@router.get("/", include_in_schema=False)
def index(request: HttpRequest) -> Any:
    # Someone typing the API's address gets directions rather than an empty 404.
    return {
        "message": "API Raccord, version 1.",
        "docs": request.build_absolute_uri("docs"),
        "openapi": request.build_absolute_uri("openapi.json"),
    }
