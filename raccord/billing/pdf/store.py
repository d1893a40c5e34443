"""Storing a document's PDF once: rendered after issue, kept, never regenerated (B9)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import get_valid_filename

from raccord.billing.models import Document
from raccord.billing.pdf.render import render_document


def document_pdf_store(*, document: Document) -> None:
    """Render ``document`` and attach the PDF and its SHA-256. Idempotent: a document that
    already has a PDF keeps it, untouched.

    The rendering happens before the row lock (it is the slow part); the lock then makes two
    workers handed the same document (a redelivered task) store one file, not two."""
    if document.pdf:
        return
    data = render_document(document)
    with transaction.atomic():
        locked = Document.objects.select_for_update().only("pk", "issue_date", "pdf", "pdf_sha256")
        current = locked.get(pk=document.pk)
        if current.pdf:
            document.pdf, document.pdf_sha256 = current.pdf, current.pdf_sha256
            return
        current.pdf.save(
            get_valid_filename(f"{document.number}.pdf"), ContentFile(data), save=False
        )
        current.pdf_sha256 = hashlib.sha256(data).hexdigest()
        current.save(update_fields=["pdf", "pdf_sha256"])
    document.pdf, document.pdf_sha256 = current.pdf, current.pdf_sha256
