"""The Raccord API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/openapi.json, interactive
documentation at /api/v1/docs)."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from raccord.api.errors import error_handlers_install
from raccord.api.routers import customers, documents, fallback, public, signups


class Renderer(JSONRenderer):
    # French text stays readable in the raw JSON ("Adresse inconnue", not "\u00e9").
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Raccord API",
    version="1",
    urls_namespace="api",
    renderer=Renderer(),
    description=(
        "Recherche d'adresses et test d'éligibilité (publics, limités par adresse IP) ; "
        "clients, contrats, souscriptions, factures et avoirs avec un jeton : en-tête "
        "`Authorization: Bearer <jeton>`. Les montants sont des chaînes à deux décimales. "
        'Toute erreur a la forme `{"message", "field", "code"}`.'
    ),
)
error_handlers_install(api=api)
api.add_router("", public.router)
api.add_router("", customers.router)
api.add_router("", signups.router)
api.add_router("", documents.router)
# Last: it matches every path the routers above do not serve.
api.add_router("", fallback.router)
