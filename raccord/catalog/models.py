"""The catalogue: offers, options, equipment models, zones with local prices and subsidies,
CGV versions. Contracts copy the prices they were signed at, so changing a price here never
changes a signed order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from raccord.core.money import ZERO

VAT_20 = Decimal("0.20")


def money_field(
    verbose: StrOrPromise, default: Decimal | None = ZERO, **kwargs: Any
) -> models.DecimalField:
    return models.DecimalField(
        verbose,
        max_digits=10,
        decimal_places=2,
        default=default,
        validators=[MinValueValidator(ZERO)],
        **kwargs,
    )


def vat_field() -> models.DecimalField:
    return models.DecimalField(
        _("taux de TVA"),
        max_digits=5,
        decimal_places=4,
        default=VAT_20,
        help_text=_("0.20 pour 20 %, 0 pour un élément non soumis à TVA"),
    )


def department_of(insee_code: str) -> str:
    """The department of a commune: 3 characters overseas (971…976), else 2 (incl. 2A/2B)."""
    return insee_code[:3] if insee_code.startswith("97") else insee_code[:2]


class Technology(models.TextChoices):
    RADIO = "radio", _("THD radio")
    FIBRE = "fibre", _("fibre optique (FTTH)")
    SATELLITE = "satellite", _("satellite")
    FOURG = "4g", _("4G fixe")


class Offer(models.Model):
    class Commitment(models.IntegerChoices):
        NONE = 0, _("sans engagement")
        TWELVE = 12, _("12 mois")
        TWENTY_FOUR = 24, _("24 mois")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    technology = models.CharField(_("technologie"), max_length=12, choices=Technology.choices)
    download_mbps = models.PositiveIntegerField(_("débit descendant (Mbit/s)"))
    upload_mbps = models.PositiveIntegerField(_("débit montant (Mbit/s)"))
    monthly_price = money_field(_("prix mensuel TTC"), default=None)
    setup_fee = money_field(_("frais de mise en service TTC"))
    change_fee = money_field(_("frais de changement d'offre TTC"))
    termination_fee = money_field(_("frais de résiliation TTC (C12)"))
    commitment_months = models.PositiveSmallIntegerField(
        _("engagement"), choices=Commitment.choices, default=Commitment.NONE
    )
    subsidised_equipment = models.BooleanField(
        _("équipement subventionné"),
        default=False,
        help_text=_("C11 : après 12 mois, 20 % des mensualités restantes restent dues."),
    )
    vat_rate = vat_field()
    lead_time_days = models.PositiveSmallIntegerField(
        _("délai de raccordement (jours)"), default=15
    )
    equipped_lead_time_days = models.PositiveSmallIntegerField(
        _("délai si le logement est déjà équipé (jours)"), default=5
    )
    equipment: models.ManyToManyField[EquipmentModel, Any] = models.ManyToManyField(
        "EquipmentModel", blank=True, verbose_name=_("matériel fourni")
    )
    is_active = models.BooleanField(_("en vente"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "monthly_price", "code"]
        verbose_name = _("offre")

    def __str__(self) -> str:
        return self.label


class Option(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    monthly_price = money_field(_("prix mensuel TTC"), default=None)
    vat_rate = vat_field()
    offers = models.ManyToManyField(
        Offer, blank=True, related_name="options", verbose_name=_("offres compatibles")
    )
    is_active = models.BooleanField(_("en vente"), default=True)

    class Meta:
        ordering = ["monthly_price", "code"]
        verbose_name = _("option")

    def __str__(self) -> str:
        return self.label


class EquipmentModel(models.Model):
    code = models.SlugField(_("modèle"), max_length=30, unique=True)
    label = models.CharField(_("nom"), max_length=120)
    price = money_field(_("prix TTC"))
    non_return_fee = money_field(_("frais de non-restitution TTC (S2)"))
    vat_rate = vat_field()

    class Meta:
        ordering = ["code"]
        verbose_name = _("modèle d'équipement")
        verbose_name_plural = _("modèles d'équipement")

    def __str__(self) -> str:
        return self.label


class Zone(models.Model):
    """A set of communes (INSEE codes) and/or departments where offers are sold (C1)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    departments = models.JSONField(
        _("départements"), default=list, blank=True, help_text=_('ex. ["67", "2A"]')
    )
    communes = models.JSONField(_("communes (codes INSEE)"), default=list, blank=True)
    excluded_addresses = models.JSONField(
        _("adresses exclues (identifiants BAN)"), default=list, blank=True
    )
    included_addresses = models.JSONField(
        _("adresses ajoutées hors communes (identifiants BAN)"), default=list, blank=True
    )
    subsidy_authority = models.CharField(
        _("collectivité qui subventionne"), max_length=200, blank=True
    )
    offers: models.ManyToManyField[Offer, ZoneOffer] = models.ManyToManyField(
        Offer, through="ZoneOffer", related_name="zones"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("zone")

    def __str__(self) -> str:
        return self.name

    def covers(self, *, insee_code: str, ban_id: str) -> bool:
        if ban_id and ban_id in self.excluded_addresses:
            return False
        if ban_id and ban_id in self.included_addresses:
            return True
        if insee_code in self.communes:
            return True
        return department_of(insee_code) in self.departments


class ZoneOffer(models.Model):
    """An offer sold in a zone, with optional local prices, speeds and subsidies (C1)."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="zone_offers")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="zone_offers")
    monthly_price = money_field(_("prix mensuel local TTC"), default=None, null=True, blank=True)
    setup_fee = money_field(
        _("frais de mise en service locaux TTC"), default=None, null=True, blank=True
    )
    download_mbps = models.PositiveIntegerField(_("débit descendant local"), null=True, blank=True)
    upload_mbps = models.PositiveIntegerField(_("débit montant local"), null=True, blank=True)
    setup_subsidy = money_field(_("subvention sur la mise en service TTC"))
    equipment_subsidy = money_field(_("subvention sur le matériel TTC"))

    class Meta:
        unique_together = [("zone", "offer")]
        verbose_name = _("offre de zone")
        verbose_name_plural = _("offres de zone")

    def __str__(self) -> str:
        return f"{self.offer} @ {self.zone}"


class CGVVersion(models.Model):
    version = models.CharField(_("version"), max_length=30, unique=True)
    effective_date = models.DateField(_("en vigueur le"))
    document = models.FileField(_("PDF"), upload_to="cgv/", blank=True)
    summary = models.TextField(_("résumé des changements"), blank=True)

    class Meta:
        ordering = ["-effective_date"]
        verbose_name = _("version des CGV")
        verbose_name_plural = _("versions des CGV")

    def __str__(self) -> str:
        return f"CGV {self.version}"
