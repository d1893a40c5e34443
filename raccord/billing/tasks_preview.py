"""The monthly run's preview (dry run) as a Celery task whose result waits in the cache.

A dry run over a million customers takes minutes: far too long for a request. The back-office
queues this task and polls the cache entry it keeps up to date (status, customers done out of
the total, then the figures). The entry is keyed by month and request id and expires after
``PREVIEW_TIMEOUT`` seconds; nothing is written to the database. Without a broker (eager
Celery) the task runs inside the request that queues it and the result is there at once.

A preview reads every customer: minutes of a worker at a million. A month has at most one
preview computing at a time (``preview_running``: asking again joins it), and the page limits
how many an agent may ask for (``PREVIEW_RATE_LIMIT``)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from raccord.billing.run import billing_run

logger = logging.getLogger(__name__)

PREVIEW_TIMEOUT = 60 * 60  # one hour: long enough to read it and launch the run
# A preview still "running" that has not moved for this long lost its worker: a new one may start.
PREVIEW_STALE_AFTER = 10 * 60
STATUS_RUNNING = "running"
STATUS_DONE = "done"
STATUS_FAILED = "failed"
_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def preview_request_id_valid(*, request_id: str) -> bool:
    """Ids are uuid4 hex strings; anything else is refused before it reaches the cache key."""
    return bool(_REQUEST_ID.match(request_id))


def preview_cache_key(*, month: date, request_id: str) -> str:
    return f"billing-preview:{month:%Y-%m}:{request_id}"


def preview_get(*, month: date, request_id: str) -> dict[str, Any] | None:
    """The stored state of a preview, or None if it is unknown or has expired."""
    if not preview_request_id_valid(request_id=request_id):
        return None
    value = cache.get(preview_cache_key(month=month, request_id=request_id))
    return value if isinstance(value, dict) else None


def _current_key(month: date) -> str:
    return f"billing-preview-current:{month:%Y-%m}"


def _store(*, month: date, request_id: str, state: dict[str, Any], at: datetime) -> None:
    state["updated_at"] = at.isoformat()
    cache.set(preview_cache_key(month=month, request_id=request_id), state, PREVIEW_TIMEOUT)


def preview_running(*, month: date, now: datetime) -> str | None:
    """The request id of the month's preview still computing (queued, or moved less than
    ``PREVIEW_STALE_AFTER`` seconds before ``now``), else None."""
    request_id = cache.get(_current_key(month))
    if not isinstance(request_id, str):
        return None
    state = preview_get(month=month, request_id=request_id)
    if state is None or state.get("status") != STATUS_RUNNING:
        return None
    moved = state.get("updated_at") or state.get("requested_at")
    try:
        moved_at = datetime.fromisoformat(str(moved))
    except ValueError:
        return None
    if (now - moved_at).total_seconds() > PREVIEW_STALE_AFTER:
        return None
    return request_id


def preview_start(*, month: date, request_id: str, at: datetime) -> dict[str, Any]:
    """The entry the page finds while the task waits for a worker (status running, 0 done)."""
    state: dict[str, Any] = {
        "month": month.isoformat(),
        "request_id": request_id,
        "status": STATUS_RUNNING,
        "requested_at": at.isoformat(),
        "done": 0,
        "total": None,
        "message": "",
    }
    _store(month=month, request_id=request_id, state=state, at=at)
    cache.set(_current_key(month), request_id, PREVIEW_TIMEOUT)
    return state


@shared_task(acks_late=True)
def billing_preview_task(month_iso: str, request_id: str) -> dict[str, Any]:
    """Compute the dry run of the month and keep the cache entry up to date as it goes.

    A failure is stored as such with a French message (the page shows it) instead of being
    raised: in eager mode it would otherwise turn the agent's request into an error page."""
    month = date.fromisoformat(month_iso).replace(day=1)
    state = preview_get(month=month, request_id=request_id) or preview_start(
        month=month, request_id=request_id, at=timezone.now()
    )
    state = {**state, "status": STATUS_RUNNING, "started_at": timezone.now().isoformat()}
    _store(month=month, request_id=request_id, state=state, at=timezone.now())

    def progress(done: int, total: int) -> None:
        state.update(done=done, total=total)
        _store(month=month, request_id=request_id, state=state, at=timezone.now())

    try:
        result = billing_run(month=month, at=timezone.now(), dry_run=True, progress=progress)
    except Exception:
        logger.exception("billing preview failed month=%s request=%s", month_iso, request_id)
        state.update(
            status=STATUS_FAILED,
            message=_(
                "Le calcul de l'aperçu a échoué. Rien n'a été enregistré ; demandez un nouvel "
                "aperçu ou prévenez l'équipe technique si l'échec se répète."
            ),
        )
        _store(month=month, request_id=request_id, state=state, at=timezone.now())
        return state
    if state.get("total") is None:
        # no customer at all: the run never called back
        state.update(done=0, total=0)
    state.update(
        status=STATUS_DONE,
        run_date=result.run_date.isoformat(),
        invoices=result.invoices,
        credit_notes=result.credit_notes,
        total_invoiced=str(result.total_invoiced),
        total_credited=str(result.total_credited),
        computed_at=timezone.now().isoformat(),
        message="",
    )
    _store(month=month, request_id=request_id, state=state, at=timezone.now())
    return state
