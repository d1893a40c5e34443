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
thread that computes. A failed write stops the run: the batch after it rolls back too."""

from __future__ import annotations

import calendar
import contextlib
import functools
import gc
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from raccord.billing.documents import DraftDocument, DraftLine, documents_build
from raccord.billing.documents_copies import CustomerInfo, documents_customers_read
from raccord.billing.documents_storage import BuiltDocuments, IssuedDocument, documents_store
from raccord.billing.models import BillingRun, Document, LineKind, PendingItem
from raccord.contracts.models import Contract, Subscription
from raccord.core.bulk import ids_update
from raccord.core.models import Policy
from raccord.core.money import ZERO, round_half_up
from raccord.customers.models import Customer
from raccord.payments.models import Mandate

BATCH_SIZE = 2000
NO_SETUP_FEE = {Contract.Status.WITHDRAWN, Contract.Status.CANCELLED}
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


def month_start(day: date) -> date:
    return day.replace(day=1)


@functools.cache
def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_end(day: date) -> date:
    return day.replace(day=_days_in_month(day.year, day.month))


def run_date_of(month: date, policy: Policy | None = None) -> date:
    """B1: the run of month M happens, and its documents are dated, on M's invoice day."""
    return month_start(month).replace(day=(policy or Policy.get()).invoice_day)


def month_segments(start: date, end: date) -> Iterator[tuple[date, date]]:
    """Split the inclusive span [start, end] at month boundaries (M3)."""
    current = start
    while current <= end:
        last = min(end, month_end(current))
        yield current, last
        current = last + timedelta(days=1)


def segment_cents(monthly_cents: int, days: int, days_in_month: int) -> int:
    """monthly × days / days_in_month, exact, rounded once half-up to the cent (M2, M3).

    Integer arithmetic on cents: the same result as Fraction + round_half_up, much faster."""
    return (2 * monthly_cents * days + days_in_month) // (2 * days_in_month)


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)  # two places, as stored: 29.90, not 29.9


class _Lines:
    """Subscription lines of one batch. Thousands of lines repeat the same amounts and the same
    explanation data: each distinct amount is made once, and identical lines share one data
    dict (never changed afterwards), which ``documents_write`` serialises once."""

    def __init__(self) -> None:
        self._amounts: dict[int, Decimal] = {}
        self._data: dict[tuple[int, int, str, str], dict[str, Any]] = {}

    def amount(self, cents: int) -> Decimal:
        amount = self._amounts.get(cents)
        if amount is None:
            amount = self._amounts[cents] = _money(cents)
        return amount

    def data(self, days: int, dim: int, monthly_price: str, reason: str) -> dict[str, Any]:
        key = (days, dim, monthly_price, reason)
        data = self._data.get(key)
        if data is None:
            data = self._data[key] = {
                "days": days,
                "days_in_month": dim,
                "monthly_price": monthly_price,
                "full_month": days == dim,
                **({"reason": reason} if reason else {}),
            }
        return data

    def subscription(
        self, sub: tuple[Any, ...], start: date, end: date, *, credit: bool, reason: str = ""
    ) -> list[DraftLine]:
        price = sub[S_PRICE]
        monthly = _cents(price)
        price_text = str(price)
        kind = LineKind.SUBSCRIPTION_CREDIT if credit else LineKind.SUBSCRIPTION
        if start.year == end.year and start.month == end.month:  # most lines: one month
            segments: Any = ((start, end),)
        else:
            segments = month_segments(start, end)
        lines = []
        for seg_start, seg_end in segments:
            days = (seg_end - seg_start).days + 1
            dim = _days_in_month(seg_start.year, seg_start.month)
            cents = monthly if days == dim else segment_cents(monthly, days, dim)
            lines.append(
                DraftLine(
                    contract_id=sub[S_CONTRACT],
                    kind=kind,
                    product=sub[S_PRODUCT],
                    label=sub[S_LABEL],
                    period_start=seg_start,
                    period_end=seg_end,
                    amount=self.amount(-cents if credit else cents),
                    vat_rate=sub[S_VAT],
                    data=self.data(days, dim, price_text, reason if credit else ""),
                )
            )
        return lines


def _credit_reason(sub: tuple[Any, ...], starts: set[tuple[int, date]]) -> str:
    """Why days already billed are given back, for the explanation: the subscriber withdrew
    (C6), the offer changed (B4: another subscription of the contract starts the day after),
    or the contract ended (B3)."""
    if sub[S_STATUS] == Contract.Status.WITHDRAWN:
        return "withdrawal"
    if (sub[S_CONTRACT], sub[S_END] + timedelta(days=1)) in starts:
        return "offer_change"
    return "end"


@dataclass
class _Plan:
    drafts: list[DraftDocument]
    # new billed_through → subscription ids
    billed_through: dict[date, list[int]]
    setup_billed_contracts: list[int]
    items: dict[int, list[int]]  # customer id → pending item ids


# The subscription columns the run reads, as tuples (a dict per row costs more than the rest
# of the line's computation), and their positions.
SUB_FIELDS = (
    "pk",
    "contract_id",
    "kind",
    "product",
    "label",
    "monthly_price",
    "vat_rate",
    "start_date",
    "end_date",
    "billed_through",
    "customer_id",
    "contract__activation_date",
    "contract__setup_fee_billed",
    "contract__setup_fee",
    "contract__setup_subsidy",
    "contract__subsidy_authority",
    "contract__offer__code",
    "contract__vat_rate",
    "contract__status",
)
(
    S_PK,
    S_CONTRACT,
    S_KIND,
    S_PRODUCT,
    S_LABEL,
    S_PRICE,
    S_VAT,
    S_START,
    S_END,
    S_THROUGH,
    S_CUSTOMER,
    S_ACTIVATION,
    S_SETUP_BILLED,
    S_SETUP_FEE,
    S_SETUP_SUBSIDY,
    S_AUTHORITY,
    S_OFFER_CODE,
    S_CONTRACT_VAT,
    S_STATUS,
) = range(len(SUB_FIELDS))


@dataclass
class _Reads:
    """What a batch reads before anything is computed: the customers still to bill, their
    subscriptions and pending items, and (for a real run) their details for the documents."""

    size: int  # customers in the batch, billed before or not
    customer_ids: list[int]
    subs: list[tuple[Any, ...]]
    items: list[Any]  # the pending items' values
    infos: dict[int, CustomerInfo] | None = None


def _reads(batch: list[int], *, run: BillingRun | None, run_date: date) -> _Reads:
    """The reads of one batch (ascending customer ids), in a constant number of queries.

    Rows are selected by the batch's id range (cheaper than a list of thousands of ids) and
    customers outside the list (already billed in this run) are skipped in Python."""
    if run is not None:
        already = set(
            Document.objects.filter(
                run=run, customer_id__gte=batch[0], customer_id__lte=batch[-1]
            ).values_list("customer_id", flat=True)
        )
        customer_ids = [cid for cid in batch if cid not in already]
    else:
        customer_ids = batch
    if not customer_ids:
        return _Reads(size=len(batch), customer_ids=[], subs=[], items=[])
    low, high = customer_ids[0], customer_ids[-1]
    subs = list(
        # both sides of the join by their customer index: the subscriptions' own range, and
        # the contracts' (else the planner may hash the whole contracts table)
        Subscription.objects.filter(
            customer_id__gte=low,
            customer_id__lte=high,
            contract__customer_id__gte=low,
            contract__customer_id__lte=high,
        )
        # something to charge, or something charged past the end to credit
        # everything but the subscriptions already settled up to their end
        .filter(
            Q(end_date__isnull=True)
            | Q(billed_through__isnull=True)
            | ~Q(billed_through=F("end_date"))
        )
        .order_by("customer_id", "contract_id", "kind", "product", "start_date")
        .values_list(*SUB_FIELDS)
    )
    items = list(
        PendingItem.objects.filter(
            customer_id__gte=low,
            customer_id__lte=high,
            document__isnull=True,
            cancelled=False,
            created_on__lte=run_date,
        )
        .order_by("customer_id", "created_on", "pk")
        .values(
            "pk",
            "customer_id",
            "contract_id",
            "kind",
            "product",
            "label",
            "amount",
            "vat_rate",
            "period_start",
            "period_end",
            "data",
        )
    )
    infos = (
        documents_customers_read(customer_ids, issue_date=run.run_date) if run is not None else None
    )
    return _Reads(size=len(batch), customer_ids=customer_ids, subs=subs, items=items, infos=infos)


def _plan(reads: _Reads, *, month: date, run_date: date) -> _Plan:
    """What the run bills to the customers of ``reads`` (computed only: no query)."""
    first, last = month_start(month), month_end(month)
    customer_ids, subs, items = reads.customer_ids, reads.subs, reads.items
    wanted = set(customer_ids)
    starts = {(sub[S_CONTRACT], sub[S_START]) for sub in subs}
    made = _Lines()
    lines: dict[int, list[DraftLine]] = defaultdict(list)
    billed: dict[date, list[int]] = defaultdict(list)
    setup_contracts: dict[int, None] = {}
    day = timedelta(days=1)
    for sub in subs:
        customer_id = sub[S_CUSTOMER]
        if customer_id not in wanted:
            continue
        start, end, through = sub[S_START], sub[S_END], sub[S_THROUGH]
        # Credit the days already charged past the end (B3, B4).
        if through is not None and end is not None and through > end:
            credit_from = max(end + day, start)
            if credit_from <= through:
                lines[customer_id] += made.subscription(
                    sub, credit_from, through, credit=True, reason=_credit_reason(sub, starts)
                )
            billed[end].append(sub[S_PK])
            continue
        activation = sub[S_ACTIVATION]
        if activation is None or activation > first:
            continue  # B1: only contracts activated on or before M-01
        charge_from = through + day if through is not None else start
        charge_to = min(end, last) if end is not None else last
        if charge_from > charge_to:
            continue
        lines[customer_id] += made.subscription(sub, charge_from, charge_to, credit=False)
        billed[charge_to].append(sub[S_PK])
        # C6: set-up fees are never owed on a withdrawal (nor on a cancelled contract).
        if (
            sub[S_KIND] == Subscription.Kind.OFFER
            and not sub[S_SETUP_BILLED]
            and sub[S_STATUS] not in NO_SETUP_FEE
        ):
            setup_fee = sub[S_SETUP_FEE]
            if setup_fee > 0 and sub[S_CONTRACT] not in setup_contracts:
                subsidy = min(sub[S_SETUP_SUBSIDY], setup_fee)
                lines[customer_id].append(
                    DraftLine(
                        contract_id=sub[S_CONTRACT],
                        kind=LineKind.SETUP_FEE,
                        product=sub[S_OFFER_CODE],
                        label="Frais de mise en service",
                        period_start=None,
                        period_end=None,
                        amount=setup_fee - subsidy,
                        vat_rate=sub[S_CONTRACT_VAT],
                        data={
                            "setup_fee": str(setup_fee),
                            "subsidy": str(subsidy),
                            "authority": sub[S_AUTHORITY],
                        },
                    )
                )
            setup_contracts[sub[S_CONTRACT]] = None
    item_ids: dict[int, list[int]] = defaultdict(list)
    for item in items:
        if item["customer_id"] not in wanted:
            continue
        lines[item["customer_id"]].append(
            DraftLine(
                contract_id=item["contract_id"],
                kind=item["kind"],
                product=item["product"],
                label=item["label"],
                period_start=item["period_start"],
                period_end=item["period_end"],
                amount=item["amount"],
                vat_rate=item["vat_rate"],
                data=item["data"],
                pending_item_id=item["pk"],
            )
        )
        item_ids[item["customer_id"]].append(item["pk"])
    drafts = [
        DraftDocument(customer_id=cid, lines=lines[cid]) for cid in customer_ids if lines.get(cid)
    ]
    return _Plan(
        drafts=drafts,
        billed_through=billed,
        setup_billed_contracts=list(setup_contracts),
        items=item_ids,
    )


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


def _write(
    plan: _Plan,
    built: BuiltDocuments,
    *,
    run: BillingRun,
    render_pdfs: bool,
    after: Future[list[IssuedDocument]] | None = None,
) -> list[IssuedDocument]:
    """Write one batch in one transaction. ``after``: the previous batch's write, in another
    thread; this one is numbered only once that one has committed, and rolls back if it
    failed."""
    with transaction.atomic():
        # What needs no document id first: ``documents_store`` locks the number series, and
        # concurrent workers wait for that lock only while the documents are written.
        for through, sub_ids in plan.billed_through.items():
            ids_update(Subscription, sub_ids, billed_through=through)
        ids_update(Contract, plan.setup_billed_contracts, setup_fee_billed=True)
        if after is not None:
            if connection.vendor == "postgresql":
                # This batch now waits, in Python, for the one before, which PostgreSQL's
                # deadlock detector cannot see: should that one ever wait on a lock this
                # one holds, it fails after a minute instead of waiting for ever.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '60s'")
            if after.exception() is not None:
                raise _PreviousBatchFailed  # nothing written after a failed batch
        documents = documents_store(built)
        items = [
            PendingItem(pk=item_id, document_id=document.pk)
            for document in documents
            for item_id in plan.items.get(document.customer_id, ())
        ]
        if items:
            PendingItem.objects.bulk_update(items, ["document"], batch_size=500)
        if render_pdfs:
            _queue_pdfs([d.pk for d in documents])
    return documents


class _PreviousBatchFailed(Exception):
    """A batch rolled back because the one before it failed (whose error is the one raised)."""


def _connection_close() -> None:
    connection.close()  # the calling thread's own connection


class _Thread:
    """One thread of the pipeline: runs what it is given in order, with its own database
    connection, closed when the thread ends."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        return self._executor.submit(fn)

    def close(self) -> None:
        """Close the thread's connection, then end the thread. Never waits on a thread already
        gone (shutdown by the interpreter or the garbage collector): the close is queued, and
        ``shutdown`` waits only for a thread still alive."""
        with contextlib.suppress(RuntimeError):  # the executor is already shut down
            self._executor.submit(_connection_close)
        self._executor.shutdown(wait=True)


class _Writer:
    """Writes batches in order, in two threads with a connection each, so that the next batch
    is computed meanwhile and a batch's updates that take no number (subscriptions, contracts)
    are written while the previous batch is numbered, stored and committed.

    A batch is numbered only after the previous one has committed (``_write``'s ``after``),
    so documents are numbered in batch order and nothing is written after a failed batch.
    ``submit`` and ``wait`` raise the error of the first failed batch, in batch order; ``close``
    never raises. At most two batches are in flight."""

    def __init__(self) -> None:
        self._threads = (_Thread("billing-writer-0"), _Thread("billing-writer-1"))
        self._futures: deque[Future[list[IssuedDocument]]] = deque()
        self._submitted = 0

    def _oldest_done(self) -> None:
        error = self._futures.popleft().exception()
        if error is not None:
            raise error

    def submit(self, fn: Callable[..., list[IssuedDocument]]) -> None:
        while len(self._futures) >= len(self._threads):
            self._oldest_done()
        after = self._futures[-1] if self._futures else None
        thread = self._threads[self._submitted % len(self._threads)]
        self._submitted += 1
        self._futures.append(thread.submit(functools.partial(fn, after=after)))

    def wait(self) -> None:
        """Every batch written; raises the first failure."""
        while self._futures:
            self._oldest_done()

    def close(self) -> None:
        """Wait for the batches in flight (after a failure they roll back), then close both
        threads and their connections."""
        try:
            for future in self._futures:
                future.exception()
            self._futures.clear()
        finally:
            try:
                self._threads[0].close()
            finally:
                self._threads[1].close()


def _queue_pdfs(document_ids: list[int]) -> None:
    from raccord.billing.tasks import documents_render

    def queue(chunk: list[int]) -> Callable[[], None]:
        return lambda: documents_render.delay(chunk)

    for start in range(0, len(document_ids), 500):
        transaction.on_commit(queue(document_ids[start : start + 500]))


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


def _reads_ahead(
    read: Callable[[list[int]], _Reads], batches: Iterator[list[int]]
) -> Generator[_Reads, None, None]:
    """The reads of ``batches``, each made in a reader thread while the previous one is
    computed: the batch's queries wait on the database, not on the computation."""
    thread = _Thread("billing-reader")
    try:
        ahead: Future[_Reads] | None = None
        for batch in batches:
            future = thread.submit(functools.partial(read, batch))
            if ahead is not None:
                yield ahead.result()
            ahead = future
        if ahead is not None:
            yield ahead.result()
    finally:
        thread.close()


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
        finished_at=timezone.now(),  # audit metadata, not a rule input
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
