"""Admin of the network: the NAS clients of the RADIUS server (admins only; the secret is
typed, never shown back), and read-only registers of sessions and detected outages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from raccord.backoffice.admin_mixins import HistoryAdminMixin, ReadOnlyModelAdmin, RoleModelAdmin
from raccord.backoffice.roles import ROLE_ADMIN
from raccord.network.models import AccountingSession, NasClient, Outage


class NasClientForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("Secret partagé"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Jamais réaffiché. Laissez vide pour garder le secret actuel."),
    )

    class Meta:
        model = NasClient
        fields = ["name", "network", "secret", "is_active", "description"]

    def clean_secret(self) -> str:
        value: str = self.cleaned_data.get("secret") or ""
        if not value:
            if self.instance.pk:
                return self.instance.secret
            raise forms.ValidationError(_("Indiquez le secret partagé avec ce NAS."))
        if len(value) < 8:
            raise forms.ValidationError(_("Le secret doit compter au moins 8 caractères."))
        return value


@admin.register(NasClient)
class NasClientAdmin(HistoryAdminMixin, RoleModelAdmin):
    form = NasClientForm
    history_subject = "nas_client"
    # Named in the history when changed, never copied there.
    history_hidden_fields = ("secret",)
    view_roles = (ROLE_ADMIN,)
    list_display = ("name", "network", "is_active", "description")
    list_filter = ("is_active",)
    search_fields = ("name", "network")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"is_active": True}


@admin.register(AccountingSession)
class AccountingSessionAdmin(ReadOnlyModelAdmin):
    list_display = (
        "login",
        "session_id",
        "nas_address",
        "started_at",
        "stopped_at",
        "input_octets",
        "output_octets",
    )
    search_fields = ("=login", "=session_id")
    list_filter = ("nas_address",)
    exclude = ("usage_days",)
    raw_id_fields = ("contract",)
    show_full_result_count = False


@admin.register(Outage)
class OutageAdmin(ReadOnlyModelAdmin):
    list_display = ("contract", "started_at", "ended_at", "detected_on")
    raw_id_fields = ("contract",)
