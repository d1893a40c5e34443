"""Storing a document's PDF once: rendered after issue, kept, never regenerated (B9)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import get_valid_filename

from raccord.billing.models import Document
from raccord.billing.pdf.render import render_document


def documents_pdf_store(documents: Sequence[Document]) -> int:
    """``document_pdf_store`` for many documents: each rendered first, then one transaction
    locks their rows, stores the files of those still without one and updates them in one
    statement (a PDF worker's chunk costs two queries, not two per document). Returns how many
    were stored now; documents that already have a PDF keep it, untouched."""
    rendered = {d.pk: (d, render_document(d)) for d in documents if not d.pdf}
    if not rendered:
        return 0
    with transaction.atomic():
        rows = list(
            Document.objects.select_for_update()
            .filter(pk__in=list(rendered))
            .only("pk", "issue_date", "number", "pdf", "pdf_sha256")
            .order_by("pk")
        )
        changed = []
        for current in rows:
            document, data = rendered[current.pk]
            if current.pdf:
                document.pdf, document.pdf_sha256 = current.pdf, current.pdf_sha256
                continue
            current.pdf.save(
                get_valid_filename(f"{current.number}.pdf"), ContentFile(data), save=False
            )
            current.pdf_sha256 = hashlib.sha256(data).hexdigest()
            document.pdf, document.pdf_sha256 = current.pdf, current.pdf_sha256
            changed.append(current)
        # only the PDF fields: what ``Document.save`` allows after issue
        Document.objects.bulk_update(changed, ["pdf", "pdf_sha256"], batch_size=500)
    return len(changed)


def document_pdf_store(*, document: Document) -> None:
    """Render ``document`` and attach the PDF and its SHA-256. Idempotent: a document that
    already has a PDF keeps it, untouched.

    The rendering happens before the row lock (it is the slow part); the lock then makes two
    workers handed the same document (a redelivered task) store one file, not two."""
    documents_pdf_store([document])
