"""Equipment units lent to subscribers and their returns (C14, S2).

A unit belongs to the premises where it is installed as much as to the contract that uses it:
when the contract ends the unit must come back (S2), unless new occupants of the same premises
take it over (C14), in which case it is attached to their contract and its return is closed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EquipmentUnit(models.Model):
    class Status(models.TextChoices):
        SHIPPED = "shipped", _("expédié")
        INSTALLED = "installed", _("installé")
        AWAITING_RETURN = "awaiting_return", _("retour attendu")
        RETURNED = "returned", _("retourné")
        LOST = "lost", _("non restitué")

    model = models.ForeignKey(
        "catalog.EquipmentModel",
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("modèle"),
    )
    serial = models.CharField(_("numéro de série"), max_length=60, unique=True)
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="equipment_units",
    )
    premises = models.ForeignKey(
        "eligibility.Premises",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="equipment_units",
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=Status.choices, default=Status.INSTALLED
    )
    delivered_on = models.DateField(_("livré le"), null=True, blank=True)

    class Meta:
        ordering = ["contract_id", "model_id", "id"]
        indexes = [models.Index(fields=["premises", "status"])]
        verbose_name = _("équipement")
        verbose_name_plural = _("équipements")

    def __str__(self) -> str:
        return f"{self.model_id} {self.serial}"


class EquipmentReturn(models.Model):
    """A unit expected back, with its ``RM-`` reference and deadline (S2).

    Not back by the deadline (a return on the deadline day is in time) → the model's non-return
    fee is queued the day after; a later return with proof of deposit, confirmed by an agent,
    refunds it."""

    class Reason(models.TextChoices):
        TERMINATION = "termination", _("résiliation")
        EXCHANGE = "exchange", _("échange")

    class Outcome(models.TextChoices):
        OPEN = "open", _("en attente")
        RETURNED = "returned", _("retourné")
        TRANSFERRED = "transferred", _("repris par les nouveaux occupants")
        CANCELLED = "cancelled", _("annulé")

    unit = models.ForeignKey(EquipmentUnit, on_delete=models.PROTECT, related_name="returns")
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="equipment_returns"
    )
    reference = models.CharField(_("référence de retour"), max_length=20, unique=True)
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    deadline = models.DateField(_("à retourner au plus tard le"))
    outcome = models.CharField(
        _("issue"), max_length=12, choices=Outcome.choices, default=Outcome.OPEN, db_index=True
    )
    opened_on = models.DateField(_("ouvert le"))
    returned_on = models.DateField(_("reçu le"), null=True, blank=True)
    deposit_date = models.DateField(_("déposé le (justificatif)"), null=True, blank=True)
    closed_on = models.DateField(_("clos le"), null=True, blank=True)
    fee = models.ForeignKey(
        "billing.PendingItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund = models.ForeignKey(
        "billing.PendingItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["outcome", "deadline"])]
        verbose_name = _("retour de matériel")
        verbose_name_plural = _("retours de matériel")

    def __str__(self) -> str:
        return self.reference
