"""Orders and contracts. A contract copies the prices, commitment and terms it was signed with:
changing the catalogue never changes a signed order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from raccord.catalog.models import money_field, vat_field
from raccord.core.money import ZERO


class Contract(models.Model):
    class Status(models.TextChoices):
        ORDERED = "ordered", _("commandé")
        KIT_SHIPPED = "kit_shipped", _("kit expédié")
        INSTALLATION_BOOKED = "installation_booked", _("installation planifiée")
        EQUIPMENT_RECEIVED = "equipment_received", _("matériel reçu, en attente de connexion")
        ACTIVE = "active", _("actif")
        TERMINATION_REQUESTED = "termination_requested", _("résiliation demandée")
        TERMINATED = "terminated", _("résilié")
        CANCELLED = "cancelled", _("annulé")
        WITHDRAWN = "withdrawn", _("rétracté")

    class Channel(models.TextChoices):
        ONLINE = "online", _("en ligne")
        PAPER = "paper", _("formulaire papier")
        PHONE = "phone", _("par téléphone avec un conseiller")
        API = "api", _("partenaire (API)")

    class InstallationMode(models.TextChoices):
        KIT = "kit", _("kit expédié par transporteur")
        INSTALLER = "installer", _("visite d'un installateur")
        EQUIPPED = "equipped", _("logement déjà équipé")

    class PaymentMethod(models.TextChoices):
        SEPA = "sepa", _("prélèvement SEPA")
        CHEQUE = "cheque", _("chèque")

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="contracts"
    )
    status = models.CharField(
        _("statut"), max_length=24, choices=Status.choices, default=Status.ORDERED, db_index=True
    )

    # What was sold, copied at signature.
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="contracts")
    offer_label = models.CharField(_("offre"), max_length=120)
    monthly_price = money_field(_("prix mensuel TTC"), default=None)
    setup_fee = money_field(_("frais de mise en service TTC"))
    setup_subsidy = money_field(_("subvention sur la mise en service TTC"))
    equipment_subsidy = money_field(_("subvention sur le matériel TTC"))
    subsidy_authority = models.CharField(_("collectivité"), max_length=200, blank=True)
    termination_fee = money_field(_("frais de résiliation TTC"))
    change_fee = money_field(_("frais de changement d'offre TTC"))
    commitment_months = models.PositiveSmallIntegerField(_("engagement (mois)"))
    subsidised_equipment = models.BooleanField(default=False)
    vat_rate = vat_field()
    download_mbps = models.PositiveIntegerField()
    upload_mbps = models.PositiveIntegerField()
    zone = models.ForeignKey(
        "catalog.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # How it was signed (C2).
    signup_date = models.DateField(_("date de souscription"))
    signed_at = models.DateTimeField(_("souscrit le"))
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    signup_ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    signup_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signup_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    cgv_version = models.ForeignKey(
        "catalog.CGVVersion", on_delete=models.PROTECT, related_name="+"
    )
    cgv_accepted_at = models.DateTimeField(_("CGV acceptées le"))
    express_start = models.BooleanField(
        _("démarrage avant la fin du délai de rétractation demandé"), default=False
    )
    special_mentions = models.TextField(_("mentions spéciales"), blank=True)

    # Where.
    installation_address = models.ForeignKey(
        "eligibility.Address", on_delete=models.PROTECT, related_name="contracts"
    )
    installation_complement = models.CharField(
        _("complément d'adresse"), max_length=200, blank=True
    )
    premises = models.ForeignKey(
        "eligibility.Premises",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    delivery_name = models.CharField(_("destinataire"), max_length=200)
    delivery_address = models.CharField(_("adresse de livraison"), max_length=300)
    delivery_postal_code = models.CharField(_("code postal de livraison"), max_length=5)
    delivery_city = models.CharField(_("ville de livraison"), max_length=200)
    installation_mode = models.CharField(
        _("mode d'installation"), max_length=10, choices=InstallationMode.choices
    )

    # How it is paid.
    payment_method = models.CharField(
        _("mode de paiement"), max_length=10, choices=PaymentMethod.choices
    )
    mandate = models.ForeignKey(
        "payments.Mandate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )

    # Network and life.
    network_login = models.CharField(_("identifiant réseau"), max_length=64, unique=True)
    # The installer's appointment, once booked (C3): shown to the subscriber and the agents.
    installation_appointment = models.DateField(
        _("rendez-vous d'installation"), null=True, blank=True
    )
    equipment_received_date = models.DateField(_("matériel reçu le"), null=True, blank=True)
    activation_date = models.DateField(_("date de mise en service"), null=True, blank=True)
    commitment_start = models.DateField(_("début d'engagement"), null=True, blank=True)
    commitment_end = models.DateField(_("fin d'engagement"), null=True, blank=True)
    # The set-up fee is billed once, on the first invoice that bills the subscription (B2).
    setup_fee_billed = models.BooleanField(default=False)

    # End of life: termination (C10-C13), cancellation before activation (C5, C6), withdrawal (C6).
    termination_requested_on = models.DateField(_("résiliation demandée le"), null=True, blank=True)
    termination_effective_date = models.DateField(
        _("date d'effet de la résiliation"), null=True, blank=True
    )
    termination_reason = models.CharField(_("motif de résiliation"), max_length=300, blank=True)
    # C13: one of Policy.legitimate_reasons, recorded by an agent with its proof; waives C11.
    legitimate_reason = models.CharField(_("motif légitime"), max_length=200, blank=True)
    legitimate_reason_proof = models.CharField(
        _("justificatif du motif légitime"), max_length=300, blank=True
    )
    cancelled_on = models.DateField(_("annulé le"), null=True, blank=True)
    cancel_reason = models.CharField(_("motif d'annulation"), max_length=300, blank=True)
    withdrawn_on = models.DateField(_("rétractation le"), null=True, blank=True)

    # Suspension for non-payment (P6): the line stays a contract in its status; the network
    # puts it in a walled garden while ``suspended_on`` is set. Cleared when paid.
    suspended_on = models.DateField(_("suspendu le"), null=True, blank=True)
    suspension_reason = models.CharField(_("motif de suspension"), max_length=200, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("contrat")

    def __str__(self) -> str:
        return f"{self.reference} – {self.offer_label}"

    @property
    def setup_fee_due(self) -> Decimal:
        """The set-up fee the subscriber pays, the local subsidy deducted."""
        return max(ZERO, self.setup_fee - self.setup_subsidy)

    @property
    def total_monthly_price(self) -> Decimal:
        return self.monthly_price + sum((o.monthly_price for o in self.options.all()), start=ZERO)


class ContractOption(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="options")
    option = models.ForeignKey("catalog.Option", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=120)
    monthly_price = money_field(_("prix mensuel TTC"), default=None)
    vat_rate = vat_field()

    class Meta:
        unique_together = [("contract", "option")]
        verbose_name = _("option souscrite")
        verbose_name_plural = _("options souscrites")

    def __str__(self) -> str:
        return self.label


class Subscription(models.Model):
    """One billable product of a contract over a span of days: the offer, or an option.

    Created at activation (C4) and at an offer change (C9); closed by ``end_date`` on an offer
    change (the day before D), a termination (E) or a withdrawal. ``billed_through`` is the last
    day the monthly run has charged: the run charges from the day after it (or ``start_date``) up
    to the end of the month or ``end_date``, and credits the days past ``end_date`` that were
    already charged (B2-B4). Only the billing run moves it."""

    class Kind(models.TextChoices):
        OFFER = "offer", _("offre")
        OPTION = "option", _("option")

    # The (contract, end_date) index serves the contract's lookups: no second index on it.
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    # The contract's customer, copied (it never changes): the monthly run reads the
    # subscriptions of a range of customers by this index, not through a join that the planner
    # may answer by reading the whole table for every batch.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    product = models.CharField(_("code produit"), max_length=30)
    label = models.CharField(max_length=120)
    monthly_price = money_field(_("prix mensuel TTC"), default=None)
    vat_rate = vat_field()
    start_date = models.DateField(_("début"))
    end_date = models.DateField(_("fin"), null=True, blank=True)
    billed_through = models.DateField(_("facturé jusqu'au"), null=True, blank=True)

    class Meta:
        ordering = ["contract_id", "start_date", "kind", "product"]
        indexes = [
            models.Index(fields=["contract", "end_date"]),
            models.Index(fields=["customer"], name="subscription_customer"),
        ]
        verbose_name = _("abonnement facturable")
        verbose_name_plural = _("abonnements facturables")

    def __str__(self) -> str:
        return f"{self.product} {self.start_date}→{self.end_date or '…'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.customer_id is None and self.contract_id is not None:
            self.customer_id = self.contract.customer_id
        super().save(*args, **kwargs)
