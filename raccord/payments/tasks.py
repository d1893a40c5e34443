"""Payments tasks: a month's debit files made by a worker when the back-office asks for a big
one (a million debits take minutes, longer than a web request may last)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record

logger = logging.getLogger(__name__)

# Above this many invoices to debit, the back-office hands the month to a worker (when one runs).
BACKGROUND_FROM = 20_000


@shared_task(acks_late=True)
def debit_files_create(month: str, user_id: int, version: str, force: bool) -> list[str]:
    """``debit_files_for_month`` for ``month`` (ISO date of its first day) in a worker, as the
    agent ``user_id``. A refusal (P2 deadline, missing creditor data) is recorded in the
    history, where the back-office shows it; returns the message ids made or brought up to date."""
    from raccord.payments.debits import debit_files_for_month

    user = get_user_model().objects.get(pk=user_id)
    actor = Actor.agent(user)
    try:
        results = debit_files_for_month(
            month=date.fromisoformat(month),
            at=timezone.now(),
            actor=actor,
            version=version,
            force=force,
        )
    except DomainError as error:
        logger.warning("debit files refused", extra={"month": month, "error": error.message})
        event_record(
            actor=actor,
            verb="payments.debit_file_refused",
            at=timezone.now(),
            subject_type="debit_batch",
            summary=f"Fichier de prélèvements de {month[:7]} refusé : {error.message}",
            data={"month": month, "error": error.message},
        )
        return []
    return [r.batch.message_id for r in results if r.batch is not None]
