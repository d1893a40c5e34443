"""The monthly run as a Celery task (the back-office launches it; Celery beat may schedule it)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from raccord.billing.run import billing_run
from raccord.core.identity import seller_identity_check


@shared_task(acks_late=True)
def billing_run_shard_task(month_iso: str, index: int, count: int) -> None:
    """One worker's share of a run (every ``count``-th batch from the ``index``-th)."""
    billing_run(
        month=date.fromisoformat(month_iso).replace(day=1), at=timezone.now(), shard=(index, count)
    )


@shared_task(acks_late=True)
def billing_run_task(month_iso: str) -> dict[str, str | int]:
    """Run (or resume) the month; safe to deliver twice: the run is idempotent (B8). Refused
    while the operator's identity, which every invoice carries (B9), is incomplete."""
    seller_identity_check()
    result = billing_run(month=date.fromisoformat(month_iso).replace(day=1), at=timezone.now())
    return {
        "month": result.month.isoformat(),
        "invoices": result.invoices,
        "credit_notes": result.credit_notes,
        "total_invoiced": str(result.total_invoiced),
        "total_credited": str(result.total_credited),
    }
