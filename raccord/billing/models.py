"""Billing: pending one-off items, monthly runs, invoices and credit notes (B1-B9).

An issued document is immutable: it copies the seller, buyer and payment data it shows, is
never edited or deleted, and is corrected only by a credit note that references it (B7)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from raccord.catalog.models import vat_field


class LineKind(models.TextChoices):
    SETUP_FEE = "setup_fee", _("frais de mise en service")
    SUBSCRIPTION = "subscription", _("abonnement")
    SUBSCRIPTION_CREDIT = "subscription_credit", _("avoir sur abonnement")
    EARLY_TERMINATION = "early_termination", _("indemnité de résiliation anticipée")
    TERMINATION_FEE = "termination_fee", _("frais de résiliation")
    CHANGE_FEE = "change_fee", _("frais de changement d'offre")
    NON_RETURN_FEE = "non_return_fee", _("frais de non-restitution du matériel")
    NON_RETURN_REFUND = "non_return_refund", _("remboursement des frais de non-restitution")
    GESTURE = "gesture", _("geste commercial")
    CALLS = "calls", _("communications hors forfait")
    WITHDRAWAL = "withdrawal", _("rétractation")
    REFUND = "refund", _("remboursement")
    REJECTION_FEE = "rejection_fee", _("frais de rejet de prélèvement")


class Section(models.TextChoices):
    """The three sections of an invoice (B9)."""

    SUBSCRIPTIONS = "subscriptions", _("Abonnements et options")
    COMMUNICATIONS = "communications", _("Communications")
    OTHER = "other", _("Autres éléments")


# Every kind's section, keyed by the plain string (the run looks it up for every line).
SECTION_OF_KIND: dict[str, str] = {kind.value: Section.OTHER.value for kind in LineKind} | {
    LineKind.SUBSCRIPTION.value: Section.SUBSCRIPTIONS.value,
    LineKind.SUBSCRIPTION_CREDIT.value: Section.SUBSCRIPTIONS.value,
    LineKind.CALLS.value: Section.COMMUNICATIONS.value,
}


def section_of(kind: str) -> str:
    """The invoice section of a line kind (B9); an unknown kind is an error."""
    return SECTION_OF_KIND[str(kind)]


class PendingItem(models.Model):
    """A one-off amount waiting for the next monthly run (B5): fees, gestures, refunds.

    ``amount`` is signed (a gesture or a refund is negative), VAT-inclusive, already rounded
    once (M2). ``created_on`` is the business date it arose (C11: E); the first run on or after
    that date bills it and sets ``document``."""

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="pending_items"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="pending_items"
    )
    kind = models.CharField(max_length=24, choices=LineKind.choices)
    product = models.CharField(max_length=30, blank=True)
    label = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    vat_rate = vat_field()
    created_on = models.DateField(db_index=True)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    # What the explanation of the line needs (days, weights, reason…), never re-derived later.
    data = models.JSONField(default=dict, blank=True)
    # A natural key that makes the service that creates the item idempotent (e.g. "c11:<contract>").
    key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    document = models.ForeignKey(
        "Document", null=True, blank=True, on_delete=models.PROTECT, related_name="pending_items"
    )
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_on", "id"]
        indexes = [models.Index(fields=["document", "created_on"])]
        verbose_name = _("élément à facturer")
        verbose_name_plural = _("éléments à facturer")

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"


class BillingRun(models.Model):
    """The monthly run of month M (B1), dated on M's invoice day. Its status makes an interrupted
    run visible; running it again resumes it and issues each document exactly once (B8)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")

    month = models.DateField(_("mois"), unique=True, help_text=_("premier jour du mois facturé"))
    run_date = models.DateField(_("date des documents"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    invoices = models.PositiveIntegerField(default=0)
    credit_notes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]
        verbose_name = _("facturation mensuelle")
        verbose_name_plural = _("facturations mensuelles")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.get_status_display()})"


def document_pdf_path(document: Document, filename: str) -> str:
    """PDFs are filed by month of issue, whenever they are rendered."""
    return f"documents/{document.issue_date:%Y/%m}/{filename}"


class SellerCopy(models.Model):
    """The operator's details as printed on documents (B9), stored once per distinct version:
    every document of a month names the same seller, and a copy on each row was 40 % of a
    document row (a million rows a month). Immutable, like the documents naming it."""

    digest = models.CharField(max_length=64, unique=True)
    data = models.JSONField()

    class Meta:
        verbose_name = _("coordonnées du vendeur imprimées")
        verbose_name_plural = _("coordonnées du vendeur imprimées")

    def __str__(self) -> str:
        return str(self.data.get("legal_name") or self.digest[:12])


def seller_copy_for(data: dict[str, Any]) -> int:
    """The id of the copy of ``data``, created the first time it is printed."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    digest = hashlib.sha256(text.encode()).hexdigest()
    copy, _created = SellerCopy.objects.get_or_create(digest=digest, defaults={"data": data})
    return copy.pk


class Document(models.Model):
    """An invoice or a credit note (B6). Immutable once issued."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("facture")
        CREDIT_NOTE = "credit_note", _("avoir")

    # Documents are written a million at a time by the monthly run, so what each row costs the
    # database is chosen (measured, PostgreSQL, 100,000 documents and 150,000 lines): a
    # foreign-key constraint is a check per row at commit that also locks the referenced row,
    # about 1 s per 100,000 rows each; an index about 0.4 s. Customers, runs, contracts and
    # documents are never deleted (PROTECT, and ``delete`` refuses), and documents and lines
    # are only written together by ``documents_write``: those references are kept by the code
    # (and checked by the tests), not by constraints. The number is unique by a constraint, not
    # ``unique=True``, which would add a second, pattern-matching index nothing uses.
    kind = models.CharField(max_length=12, choices=Kind.choices)
    number = models.CharField(_("numéro"), max_length=30)
    issue_date = models.DateField(_("date d'émission"), db_index=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="documents",
        db_constraint=False,
    )
    run = models.ForeignKey(
        BillingRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        db_constraint=False,
        db_index=False,  # the (run, customer) constraint's index serves it
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text=_("la facture que cet avoir corrige"),
        db_index=False,  # a partial index below: most documents correct nothing
    )
    total = models.DecimalField(_("total TTC"), max_digits=12, decimal_places=2)
    # [{"rate": "0.20", "net": "…", "vat": "…", "gross": "…"}] — M2.
    vat_breakdown = models.JSONField(default=list)
    # Copies made at issue: what the document shows never changes afterwards (B9). The
    # seller's is shared by the documents printing the same details (``seller``, below).
    seller_copy = models.ForeignKey(
        SellerCopy,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    buyer = models.JSONField(default=dict)
    # {"method": "sepa", "debit_date", "mandate", "iban_masked"} | {"method": "cheque",
    # "due_before"} | {"method": "refund"}
    payment = models.JSONField(default=dict)
    # Copied from ``payment`` as columns, so that the debit file (P2) and the cheque follow-up
    # (P5) find their invoices by index: "sepa", "cheque" or "refund"; the debit date or the
    # cheque due date.
    payment_method = models.CharField(max_length=8, blank=True)
    due_date = models.DateField(null=True, blank=True)
    # Per contract: {"reference", "offer", "commitment_end" | null}
    contracts = models.JSONField(default=list)
    pdf = models.FileField(upload_to=document_pdf_path, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["issue_date", "id"]
        indexes = [
            models.Index(fields=["payment_method", "due_date"]),
            models.Index(
                fields=["corrects"],
                condition=models.Q(corrects__isnull=False),
                name="document_corrects",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="document_number_unique"),
            # One document per customer and run: the run's idempotency (B6, B8).
            models.UniqueConstraint(
                fields=["run", "customer"], name="one_document_per_customer_and_run"
            ),
        ]
        verbose_name = _("document de facturation")
        verbose_name_plural = _("documents de facturation")

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is None and self.seller_copy_id is None:
            self.seller_copy_id = seller_copy_for(getattr(self, "_seller", None) or {})
        update_fields = kwargs.get("update_fields")
        # Only the rendered PDF may be attached after issue.
        if self.pk is not None and (
            update_fields is None or set(update_fields) - {"pdf", "pdf_sha256"}
        ):
            raise ValueError("an issued document never changes")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("an issued document is never deleted")

    @property
    def seller(self) -> dict[str, Any]:
        """The seller as printed on this document."""
        unsaved = getattr(self, "_seller", None)
        if unsaved is not None:
            return unsaved
        if self.seller_copy_id is None:
            return {}
        return dict(self.seller_copy.data)

    @seller.setter
    def seller(self, value: dict[str, Any]) -> None:
        # an unsaved document (a preview, a test); issued ones get ``seller_copy_id``
        self._seller = value


class DocumentLine(models.Model):
    # No database constraints on the references: see ``Document``.
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    position = models.PositiveSmallIntegerField()
    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    kind = models.CharField(max_length=24, choices=LineKind.choices)
    section = models.CharField(max_length=16, choices=Section.choices)
    product = models.CharField(max_length=30, blank=True)
    label = models.CharField(max_length=200)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    amount = models.DecimalField(_("montant TTC"), max_digits=10, decimal_places=2)
    vat_rate = vat_field()
    # What the plain-French explanation needs: days, days_in_month, monthly_price, weights…
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["document_id", "position"]
        verbose_name = _("ligne de document")
        verbose_name_plural = _("lignes de document")

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"
