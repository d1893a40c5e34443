"""Payments: SEPA direct-debit mandates (more in the payments issue)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from raccord.core.masking import iban_mask


class Mandate(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("actif")
        AMENDED = "amended", _("remplacé")
        REVOKED = "revoked", _("révoqué")
        LAPSED = "lapsed", _("caduc (36 mois sans prélèvement)")

    class SignatureMethod(models.TextChoices):
        ONLINE = "online", _("signature électronique en ligne")
        PAPER = "paper", _("formulaire papier")
        PHONE = "phone", _("par téléphone avec un conseiller")
        API = "api", _("partenaire (API)")

    reference = models.CharField(_("référence unique de mandat (RUM)"), max_length=35, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="mandates"
    )
    debtor_name = models.CharField(_("titulaire du compte"), max_length=140)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    signature_date = models.DateField(_("date de signature"))
    signed_at = models.DateTimeField(_("signé le"))
    signature_method = models.CharField(max_length=10, choices=SignatureMethod.choices)
    signature_ip = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    last_debit_date = models.DateField(_("dernier prélèvement"), null=True, blank=True)

    class Meta:
        ordering = ["-signature_date", "-id"]
        verbose_name = _("mandat SEPA")
        verbose_name_plural = _("mandats SEPA")

    def __str__(self) -> str:
        return self.reference

    @property
    def iban_masked(self) -> str:
        return iban_mask(self.iban)
