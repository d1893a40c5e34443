"""Back-office pages: debit files (pain.008), their batches and the returns imports."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
