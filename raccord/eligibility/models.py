"""Addresses (national address base, BAN), premises with installed equipment, import jobs."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from raccord.catalog.models import department_of


class Street(models.Model):
    """One street (``nom_voie``) of one commune and postal code: what the type-ahead searches.

    Derived from the addresses (the import and ``Address.save`` maintain it); its id is a hash of
    the fields below (``search_keys.street_identity``), so a street row never changes."""

    id = models.BigIntegerField(primary_key=True)
    code_insee = models.CharField(_("code INSEE"), max_length=5)
    code_postal = models.CharField(_("code postal"), max_length=5)
    nom_commune = models.CharField(_("commune"), max_length=200)
    nom_voie = models.CharField(_("voie"), max_length=200)
    street_key = models.CharField(max_length=200)
    commune_key = models.CharField(max_length=200)
    search_text = models.CharField(max_length=500)

    class Meta:
        verbose_name = _("voie")

    def __str__(self) -> str:
        return f"{self.nom_voie}, {self.code_postal} {self.nom_commune}"


class StreetToken(models.Model):
    """One normalised word of a street, its commune or its codes, searched by prefix."""

    token = models.CharField(max_length=40)
    # No database constraint: the token table is a derived index rebuilt by the import, and a
    # per-row foreign-key check would double the cost of bulk loads.
    street = models.ForeignKey(
        Street, on_delete=models.CASCADE, related_name="tokens", db_constraint=False
    )

    class Meta:
        verbose_name = _("mot de voie")
        indexes = [
            # The prefix search reads only this index. PostgreSQL needs the pattern opclass for
            # LIKE 'prefix%' under any database collation; SQLite ignores opclasses and searches
            # the same index with a range.
            models.Index(
                fields=["token", "street"],
                opclasses=["varchar_pattern_ops", "int8_ops"],
                name="elig_streettoken_prefix",
            )
        ]

    def __str__(self) -> str:
        return self.token


class Address(models.Model):
    # Unique and indexed through Meta rather than unique=True/db_index=True: on PostgreSQL those
    # also build a LIKE index per column that nothing uses and every import would maintain.
    ban_id = models.CharField(_("identifiant BAN"), max_length=64)
    numero = models.PositiveIntegerField(_("numéro"), null=True, blank=True)
    rep = models.CharField(_("indice de répétition"), max_length=10, blank=True)
    nom_voie = models.CharField(_("voie"), max_length=200)
    code_postal = models.CharField(_("code postal"), max_length=5)
    code_insee = models.CharField(_("code INSEE"), max_length=5)
    nom_commune = models.CharField(_("commune"), max_length=200)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    # Derived from the fields above (see save() and the import); like the tokens, kept without a
    # database constraint so that loading a national base checks no foreign key per row.
    street = models.ForeignKey(
        Street,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="addresses",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("adresse")
        constraints = [
            models.UniqueConstraint(fields=["ban_id"], name="eligibility_address_ban_id_unique")
        ]
        indexes = [models.Index(fields=["code_insee"], name="eligibility_address_insee")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Keep the search index in step with addresses created or edited one by one (fixtures,
        # admin); the import fills it in bulk without calling save().
        from raccord.eligibility.services import street_ensure

        self.street_id = street_ensure(
            code_insee=self.code_insee,
            code_postal=self.code_postal,
            nom_commune=self.nom_commune,
            nom_voie=self.nom_voie,
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "street"}
        super().save(*args, **kwargs)

    @property
    def street_line(self) -> str:
        number = f"{self.numero}{(' ' + self.rep) if self.rep else ''} " if self.numero else ""
        return f"{number}{self.nom_voie}"

    @property
    def label(self) -> str:
        return f"{self.street_line}, {self.code_postal} {self.nom_commune}"

    @property
    def department(self) -> str:
        return department_of(self.code_insee)


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
