"""Admin for contracts. A signed order never changes: what was sold, at which price, how it
was accepted and the lifecycle dates are read-only (lifecycle changes go through services).
Only the delivery details and the special mentions can be corrected, and every correction is
recorded in the customer's history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from raccord.backoffice.admin_mixins import HistoryAdminMixin, RoleAdminMixin, RoleModelAdmin
from raccord.contracts.models import Contract, ContractOption

EDITABLE_FIELDS = (
    "installation_complement",
    "delivery_name",
    "delivery_address",
    "delivery_postal_code",
    "delivery_city",
    "special_mentions",
)


class ContractOptionInline(RoleAdminMixin, admin.TabularInline):
    model = ContractOption
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("label", "monthly_price", "vat_rate")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(HistoryAdminMixin, RoleModelAdmin):
    history_subject = "contract"
    list_display = (
        "reference",
        "customer",
        "offer_label",
        "status",
        "channel",
        "signup_date",
        "monthly_price",
        "activation_date",
    )
    list_filter = ("status", "channel", "installation_mode", "payment_method", "offer")
    list_select_related = ("customer",)
    search_fields = (
        "=reference",
        "=network_login",
        "customer__last_name",
        "=customer__reference",
        "customer__email",
    )
    date_hierarchy = "signup_date"
    inlines = (ContractOptionInline,)
    fieldsets = (
        (
            "Contrat",
            {"fields": ("reference", "customer", "status", "network_login", "signup_agent")},
        ),
        (
            "Offre vendue (copiée à la signature)",
            {
                "fields": (
                    "offer",
                    "offer_label",
                    "monthly_price",
                    "setup_fee",
                    "setup_subsidy",
                    "equipment_subsidy",
                    "subsidy_authority",
                    "termination_fee",
                    "change_fee",
                    "commitment_months",
                    "subsidised_equipment",
                    "vat_rate",
                    "download_mbps",
                    "upload_mbps",
                    "zone",
                )
            },
        ),
        (
            "Souscription",
            {
                "fields": (
                    "signup_date",
                    "signed_at",
                    "channel",
                    "signup_ip",
                    "cgv_version",
                    "cgv_accepted_at",
                    "express_start",
                    "special_mentions",
                )
            },
        ),
        (
            "Installation et livraison",
            {
                "fields": (
                    "installation_address",
                    "installation_complement",
                    "premises",
                    "installation_mode",
                    "delivery_name",
                    "delivery_address",
                    "delivery_postal_code",
                    "delivery_city",
                )
            },
        ),
        ("Paiement", {"fields": ("payment_method", "mandate")}),
        (
            "Vie du contrat",
            {
                "fields": (
                    "equipment_received_date",
                    "activation_date",
                    "commitment_start",
                    "commitment_end",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            f.name
            for f in Contract._meta.concrete_fields
            if f.name not in EDITABLE_FIELDS and f.name not in ("id", "signup_key")
        ]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Contracts are created by a sign-up (online, by an agent or by a partner).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
