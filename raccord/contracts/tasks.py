"""Contract tasks: thin wrappers around services (STYLE habit 7)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from raccord.contracts.daily import daily_run


@shared_task(acks_late=True)
def daily_jobs() -> dict[str, Any]:
    """The daily jobs for today's Paris date (celery beat, shortly after midnight)."""
    report = daily_run(on=timezone.localdate())
    return {
        "on": report.on.isoformat(),
        "activated": report.activated,
        "terminated": report.terminated,
        "non_return_fees": report.non_return_fees,
        "errors": report.errors,
    }
