"""Admin for the operator's profile and policies (admins only) and the history (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from raccord.backoffice.admin_mixins import ReadOnlyModelAdmin, SingletonModelAdmin
from raccord.core.models import Event, OperatorProfile, Policy


@admin.register(OperatorProfile)
class OperatorProfileAdmin(SingletonModelAdmin):
    # Operators' sites are served over HTTPS: a URL typed without a scheme gets https://.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("trade_name", "legal_name", "siren", "customer_service_phone")
    fieldsets = (
        (
            "Identité légale",
            {"fields": ("legal_name", "trade_name", "address", "siren", "vat_number")},
        ),
        (
            "Prélèvements",
            {
                "fields": (
                    "sepa_creditor_id",
                    "sepa_creditor_iban",
                    "sepa_creditor_bic",
                    "billing_address",
                )
            },
        ),
        (
            "Service client",
            {
                "fields": (
                    "customer_service_phone",
                    "customer_service_hours",
                    "customer_service_email",
                    "customer_service_address",
                    "consumer_service_address",
                    "website",
                )
            },
        ),
        ("Médiation", {"fields": ("mediator_name", "mediator_address", "mediator_url")}),
    )


@admin.register(Policy)
class PolicyAdmin(SingletonModelAdmin):
    list_display = ("__str__", "invoice_day", "debit_day", "cheque_due_day", "pain008_version")
    fieldsets = (
        (
            "Facturation et prélèvements",
            {
                "fields": (
                    "invoice_day",
                    "debit_day",
                    "cheque_due_day",
                    "prenotification_days",
                    "bank_change_cutoff_day",
                    "pain008_version",
                    "sepa_use_frst",
                    "invoice_number_format",
                    "credit_note_number_format",
                    "mandate_lapse_months",
                )
            },
        ),
        (
            "Contrats",
            {
                "fields": (
                    "activation_fallback_days",
                    "withdrawal_days",
                    "termination_notice_days",
                    "legitimate_reasons",
                )
            },
        ),
        (
            "Après-vente",
            {
                "fields": (
                    "equipment_return_days",
                    "exchange_return_days",
                    "outage_threshold_hours",
                    "gesture_automatic",
                    "mediator_delay_months",
                )
            },
        ),
    )


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    """The history is append-only: nobody adds, changes or deletes an entry."""

    list_display = ("at", "actor_kind", "actor_label", "verb", "summary", "customer_id")
    list_filter = ("actor_kind",)
    search_fields = ("=customer_id", "verb", "summary", "actor_label")
    show_full_result_count = False
    fields = (
        "at",
        "recorded_at",
        "actor_kind",
        "actor_label",
        "customer_id",
        "subject_type",
        "subject_id",
        "verb",
        "summary",
        "data",
    )
    readonly_fields = fields
