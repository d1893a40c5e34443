"""Payments: SEPA mandates (P4, P7), direct-debit batches (P1-P3), payments received and their
allocation to invoices, returns and dunning (P6), refunds (B6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from raccord.core.masking import iban_mask


class Mandate(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("signé, en vigueur au prochain prélèvement possible")
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
    # P4: the first day of the first month whose debit uses this mandate (null: from the start).
    applies_from = models.DateField(_("en vigueur à partir du mois de"), null=True, blank=True)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        help_text=_("le mandat que celui-ci remplace (changement de coordonnées bancaires)"),
    )
    ended_on = models.DateField(_("fin"), null=True, blank=True)

    class Meta:
        ordering = ["-signature_date", "-id"]
        verbose_name = _("mandat SEPA")
        verbose_name_plural = _("mandats SEPA")

    def __str__(self) -> str:
        return self.reference

    @property
    def iban_masked(self) -> str:
        return iban_mask(self.iban)


class DebitBatch(models.Model):
    """One pain.008 direct-debit file: the SEPA invoices collected on one debit date (P2).

    ``message_id`` is deterministic (debit date and rank), so writing the file again for the same
    month gives the same file. A batch moves created → submitted (sent to the bank) → settled
    (the money arrived)."""

    class Status(models.TextChoices):
        CREATED = "created", _("créé")
        SUBMITTED = "submitted", _("transmis à la banque")
        SETTLED = "settled", _("encaissé")

    debit_date = models.DateField(_("date de prélèvement"), db_index=True)
    rank = models.PositiveSmallIntegerField(
        _("rang"), default=1, help_text=_("1 pour le premier fichier de cette date, puis 2…")
    )
    message_id = models.CharField(_("identifiant du message"), max_length=35, unique=True)
    version = models.CharField(_("version pain.008"), max_length=6)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    created_on = models.DateField(_("créé le"))
    submitted_on = models.DateField(_("transmis le"), null=True, blank=True)
    settled_on = models.DateField(_("encaissé le"), null=True, blank=True)
    count = models.PositiveIntegerField(_("prélèvements"), default=0)
    total = models.DecimalField(_("montant total"), max_digits=14, decimal_places=2, default=0)
    file = models.FileField(upload_to="sepa/pain008/", blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-debit_date", "-rank"]
        constraints = [
            models.UniqueConstraint(fields=["debit_date", "rank"], name="one_batch_per_date_rank")
        ]
        verbose_name = _("fichier de prélèvements")
        verbose_name_plural = _("fichiers de prélèvements")

    def __str__(self) -> str:
        return self.message_id


class Debit(models.Model):
    """One direct debit of one invoice in a batch. An invoice is never in two live debits (the
    partial unique constraint); a returned debit may be presented again in a later batch."""

    class Status(models.TextChoices):
        COLLECTING = "collecting", _("en cours de prélèvement")
        SETTLED = "settled", _("prélevé")
        RETURNED = "returned", _("rejeté")

    class SequenceType(models.TextChoices):
        FRST = "FRST", _("premier prélèvement")
        RCUR = "RCUR", _("prélèvement récurrent")

    batch = models.ForeignKey(DebitBatch, on_delete=models.PROTECT, related_name="debits")
    document = models.ForeignKey(
        "billing.Document", on_delete=models.PROTECT, related_name="debits"
    )
    # A copy of the document's customer, for reading a customer's debits; no constraint of its
    # own (the document's holds it), which saves a million deferred checks per debit file.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="debits")
    sequence_type = models.CharField(max_length=4, choices=SequenceType.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    end_to_end_id = models.CharField(_("référence de bout en bout"), max_length=35)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COLLECTING)
    returned_on = models.DateField(_("rejeté le"), null=True, blank=True)
    return_reason = models.CharField(_("code de rejet"), max_length=4, blank=True)
    # Where the return came from ("<file sha256>:<position>"): importing it again changes nothing.
    return_source = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["batch_id", "id"]
        # Plain indexes (no PostgreSQL "_like" twins): returns match by end-to-end id, batch
        # pages and settlement read a batch's debits by status.
        indexes = [
            models.Index(fields=["end_to_end_id"], name="payments_debit_e2e"),
            models.Index(fields=["batch", "status"], name="payments_debit_batch_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["document"],
                condition=~models.Q(status="returned"),
                name="one_live_debit_per_document",
            )
        ]
        verbose_name = _("prélèvement")
        verbose_name_plural = _("prélèvements")

    def __str__(self) -> str:
        return f"{self.end_to_end_id} {self.amount}"


class Payment(models.Model):
    """Money received from (positive) or given back to (negative) a customer.

    A settled debit makes a ``sepa`` payment; its return makes a negative ``sepa_return`` one
    linked to the same debit. Cheques, transfers and card payments are recorded by agents. What a
    payment pays is in its allocations; what is not allocated is the customer's credit."""

    class Method(models.TextChoices):
        SEPA = "sepa", _("prélèvement SEPA")
        SEPA_RETURN = "sepa_return", _("rejet de prélèvement")
        CHEQUE = "cheque", _("chèque")
        TRANSFER = "transfer", _("virement")
        CARD = "card", _("carte bancaire")
        REFUND = "refund", _("remboursement")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(max_length=12, choices=Method.choices)
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("reçu le"), db_index=True)
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    debit = models.ForeignKey(
        Debit, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    refund = models.ForeignKey(
        "Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    # P5: a cheque received on or after the due day of the invoice it pays.
    late = models.BooleanField(_("en retard"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Idempotency of the service that records it (e.g. "cheque:<bank>:<number>").
    key = models.CharField(max_length=100, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class Allocation(models.Model):
    """The part of a payment that pays one invoice (negative for a reversal, e.g. a return).

    An invoice's amount still due is its total minus the sum of its allocations."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    document = models.ForeignKey(
        "billing.Document", on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["document"])]
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")

    def __str__(self) -> str:
        return f"{self.document_id}: {self.amount}"


class ReturnImport(models.Model):
    """A pain.002 or camt.054 file of R-transactions, imported once (P6)."""

    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, unique=True)
    format = models.CharField(max_length=20)
    imported_on = models.DateField()
    entries = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    # [{"position": 3, "end_to_end_id": "…", "error": "…"}]
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-imported_on", "-id"]
        verbose_name = _("import de rejets")
        verbose_name_plural = _("imports de rejets")

    def __str__(self) -> str:
        return self.filename


class DunningCase(models.Model):
    """The follow-up of one unpaid invoice (P6): reminder, optional fee, re-presentation,
    suspension after the policy's delay, closed when the invoice is paid."""

    class Status(models.TextChoices):
        OPEN = "open", _("relance en cours")
        SUSPENDED = "suspended", _("ligne suspendue")
        PAID = "paid", _("réglé")
        CANCELLED = "cancelled", _("annulé")

    document = models.ForeignKey(
        "billing.Document", on_delete=models.PROTECT, related_name="dunning_cases"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="dunning_cases"
    )
    debit = models.OneToOneField(
        Debit, null=True, blank=True, on_delete=models.PROTECT, related_name="dunning_case"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    reason_code = models.CharField(_("code de rejet"), max_length=4, blank=True)
    opened_on = models.DateField(_("ouvert le"))
    reminder_sent_on = models.DateField(_("relance envoyée le"), null=True, blank=True)
    fee_item = models.ForeignKey(
        "billing.PendingItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    represent_on = models.DateField(_("nouvelle présentation le"), null=True, blank=True)
    suspend_on = models.DateField(_("suspension prévue le"), null=True, blank=True)
    suspended_on = models.DateField(_("suspendu le"), null=True, blank=True)
    closed_on = models.DateField(_("clos le"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("relance")
        verbose_name_plural = _("relances")

    def __str__(self) -> str:
        return f"{self.document_id} {self.get_status_display()}"


class RefundBatch(models.Model):
    """One pain.001 credit-transfer file of refunds (B6)."""

    message_id = models.CharField(max_length=35, unique=True)
    created_on = models.DateField()
    execution_date = models.DateField()
    count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    file = models.FileField(upload_to="sepa/pain001/", blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name = _("fichier de remboursements")
        verbose_name_plural = _("fichiers de remboursements")

    def __str__(self) -> str:
        return self.message_id


class Refund(models.Model):
    """Paying back a credit note (B6): by transfer to the mandate's IBAN, or by cheque."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("virement")
        CHEQUE = "cheque", _("chèque")

    class Status(models.TextChoices):
        PENDING = "pending", _("à rembourser")
        EXPORTED = "exported", _("virement émis")
        PAID = "paid", _("remboursé")

    document = models.OneToOneField(
        "billing.Document", on_delete=models.PROTECT, related_name="refund"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    method = models.CharField(max_length=10, choices=Method.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    mandate = models.ForeignKey(
        Mandate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        RefundBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    cheque_number = models.CharField(max_length=30, blank=True)
    created_on = models.DateField()
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["created_on", "id"]
        verbose_name = _("remboursement")
        verbose_name_plural = _("remboursements")

    def __str__(self) -> str:
        return f"{self.document_id} {self.amount}"
