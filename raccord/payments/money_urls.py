"""Back-office pages: payments received, balances, bank-details changes and refunds."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
