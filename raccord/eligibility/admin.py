"""Admin for addresses (imported from the national base: read-only), premises and imports."""

from __future__ import annotations

from django.contrib import admin

from raccord.backoffice.admin_mixins import ReadOnlyModelAdmin, RoleModelAdmin
from raccord.eligibility.models import Address, AddressImport, Premises


@admin.register(Address)
class AddressAdmin(ReadOnlyModelAdmin):
    list_display = ("ban_id", "street_line", "code_postal", "nom_commune", "code_insee")
    # The base holds millions of rows: prefix search on the identifier, no full count.
    search_fields = ("^ban_id", "nom_voie", "nom_commune", "=code_postal", "=code_insee")
    show_full_result_count = False
    ordering = ("nom_commune", "nom_voie", "numero")

    @admin.display(description="voie")
    def street_line(self, obj: Address) -> str:
        return obj.street_line


@admin.register(Premises)
class PremisesAdmin(RoleModelAdmin):
    list_display = ("address", "equipped", "equipped_since")
    list_filter = ("equipped",)
    list_select_related = ("address",)
    search_fields = ("^address__ban_id", "address__nom_voie", "address__nom_commune")
    raw_id_fields = ("address",)


@admin.register(AddressImport)
class AddressImportAdmin(ReadOnlyModelAdmin):
    list_display = (
        "file_name",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_rejected",
    )
    readonly_fields = (
        "file_name",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_rejected",
        "errors",
    )
