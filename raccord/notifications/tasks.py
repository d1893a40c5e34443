"""Email tasks: they take primary keys and call a service (queued after commit)."""

from __future__ import annotations

from celery import shared_task

from raccord.notifications.services import order_summary_send


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def order_summary_email(contract_id: int) -> None:
    order_summary_send(contract_id=contract_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def dunning_reminder_email(case_id: int, debit_id: int, fee: str = "") -> None:
    """P6: the reminder after a returned debit, sent by a worker (a returns file may hold
    hundreds of entries)."""
    from raccord.payments.dunning import dunning_reminder_send

    dunning_reminder_send(case_id=case_id, debit_id=debit_id, fee=fee)
