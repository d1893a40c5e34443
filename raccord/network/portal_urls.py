"""The network pages of Mon Compte, added to the ``portal`` namespace (names ``portal:…``)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
