"""One error shape for every answer that is not a success:
``{"message": "...", "field": "...", "code": "..."}`` (French message, ``field`` the input at
fault or null), plus ``errors: [{field, message}]`` when several inputs are wrong at once.

Domain refusals keep their own status (``DomainError.status_code``); ninja's own errors (bad
JSON, failed validation, missing token, rate limit) are reshaped here so that a client needs a
single parser."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from raccord.contracts.signup import SignupErrors
from raccord.core.errors import DomainError

# The ninja parameter a JSON body is bound to in every endpoint of this API; error locations
# drop it so that ``field`` is the name the client sent (``email``, not ``payload.email``).
BODY_PARAM = "payload"


def error_body(
    message: str,
    *,
    field: str | None = None,
    code: str = "invalid",
    errors: Sequence[dict[str, str | None]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "field": field, "code": code}
    if errors is not None:
        body["errors"] = list(errors)
    return body


def _field_of(loc: Sequence[Any]) -> str | None:
    parts = list(loc)
    if parts and parts[0] in {"query", "path", "body", "header", "cookie", "form", "file"}:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == BODY_PARAM:
            parts.pop(0)
    return ".".join(str(p) for p in parts) or None


def _message_of(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        if _field_of(error.get("loc", ())) is None:
            return "Le corps de la requête est vide : envoyez un objet JSON."
        return "Ce champ est obligatoire."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "Indiquez un nombre entier."
    if kind == "less_than_equal":
        return f"La valeur doit être inférieure ou égale à {ctx.get('le')}."
    if kind == "less_than":
        return f"La valeur doit être inférieure à {ctx.get('lt')}."
    if kind == "greater_than_equal":
        return f"La valeur doit être supérieure ou égale à {ctx.get('ge')}."
    if kind == "greater_than":
        return f"La valeur doit être supérieure à {ctx.get('gt')}."
    if kind == "string_too_long":
        return f"{ctx.get('max_length')} caractères au plus."
    if kind == "string_too_short":
        return f"{ctx.get('min_length')} caractère(s) au moins."
    if kind == "string_type":
        return "Indiquez un texte."
    if kind in {"bool_parsing", "bool_type"}:
        return "Indiquez true ou false."
    if kind in {"uuid_parsing", "uuid_type", "uuid_version"}:
        return "Indiquez un UUID, par exemple 3f2b8c1e-6d4a-4b7e-9c2d-1a5e8f0b7c63."
    if kind.startswith("date"):
        return "Indiquez une date au format AAAA-MM-JJ."
    if kind in {"list_type", "tuple_type", "set_type"}:
        return "Indiquez une liste."
    if kind in {"too_long"}:
        return f"{ctx.get('max_length')} éléments au plus."
    if kind in {"literal_error", "enum"}:
        return f"Valeur non autorisée ; valeurs possibles : {ctx.get('expected')}."
    if kind.startswith("ip_"):
        return "Indiquez une adresse IP."
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "Envoyez un objet JSON."
    if kind == "extra_forbidden":
        return "Champ inconnu : vérifiez son nom dans la documentation."
    return "Valeur invalide."


def _on_domain_error(request: HttpRequest, exc: DomainError, *, api: NinjaAPI) -> HttpResponse:
    errors = None
    if isinstance(exc, SignupErrors):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    return api.create_response(
        request,
        error_body(exc.message, field=exc.field, code=exc.code, errors=errors),
        status=exc.status_code,
    )


def _on_validation_error(
    request: HttpRequest, exc: ValidationError, *, api: NinjaAPI
) -> HttpResponse:
    errors = [
        {"field": _field_of(e.get("loc", ())), "message": _message_of(e)} for e in exc.errors
    ] or [{"field": None, "message": "Requête invalide."}]
    first = errors[0]
    return api.create_response(
        request,
        error_body(str(first["message"]), field=first["field"], errors=errors),
        status=422,
    )


def _on_http_error(request: HttpRequest, exc: HttpError, *, api: NinjaAPI) -> HttpResponse:
    status = exc.status_code
    if isinstance(exc, Throttled):
        body = error_body(
            "Trop de requêtes depuis votre adresse : réessayez dans une minute.",
            code="rate_limited",
        )
        response = api.create_response(request, body, status=429)
        if exc.wait is not None:
            response["Retry-After"] = str(math.ceil(exc.wait))
        return response
    if isinstance(exc, AuthenticationError) or status == 401:
        message = exc.message if exc.message != "Unauthorized" else ""
        body = error_body(
            message
            or "Jeton d'accès manquant ou invalide : envoyez l'en-tête "
            "« Authorization: Bearer <jeton> ».",
            code="unauthorized",
        )
        response = api.create_response(request, body, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    if status == 400 and exc.message.startswith("Cannot parse request body"):
        body = error_body("Le corps de la requête n'est pas un JSON valide.", code="malformed_json")
    elif status == 403:
        body = error_body("Accès refusé.", code="forbidden")
    elif status == 404:
        body = error_body("Ressource introuvable.", code="not_found")
    else:
        body = error_body("Requête refusée.", code="error")
    return api.create_response(request, body, status=status)


def _on_404(request: HttpRequest, exc: Exception, *, api: NinjaAPI) -> HttpResponse:
    return api.create_response(
        request, error_body("Ressource introuvable.", code="not_found"), status=404
    )


def error_handlers_install(*, api: NinjaAPI) -> None:
    api.add_exception_handler(DomainError, partial(_on_domain_error, api=api))
    api.add_exception_handler(ValidationError, partial(_on_validation_error, api=api))
    api.add_exception_handler(HttpError, partial(_on_http_error, api=api))
    api.add_exception_handler(Http404, partial(_on_404, api=api))
