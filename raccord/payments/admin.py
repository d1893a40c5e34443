"""Admin for SEPA mandates, and read-only registers of the debit files, the returns imports and
the dunning cases (their changes go through services and the back-office pages, which record
them in the history). The IBAN is never shown in clear nor editable here: a change of bank
details is a new mandate (P4), made by its own service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from raccord.backoffice.admin_mixins import HistoryAdminMixin, ReadOnlyModelAdmin, RoleModelAdmin
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_BILLING
from raccord.payments.models import DebitBatch, DunningCase, Mandate, ReturnImport


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


@admin.register(DebitBatch)
class DebitBatchAdmin(ReadOnlyModelAdmin):
    view_roles = (ROLE_ADMIN, ROLE_BILLING)
    list_display = ("message_id", "debit_date", "status", "count", "total", "version", "created_on")
    list_filter = ("status", "version")
    search_fields = ("=message_id",)
    date_hierarchy = "debit_date"


@admin.register(ReturnImport)
class ReturnImportAdmin(ReadOnlyModelAdmin):
    view_roles = (ROLE_ADMIN, ROLE_BILLING)
    list_display = ("filename", "format", "imported_on", "entries", "matched")
    list_filter = ("format",)
    search_fields = ("filename", "=sha256")


@admin.register(DunningCase)
class DunningCaseAdmin(ReadOnlyModelAdmin):
    view_roles = (ROLE_ADMIN, ROLE_BILLING)
    list_display = (
        "document",
        "customer",
        "status",
        "reason_code",
        "opened_on",
        "represent_on",
        "suspend_on",
        "closed_on",
    )
    list_filter = ("status", "reason_code")
    list_select_related = ("document", "customer")
    search_fields = ("=document__number", "=customer__reference", "customer__last_name")
    raw_id_fields = ("document", "customer", "debit", "fee_item")
