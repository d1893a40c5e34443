"""Admin for SEPA mandates. The IBAN is never shown in clear nor editable here: a change of
bank details is a new mandate (P4), made by its own service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from raccord.backoffice.admin_mixins import HistoryAdminMixin, RoleModelAdmin
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_BILLING
from raccord.payments.models import Mandate


@admin.register(Mandate)
class MandateAdmin(HistoryAdminMixin, RoleModelAdmin):
    history_subject = "mandate"
    edit_roles = (ROLE_ADMIN, ROLE_BILLING)
    list_display = (
        "reference",
        "customer",
        "debtor_name",
        "iban_display",
        "bic",
        "signature_date",
        "status",
    )
    list_filter = ("status", "signature_method")
    list_select_related = ("customer",)
    search_fields = ("reference", "debtor_name", "customer__last_name", "=customer__reference")
    exclude = ("iban",)
    fields = (
        "reference",
        "customer",
        "debtor_name",
        "iban_display",
        "bic",
        "signature_date",
        "signed_at",
        "signature_method",
        "signature_ip",
        "status",
        "last_debit_date",
    )
    readonly_fields = (
        "reference",
        "customer",
        "iban_display",
        "bic",
        "signature_date",
        "signed_at",
        "signature_method",
        "signature_ip",
        "last_debit_date",
    )

    @admin.display(description="IBAN")
    def iban_display(self, obj: Mandate) -> str:
        return obj.iban_masked

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Mandates are signed with a sign-up or a bank-details change, never typed in here.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
