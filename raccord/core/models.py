"""Core models: the event log (every state change, who/what/when/data), the operator profile and
the operator's policies (the rulebook's configurable values, with the rulebook's defaults)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One entry of a customer's history. Written in the same transaction as the change it
    records; never updated or deleted."""

    class ActorKind(models.TextChoices):
        CUSTOMER = "customer", _("client")
        AGENT = "agent", _("agent")
        SYSTEM = "system", _("système")
        PARTNER = "partner", _("partenaire (API)")

    at = models.DateTimeField(_("date"), db_index=True, help_text=_("business time of the change"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    # Plain ids rather than foreign keys: core sits below every domain app.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    subject_type = models.CharField(max_length=50)
    subject_id = models.BigIntegerField(null=True, blank=True)
    verb = models.CharField(max_length=80, db_index=True)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]
        verbose_name = _("événement")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)


class OperatorProfile(models.Model):
    """The operator's legal identity and contacts, shown on documents and pages. One row."""

    legal_name = models.CharField(_("raison sociale"), max_length=200, default="Opérateur Raccord")
    trade_name = models.CharField(_("nom commercial"), max_length=200, default="Raccord")
    address = models.CharField(_("adresse du siège"), max_length=300, default="")
    siren = models.CharField(_("SIREN"), max_length=9, default="")
    vat_number = models.CharField(_("numéro de TVA"), max_length=20, default="")
    sepa_creditor_id = models.CharField(
        _("identifiant créancier SEPA (ICS)"), max_length=35, default=""
    )
    # The account the direct debits are collected to and the refunds paid from (P2, B6).
    sepa_creditor_iban = models.CharField(
        _("IBAN du compte d'encaissement"), max_length=34, default="", blank=True
    )
    sepa_creditor_bic = models.CharField(
        _("BIC du compte d'encaissement"), max_length=11, default="", blank=True
    )
    customer_service_phone = models.CharField(
        _("téléphone du service client"), max_length=30, default=""
    )
    customer_service_hours = models.CharField(
        _("horaires du service client"), max_length=200, default=""
    )
    customer_service_email = models.EmailField(_("email du service client"), default="")
    customer_service_address = models.CharField(
        _("adresse postale du service client"), max_length=300, default=""
    )
    consumer_service_address = models.CharField(
        _("adresse du service consommateurs (réclamations écrites)"), max_length=300, default=""
    )
    billing_address = models.CharField(_("adresse d'envoi des chèques"), max_length=300, default="")
    mediator_name = models.CharField(
        _("médiateur"), max_length=200, default="Médiateur des communications électroniques"
    )
    mediator_address = models.CharField(_("adresse du médiateur"), max_length=300, default="")
    mediator_url = models.URLField(_("site du médiateur"), default="", blank=True)
    website = models.URLField(_("site web"), default="", blank=True)

    class Meta:
        verbose_name = _("profil de l'opérateur")
        verbose_name_plural = _("profil de l'opérateur")

    def __str__(self) -> str:
        return self.trade_name

    def clean(self) -> None:
        """A SIREN and a VAT number that cannot be right are refused where they are typed:
        they go on every invoice (B9), which is never issued again."""
        from raccord.core.identity import siren_valid, vat_number_problem

        self.siren = self.siren.replace(" ", "")
        self.vat_number = self.vat_number.replace(" ", "").upper()
        if self.siren and not siren_valid(self.siren):
            raise ValidationError({"siren": _("Ce SIREN n'existe pas (9 chiffres, clé de Luhn).")})
        if self.vat_number and (problem := vat_number_problem(self.vat_number, self.siren)):
            raise ValidationError({"vat_number": problem})

    @classmethod
    def get(cls) -> OperatorProfile:
        profile, _created = cls.objects.get_or_create(pk=1)
        return profile


class Policy(models.Model):
    """The operator's policies: each rulebook value marked *policy*, with its default. One row."""

    class Pain008Version(models.TextChoices):
        V02 = "001.02", "pain.008.001.02"
        V08 = "001.08", "pain.008.001.08"

    day = [MinValueValidator(1), MaxValueValidator(28)]

    invoice_day = models.PositiveSmallIntegerField(
        _("jour de facturation (B1)"), default=2, validators=day
    )
    debit_day = models.PositiveSmallIntegerField(
        _("jour de prélèvement (P1)"), default=5, validators=day
    )
    cheque_due_day = models.PositiveSmallIntegerField(
        _("jour limite des chèques (P5)"), default=10, validators=day
    )
    prenotification_days = models.PositiveSmallIntegerField(
        _("délai de pré-notification en jours (P3)"), default=2
    )
    bank_change_cutoff_day = models.PositiveSmallIntegerField(
        _("dernier jour d'un changement de RIB pour le mois suivant (P4)"),
        default=24,
        validators=day,
    )
    activation_fallback_days = models.PositiveSmallIntegerField(
        _("activation au plus tard, jours après réception (C4)"), default=30
    )
    withdrawal_days = models.PositiveSmallIntegerField(
        _("délai de rétractation en jours (C6)"), default=14
    )
    termination_notice_days = models.PositiveSmallIntegerField(
        _("préavis de résiliation en jours (C10)"), default=10
    )
    equipment_return_days = models.PositiveSmallIntegerField(
        _("délai de retour après résiliation (S2)"), default=30
    )
    exchange_return_days = models.PositiveSmallIntegerField(
        _("délai de retour après échange (S2)"), default=40
    )
    mandate_lapse_months = models.PositiveSmallIntegerField(
        _("caducité d'un mandat inutilisé, mois (P7)"), default=36
    )
    outage_threshold_hours = models.PositiveSmallIntegerField(
        _("durée d'une panne ouvrant un geste, heures (N3)"), default=48
    )
    gesture_automatic = models.BooleanField(
        _("accorder le geste commercial sans attendre la demande (S1)"),
        default=False,
        help_text=_(
            "Chaque nuit, les coupures et incidents de plus de 48 heures terminés la semaine "
            "passée ouvrent d'eux-mêmes le geste de chaque ligne touchée, une fois par coupure."
        ),
    )
    # P6: what follows a returned debit.
    dunning_rejection_fee = models.DecimalField(
        _("frais de rejet de prélèvement TTC (0 : aucun)"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    dunning_represent = models.BooleanField(
        _("représenter un prélèvement rejeté à la date suivante"), default=True
    )
    dunning_suspend_days = models.PositiveSmallIntegerField(
        _("suspension de la ligne après ce nombre de jours d'impayé (0 : jamais)"), default=15
    )
    pain008_version = models.CharField(
        _("version pain.008 (P2)"),
        max_length=6,
        choices=Pain008Version.choices,
        default=Pain008Version.V02,
    )
    sepa_use_frst = models.BooleanField(_("premier prélèvement en FRST"), default=False)
    invoice_number_format = models.CharField(
        _("format des numéros de facture (B7)"), max_length=40, default="F{year}-{number:06d}"
    )
    credit_note_number_format = models.CharField(
        _("format des numéros d'avoir (B7)"), max_length=40, default="A{year}-{number:06d}"
    )
    legitimate_reasons = models.JSONField(
        _("motifs légitimes de résiliation sans indemnité (C13)"),
        default=list,
        blank=True,
    )
    mediator_delay_months = models.PositiveSmallIntegerField(
        _("délai avant saisine du médiateur, mois (S3)"), default=2
    )

    class Meta:
        verbose_name = _("politiques de l'opérateur")
        verbose_name_plural = _("politiques de l'opérateur")

    def __str__(self) -> str:
        return str(_("Politiques de l'opérateur"))

    DEFAULT_LEGITIMATE_REASONS = [
        "surendettement",
        "déménagement dans une zone non couverte",
        "décès",
        "perte d'emploi",
        "longue maladie",
    ]

    @classmethod
    def get(cls) -> Policy:
        policy, created = cls.objects.get_or_create(pk=1)
        if created and not policy.legitimate_reasons:
            policy.legitimate_reasons = list(cls.DEFAULT_LEGITIMATE_REASONS)
            policy.save(update_fields=["legitimate_reasons"])
        return policy


class Sequence(models.Model):
    """A named counter. Taking a number locks the row, so a series has no gaps and no duplicates
    even with concurrent workers (B7); a rolled-back transaction gives its number back."""

    name = models.CharField(max_length=60, unique=True)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("séquence")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
