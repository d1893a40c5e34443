"""Admin for customers. Customers are created by a sign-up, never here; an admin may correct
their identity, and every correction goes into the customer's history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from raccord.backoffice.admin_mixins import HistoryAdminMixin, RoleAdminMixin, RoleModelAdmin
from raccord.contracts.models import Contract
from raccord.contracts.signup import normalize_phone
from raccord.core.errors import DomainError
from raccord.customers.models import Customer
from raccord.payments.models import Mandate


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = (
            "civility",
            "first_name",
            "last_name",
            "phone",
            "birth_date",
            "postal_address",
            "postal_code",
            "city",
        )

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data.get("phone") or "")
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class _ReadOnlyInline(RoleAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ContractInline(_ReadOnlyInline):
    model = Contract
    fields = ("reference", "offer_label", "status", "signup_date", "activation_date")
    readonly_fields = fields


class MandateInline(_ReadOnlyInline):
    model = Mandate
    # The raw IBAN is never a field here: only its masked form.
    fields = ("reference", "debtor_name", "iban_display", "bic", "signature_date", "status")
    readonly_fields = fields

    @admin.display(description="IBAN")
    def iban_display(self, obj: Mandate) -> str:
        return obj.iban_masked


@admin.register(Customer)
class CustomerAdmin(HistoryAdminMixin, RoleModelAdmin):
    form = CustomerAdminForm
    history_subject = "customer"
    list_display = ("reference", "last_name", "first_name", "email", "phone", "city", "created_at")
    search_fields = ("=reference", "last_name", "first_name", "email", "phone")
    list_filter = ("civility",)
    date_hierarchy = "created_at"
    fields = (
        "reference",
        "civility",
        "first_name",
        "last_name",
        "email",
        "pending_email",
        "phone",
        "birth_date",
        "postal_address",
        "postal_code",
        "city",
        "created_at",
        "user",
    )
    # The email is the portal login: the customer changes it from Mon Compte (C8).
    readonly_fields = ("reference", "email", "pending_email", "created_at", "user")
    inlines = (ContractInline, MandateInline)

    def history_customer_id(self, obj: Customer) -> int | None:
        return obj.pk

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # A customer comes with a contract: the sign-up form creates both.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
