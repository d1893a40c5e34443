"""Billing tasks: they take primary keys and call a service (queued after commit)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from raccord.billing.models import Document
from raccord.billing.pdf.store import documents_pdf_store


@shared_task(
    acks_late=True,
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def documents_render(document_ids: list[int]) -> int:
    """Render and store the PDFs of a chunk of issued documents (B9); returns how many were
    stored now. Idempotent: documents that already have their PDF are skipped, so a task
    delivered twice, or retried after a failure halfway, stores each PDF once."""
    documents = (
        Document.objects.filter(pk__in=document_ids, pdf="")
        .select_related("corrects", "seller_copy")
        .prefetch_related("lines")
        .order_by("pk")
    )
    return documents_pdf_store(list(documents))
