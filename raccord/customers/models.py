"""Customers: identity, contacts and the login to Mon Compte."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    class Civility(models.TextChoices):
        MADAME = "mme", _("Madame")
        MONSIEUR = "m", _("Monsieur")
        NONE = "", _("Non précisé")

    reference = models.CharField(_("numéro client"), max_length=20, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customer",
    )
    civility = models.CharField(_("civilité"), max_length=3, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100, db_index=True)
    email = models.EmailField(_("email"), db_index=True)
    phone = models.CharField(_("téléphone"), max_length=20, db_index=True)
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    # Postal address for correspondence: the delivery address of the sign-up by default.
    postal_address = models.CharField(_("adresse postale"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("ville"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("créé le"))
    pending_email = models.EmailField(_("nouvel email à confirmer"), blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("client")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.reference})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
