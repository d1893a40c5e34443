"""The network pages of Mon Compte, added to the ``portal`` namespace (names ``portal:…``)."""

from django.urls import URLPattern, path

from raccord.network import portal_views

urlpatterns: list[URLPattern] = [
    path("consommation/", portal_views.usage_view, name="network_usage"),
]
