"""The network pages of the back-office, added to the ``backoffice`` namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
