"""The payments pages of Mon Compte, added to the ``portal`` namespace (names ``portal:…``)."""

from django.urls import URLPattern, path

from raccord.payments import portal_views

urlpatterns: list[URLPattern] = [
    path("paiements/", portal_views.payments_view, name="payments"),
    path(
        "paiements/coordonnees-bancaires/",
        portal_views.bank_details_view,
        name="bank_details",
    ),
]
