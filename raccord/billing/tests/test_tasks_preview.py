"""The preview task: the same figures as a direct dry run, kept in the cache with its
progress, nothing written (B8)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from raccord.billing.models import BillingRun, Document
from raccord.billing.run import billing_run
from raccord.billing.tasks_preview import (
    PREVIEW_TIMEOUT,
    billing_preview_task,
    preview_cache_key,
    preview_get,
    preview_running,
    preview_start,
)
from raccord.conftest import paris
from raccord.core.models import OperatorProfile, Policy

pytestmark = pytest.mark.django_db
FEBRUARY = date(2027, 2, 1)


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def subscribers(signup_request, activate) -> int:
    for day in (5, 12, 20):
        activate(signup_request, on=date(2027, 1, day))
    return 3


def test_the_task_stores_the_same_figures_as_a_direct_dry_run__B8(subscribers: int) -> None:
    # given
    Policy.get()
    OperatorProfile.get()
    request_id = uuid.uuid4().hex
    expected = billing_run(month=FEBRUARY, at=paris(2027, 2, 2), dry_run=True)
    assert expected.invoices == subscribers  # the figures compared below are not all zero
    # when
    with CaptureQueriesContext(connection) as queries:
        returned = billing_preview_task("2027-02-01", request_id)
    # then
    stored = preview_get(month=FEBRUARY, request_id=request_id)
    assert stored == returned
    assert stored is not None
    assert stored["status"] == "done"
    assert (stored["invoices"], stored["credit_notes"]) == (
        expected.invoices,
        expected.credit_notes,
    )
    assert Decimal(stored["total_invoiced"]) == expected.total_invoiced
    assert Decimal(stored["total_credited"]) == expected.total_credited
    assert stored["run_date"] == expected.run_date.isoformat()
    assert stored["computed_at"]
    assert stored["message"] == ""
    # nothing written
    assert _writes(queries) == []
    assert not BillingRun.objects.exists()
    assert not Document.objects.exists()


def test_the_task_reports_its_progress_batch_by_batch(subscribers: int, monkeypatch) -> None:
    # given batches of one customer, and a spy on what the cache holds after each batch
    import raccord.billing.tasks_preview as module

    request_id = uuid.uuid4().hex
    seen: list[tuple[str, int, int | None]] = []
    real_run = module.billing_run

    def run_in_small_batches(**kwargs):
        progress = kwargs["progress"]

        def spy(done: int, total: int) -> None:
            progress(done, total)
            state = preview_get(month=FEBRUARY, request_id=request_id)
            assert state is not None
            seen.append((state["status"], state["done"], state["total"]))

        return real_run(**{**kwargs, "progress": spy, "batch_size": 1})

    monkeypatch.setattr(module, "billing_run", run_in_small_batches)
    # when
    billing_preview_task("2027-02-01", request_id)
    # then
    assert seen == [("running", n, subscribers) for n in range(1, subscribers + 1)]
    stored = preview_get(month=FEBRUARY, request_id=request_id)
    assert stored is not None
    assert (stored["status"], stored["done"], stored["total"]) == ("done", 3, 3)


def test_a_failure_is_stored_with_a_french_message_not_raised(monkeypatch, db: None) -> None:
    def boom(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("raccord.billing.tasks_preview.billing_run", boom)
    request_id = uuid.uuid4().hex
    billing_preview_task("2027-02-01", request_id)
    stored = preview_get(month=FEBRUARY, request_id=request_id)
    assert stored is not None
    assert stored["status"] == "failed"
    assert stored["message"].startswith("Le calcul de l'aperçu a échoué.")
    assert "database gone" not in stored["message"]


def test_a_month_without_customers_is_done_with_zeros(db: None) -> None:
    request_id = uuid.uuid4().hex
    billing_preview_task("2027-02-01", request_id)
    stored = preview_get(month=FEBRUARY, request_id=request_id)
    assert stored is not None
    assert (stored["status"], stored["done"], stored["total"], stored["invoices"]) == (
        "done",
        0,
        0,
        0,
    )


def test_the_entry_is_per_month_and_request_and_expires(monkeypatch, db: None) -> None:
    # given
    timeouts: list[int | None] = []
    real_set = cache.set

    def spy_set(key, value, timeout=None, **kwargs):
        timeouts.append(timeout)
        return real_set(key, value, timeout, **kwargs)

    monkeypatch.setattr(cache, "set", spy_set)
    request_id = uuid.uuid4().hex
    # when
    preview_start(month=FEBRUARY, request_id=request_id, at=paris(2027, 2, 2))
    # then the entry, and the month's pointer to the preview computing, expire together
    assert timeouts == [PREVIEW_TIMEOUT, PREVIEW_TIMEOUT]
    assert preview_running(month=FEBRUARY, now=paris(2027, 2, 2)) == request_id
    assert preview_get(month=FEBRUARY, request_id=request_id) is not None
    assert preview_get(month=date(2027, 3, 1), request_id=request_id) is None
    assert preview_get(month=FEBRUARY, request_id=uuid.uuid4().hex) is None
    # an id that is not ours never reaches the cache key
    assert preview_get(month=FEBRUARY, request_id="../" + request_id) is None
    cache.delete(preview_cache_key(month=FEBRUARY, request_id=request_id))
    assert preview_get(month=FEBRUARY, request_id=request_id) is None
