"""Addresses (national address base, BAN), premises with installed equipment, import jobs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Address(models.Model):
    ban_id = models.CharField(_("identifiant BAN"), max_length=64, unique=True)
    numero = models.PositiveIntegerField(_("numéro"), null=True, blank=True)
    rep = models.CharField(_("indice de répétition"), max_length=10, blank=True)
    nom_voie = models.CharField(_("voie"), max_length=200)
    code_postal = models.CharField(_("code postal"), max_length=5)
    code_insee = models.CharField(_("code INSEE"), max_length=5, db_index=True)
    nom_commune = models.CharField(_("commune"), max_length=200)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("adresse")

    def __str__(self) -> str:
        return self.label

    @property
    def street_line(self) -> str:
        number = f"{self.numero}{(' ' + self.rep) if self.rep else ''} " if self.numero else ""
        return f"{number}{self.nom_voie}"

    @property
    def label(self) -> str:
        return f"{self.street_line}, {self.code_postal} {self.nom_commune}"

    @property
    def department(self) -> str:
        return self.code_insee[:3] if self.code_insee.startswith("97") else self.code_insee[:2]


class Premises(models.Model):
    """An address where the operator's equipment is installed, whoever lives there (C1, C14)."""

    address = models.OneToOneField(Address, on_delete=models.PROTECT, related_name="premises")
    equipped = models.BooleanField(_("logement équipé"), default=True)
    equipped_since = models.DateField(_("équipé depuis"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("local raccordé")
        verbose_name_plural = _("locaux raccordés")

    def __str__(self) -> str:
        return str(self.address)


class AddressImport(models.Model):
    """One run of ``raccord import-addresses``: counts and the bad rows with their line number."""

    file_name = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import d'adresses")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"
