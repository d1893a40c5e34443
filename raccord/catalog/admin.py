"""Admin for the catalogue: every agent reads it, only admins change it. Contracts copy the
prices they were signed at, so an edit here never changes a signed order."""

from __future__ import annotations

from django.contrib import admin

from raccord.backoffice.admin_mixins import RoleAdminMixin, RoleModelAdmin
from raccord.catalog.models import CGVVersion, EquipmentModel, Offer, Option, Zone, ZoneOffer


@admin.register(Offer)
class OfferAdmin(RoleModelAdmin):
    list_display = (
        "code",
        "label",
        "technology",
        "download_mbps",
        "monthly_price",
        "setup_fee",
        "commitment_months",
        "is_active",
        "position",
    )
    list_filter = ("is_active", "technology", "commitment_months", "subsidised_equipment")
    search_fields = ("code", "label")
    filter_horizontal = ("equipment",)


@admin.register(Option)
class OptionAdmin(RoleModelAdmin):
    list_display = ("code", "label", "monthly_price", "vat_rate", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "label")
    filter_horizontal = ("offers",)


@admin.register(EquipmentModel)
class EquipmentModelAdmin(RoleModelAdmin):
    list_display = ("code", "label", "price", "non_return_fee", "vat_rate")
    search_fields = ("code", "label")


class ZoneOfferInline(RoleAdminMixin, admin.TabularInline):
    model = ZoneOffer
    extra = 0
    fields = (
        "offer",
        "monthly_price",
        "setup_fee",
        "download_mbps",
        "upload_mbps",
        "setup_subsidy",
        "equipment_subsidy",
    )


@admin.register(Zone)
class ZoneAdmin(RoleModelAdmin):
    list_display = ("code", "name", "subsidy_authority")
    search_fields = ("code", "name")
    inlines = (ZoneOfferInline,)


@admin.register(CGVVersion)
class CGVVersionAdmin(RoleModelAdmin):
    list_display = ("version", "effective_date")
    date_hierarchy = "effective_date"
