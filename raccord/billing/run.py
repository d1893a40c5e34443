"""The monthly run (B1-B8).

Run for month M, dated M's invoice day: every contract activated on or before M-01 is charged
from the day after what was already billed up to the end of M (or its end date), one line per
product per calendar-month segment (M3); days already charged past an end date are credited
(B3, B4); the set-up fee goes on the first invoice that bills the subscription (B2); pending
one-off items wait here (B5). One document per customer: an invoice if its total is ≥ 0, a
credit note otherwise (B6).

Idempotent and resumable (B8): customers are processed in batches, each batch in one
transaction that numbers and inserts its documents and moves the subscriptions'
``billed_through`` and the items' ``document`` together. A crash rolls back the batch in
progress (its numbers too: no gap); running the month again skips the customers that already
have their document and finds nothing more to bill for the others.

Reads and writes are set-based: a batch costs a constant number of queries, whatever its size.

On PostgreSQL, outside a transaction, the run is a pipeline of threads, each with its own
connection: a reader reads the next batch, this thread computes the current one, and two
writers write the previous ones, each batch in its own transaction. A batch's subscription and
contract updates are written while the batch before it is stored and committed; its documents
are numbered and stored only once that batch has committed, so documents are numbered in batch
order exactly as without the threads, which only move the waiting on the database off the
thread that computes. A failed write stops the run: the batch after it rolls back too.

What a batch bills is computed in ``raccord.billing.run_plan``; its writes, and the
threads of the pipeline, are in ``raccord.billing.run_pipeline``."""

from __future__ import annotations

import functools
import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum

from raccord.billing.documents import documents_build
from raccord.billing.models import BillingRun, Document, PendingItem
from raccord.billing.run_pipeline import _reads_ahead, _write, _Writer
from raccord.billing.run_plan import _plan, _Reads, _reads, month_start
from raccord.contracts.models import Contract, Subscription
from raccord.core.models import Policy
from raccord.core.money import ZERO, round_half_up
from raccord.customers.models import Customer
from raccord.payments.models import Mandate

BATCH_SIZE = 2000
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    month: date
    run_date: date
    invoices: int
    credit_notes: int
    total_invoiced: Decimal
    total_credited: Decimal
    dry_run: bool


def run_date_of(month: date, policy: Policy | None = None) -> date:
    """B1: the run of month M happens, and its documents are dated, on M's invoice day."""
    return month_start(month).replace(day=(policy or Policy.get()).invoice_day)


def _customer_batches(batch_size: int) -> Iterator[list[int]]:
    """Every customer id, in ascending batches (keyset pagination: memory flat in N)."""
    last = 0
    while True:
        ids = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _batch(
    reads: _Reads,
    *,
    run: BillingRun | None,
    month: date,
    run_date: date,
    preview: RunResult,
    render_pdfs: bool,
    writer: _Writer | None = None,
) -> RunResult:
    """Bill one batch of customers (a dry run only adds it to ``preview``, which it returns).
    With a ``writer``, the batch is handed to it and written while the next one is computed."""
    plan = _plan(reads, month=month, run_date=run_date) if reads.customer_ids else None
    if plan is None or not plan.drafts:
        return preview
    if run is None:
        invoices = [d.total for d in plan.drafts if d.kind == Document.Kind.INVOICE]
        credits = [d.total for d in plan.drafts if d.kind == Document.Kind.CREDIT_NOTE]
        return replace(
            preview,
            invoices=preview.invoices + len(invoices),
            credit_notes=preview.credit_notes + len(credits),
            total_invoiced=preview.total_invoiced + sum(invoices, start=ZERO),
            total_credited=preview.total_credited + sum(credits, start=ZERO),
        )
    built = documents_build(drafts=plan.drafts, issue_date=run.run_date, run=run, infos=reads.infos)
    write = functools.partial(_write, plan, built, run=run, render_pdfs=render_pdfs)
    if writer is None:
        write()
    else:
        writer.submit(write)
    return preview


_READ_TABLES = (Customer, Contract, Subscription, PendingItem, Document, Mandate)


def _statistics_ensure() -> None:
    """PostgreSQL plans the batch reads from table statistics: without them (a database just
    loaded or migrated, before autovacuum's first pass) it may read a whole table for every
    batch. Tables never analysed, or changed by more than a fifth since, are analysed first
    (a sample: well under a second at a million rows)."""
    if connection.vendor != "postgresql":
        return
    names = [model._meta.db_table for model in _READ_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND ("
            "COALESCE(last_analyze, last_autoanalyze) IS NULL "
            "OR n_mod_since_analyze > 0.2 * GREATEST(n_live_tup, 1000))",
            [names],
        )
        stale = [row[0] for row in cursor.fetchall()]
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")


def _pipelined() -> bool:
    """A writer thread has its own connection: it cannot see what an open transaction of this
    one holds (a test's, a request's), and SQLite has one writer anyway."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A batch allocates hundreds of thousands of small objects that reference counting frees
    (no cycles); the cyclic collector would scan them again and again while they live, about a
    quarter of the run's time (measured). It is paused during a batch and runs between them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def billing_run(
    *,
    month: date,
    at: datetime,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    render_pdfs: bool = True,
    shard: tuple[int, int] | None = None,
) -> RunResult:
    """Run (or resume) the monthly run of ``month``; ``at`` is when it is started.

    ``shard=(i, n)``: process only every n-th batch of customers, starting at the i-th, so that
    n workers share a run (the numbering lock keeps the series gapless and in issue order). A
    shard never closes the run: a last pass without ``shard`` completes whatever is left and
    marks it done."""
    started = time.monotonic()
    policy = Policy.get()
    month = month_start(month)
    run_date = run_date_of(month, policy)
    run: BillingRun | None = None
    if not dry_run:
        run, _created = BillingRun.objects.get_or_create(
            month=month, defaults={"run_date": run_date, "started_at": at}
        )
        if run.status == BillingRun.Status.DONE:
            return _result(run, dry_run=False)
    total_customers = Customer.objects.count()
    done = 0
    preview = RunResult(
        month=month,
        run_date=run_date,
        invoices=0,
        credit_notes=0,
        total_invoiced=ZERO,
        total_credited=ZERO,
        dry_run=True,
    )
    _statistics_ensure()
    pipelined = run is not None and _pipelined()
    read = functools.partial(_reads, run=run, run_date=run_date)
    batches = (
        batch
        for index, batch in enumerate(_customer_batches(batch_size))
        if shard is None or index % shard[1] == shard[0]
    )
    reader = _reads_ahead(read, batches) if pipelined else None
    all_reads: Iterator[_Reads] = reader if reader is not None else map(read, batches)
    writer = _Writer() if pipelined else None
    try:
        for reads in all_reads:
            with _cyclic_gc_paused():
                preview = _batch(
                    reads,
                    run=run,
                    month=month,
                    run_date=run_date,
                    preview=preview,
                    render_pdfs=render_pdfs,
                    writer=writer,
                )
            done += reads.size
            if progress is not None:
                progress(done, total_customers)
        if writer is not None:
            writer.wait()
    finally:
        # both always closed, whatever was raised, and nothing raised here hides it
        try:
            if writer is not None:
                writer.close()
        finally:
            if reader is not None:
                reader.close()
    if run is None:
        return preview
    if shard is not None:
        return _result(run, dry_run=False)
    counts = Document.objects.filter(run=run).values("kind").annotate(n=Count("pk"))
    per_kind = {row["kind"]: row["n"] for row in counts}
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DONE,
        # the run's own clock: started ``at``, plus what it took (a run dated in the past, by
        # the demo or the simulator, does not seem to have lasted until today)
        finished_at=at + timedelta(seconds=time.monotonic() - started),
        invoices=per_kind.get(Document.Kind.INVOICE, 0),
        credit_notes=per_kind.get(Document.Kind.CREDIT_NOTE, 0),
    )
    run.refresh_from_db()
    return _result(run, dry_run=False)


def _result(run: BillingRun, *, dry_run: bool) -> RunResult:
    totals = Document.objects.filter(run=run).values("kind").annotate(total=Sum("total"))
    # SQLite sums decimals as floats (113.700000000000): back to cents.
    per_kind = {row["kind"]: round_half_up(row["total"]) for row in totals}
    return RunResult(
        month=run.month,
        run_date=run.run_date,
        invoices=run.invoices,
        credit_notes=run.credit_notes,
        total_invoiced=per_kind.get(Document.Kind.INVOICE) or ZERO,
        total_credited=per_kind.get(Document.Kind.CREDIT_NOTE) or ZERO,
        dry_run=dry_run,
    )
