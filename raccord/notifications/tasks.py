"""Email tasks: they take primary keys and call a service (queued after commit)."""

from __future__ import annotations

from celery import shared_task

from raccord.notifications.services import order_summary_send


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def order_summary_email(contract_id: int) -> None:
    order_summary_send(contract_id=contract_id)
