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

Reads and writes are set-based: a batch costs a constant number of queries, whatever its size."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from raccord.billing.documents import DraftDocument, DraftLine, IssuedDocument, documents_write
from raccord.billing.models import BillingRun, Document, LineKind, PendingItem
from raccord.contracts.models import Contract, Subscription
from raccord.core.bulk import ids_update
from raccord.core.models import Policy
from raccord.core.money import ZERO
from raccord.customers.models import Customer

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


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


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
    return Decimal(cents) / 100


def _subscription_lines(
    sub: dict[str, Any], start: date, end: date, *, credit: bool, reason: str = ""
) -> list[DraftLine]:
    monthly = _cents(sub["monthly_price"])
    lines = []
    for seg_start, seg_end in month_segments(start, end):
        days = (seg_end - seg_start).days + 1
        dim = calendar.monthrange(seg_start.year, seg_start.month)[1]
        cents = segment_cents(monthly, days, dim)
        lines.append(
            DraftLine(
                contract_id=sub["contract_id"],
                kind=LineKind.SUBSCRIPTION_CREDIT if credit else LineKind.SUBSCRIPTION,
                product=sub["product"],
                label=sub["label"],
                period_start=seg_start,
                period_end=seg_end,
                amount=_money(-cents if credit else cents),
                vat_rate=sub["vat_rate"],
                data={
                    "days": days,
                    "days_in_month": dim,
                    "monthly_price": str(sub["monthly_price"]),
                    "full_month": days == dim,
                    **({"reason": reason} if credit and reason else {}),
                },
            )
        )
    return lines


def _credit_reason(sub: dict[str, Any], starts: set[tuple[int, date]]) -> str:
    """Why days already billed are given back, for the explanation: the subscriber withdrew
    (C6), the offer changed (B4: another subscription of the contract starts the day after),
    or the contract ended (B3)."""
    if sub["contract__status"] == Contract.Status.WITHDRAWN:
        return "withdrawal"
    if (sub["contract_id"], sub["end_date"] + timedelta(days=1)) in starts:
        return "offer_change"
    return "end"


@dataclass
class _Plan:
    drafts: list[DraftDocument]
    # new billed_through → subscription ids
    billed_through: dict[date, list[int]]
    setup_billed_contracts: list[int]
    items: dict[int, list[int]]  # customer id → pending item ids


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
    "contract__customer_id",
    "contract__activation_date",
    "contract__setup_fee_billed",
    "contract__setup_fee",
    "contract__setup_subsidy",
    "contract__subsidy_authority",
    "contract__offer_label",
    "contract__offer__code",
    "contract__vat_rate",
    "contract__status",
)


def _plan(customer_ids: list[int], *, month: date, run_date: date) -> _Plan:
    """What the run bills to ``customer_ids`` (ascending, from one batch).

    Rows are selected by the batch's id range (cheaper than a list of thousands of ids) and
    customers outside the list (already billed in this run) are skipped in Python."""
    first, last = month_start(month), month_end(month)
    wanted = set(customer_ids)
    low, high = customer_ids[0], customer_ids[-1]
    subs = (
        Subscription.objects.filter(contract__customer_id__gte=low, contract__customer_id__lte=high)
        # something to charge, or something charged past the end to credit
        # everything but the subscriptions already settled up to their end
        .filter(
            Q(end_date__isnull=True)
            | Q(billed_through__isnull=True)
            | ~Q(billed_through=F("end_date"))
        )
        .order_by("contract__customer_id", "contract_id", "kind", "product", "start_date")
        .values(*SUB_FIELDS)
    )
    subs = list(subs)
    starts = {(sub["contract_id"], sub["start_date"]) for sub in subs}
    items = (
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
    lines: dict[int, list[DraftLine]] = defaultdict(list)
    billed: dict[date, list[int]] = defaultdict(list)
    setup_contracts: list[int] = []
    for sub in subs:
        customer_id = sub["contract__customer_id"]
        if customer_id not in wanted:
            continue
        start, end, through = sub["start_date"], sub["end_date"], sub["billed_through"]
        # Credit the days already charged past the end (B3, B4).
        if through is not None and end is not None and through > end:
            credit_from = max(end + timedelta(days=1), start)
            if credit_from <= through:
                lines[customer_id] += _subscription_lines(
                    sub, credit_from, through, credit=True, reason=_credit_reason(sub, starts)
                )
            billed[end].append(sub["pk"])
            continue
        activation = sub["contract__activation_date"]
        if activation is None or activation > first:
            continue  # B1: only contracts activated on or before M-01
        charge_from = through + timedelta(days=1) if through is not None else start
        charge_to = min(end, last) if end is not None else last
        if charge_from > charge_to:
            continue
        lines[customer_id] += _subscription_lines(sub, charge_from, charge_to, credit=False)
        billed[charge_to].append(sub["pk"])
        # C6: set-up fees are never owed on a withdrawal (nor on a cancelled contract).
        setup_due = (
            not sub["contract__setup_fee_billed"] and sub["contract__status"] not in NO_SETUP_FEE
        )
        if sub["kind"] == Subscription.Kind.OFFER and setup_due:
            setup_fee = sub["contract__setup_fee"]
            if setup_fee > 0 and sub["contract_id"] not in setup_contracts:
                subsidy = min(sub["contract__setup_subsidy"], setup_fee)
                lines[customer_id].append(
                    DraftLine(
                        contract_id=sub["contract_id"],
                        kind=LineKind.SETUP_FEE,
                        product=sub["contract__offer__code"],
                        label="Frais de mise en service",
                        period_start=None,
                        period_end=None,
                        amount=setup_fee - subsidy,
                        vat_rate=sub["contract__vat_rate"],
                        data={
                            "setup_fee": str(setup_fee),
                            "subsidy": str(subsidy),
                            "authority": sub["contract__subsidy_authority"],
                        },
                    )
                )
            setup_contracts.append(sub["contract_id"])
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
        drafts=drafts, billed_through=billed, setup_billed_contracts=setup_contracts, items=item_ids
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


def _write(plan: _Plan, *, run: BillingRun) -> list[IssuedDocument]:
    with transaction.atomic():
        documents = documents_write(drafts=plan.drafts, issue_date=run.run_date, run=run)
        for through, sub_ids in plan.billed_through.items():
            ids_update(Subscription, sub_ids, billed_through=through)
        ids_update(Contract, plan.setup_billed_contracts, setup_fee_billed=True)
        items = [
            PendingItem(pk=item_id, document_id=document.pk)
            for document in documents
            for item_id in plan.items.get(document.customer_id, ())
        ]
        if items:
            PendingItem.objects.bulk_update(items, ["document"], batch_size=500)
    return documents


def _queue_pdfs(document_ids: list[int]) -> None:
    from raccord.billing.tasks import documents_render

    def queue(chunk: list[int]) -> Callable[[], None]:
        return lambda: documents_render.delay(chunk)

    for start in range(0, len(document_ids), 500):
        transaction.on_commit(queue(document_ids[start : start + 500]))


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
    for index, customer_ids in enumerate(_customer_batches(batch_size)):
        if shard is not None and index % shard[1] != shard[0]:
            continue
        if run is not None:
            already = set(
                Document.objects.filter(
                    run=run, customer_id__gte=customer_ids[0], customer_id__lte=customer_ids[-1]
                ).values_list("customer_id", flat=True)
            )
            pending = [cid for cid in customer_ids if cid not in already]
        else:
            pending = customer_ids
        plan = _plan(pending, month=month, run_date=run_date) if pending else None
        if plan is not None and plan.drafts:
            if run is None:
                invoices = [d.total for d in plan.drafts if d.kind == Document.Kind.INVOICE]
                credits = [d.total for d in plan.drafts if d.kind == Document.Kind.CREDIT_NOTE]
                preview = replace(
                    preview,
                    invoices=preview.invoices + len(invoices),
                    credit_notes=preview.credit_notes + len(credits),
                    total_invoiced=preview.total_invoiced + sum(invoices, start=ZERO),
                    total_credited=preview.total_credited + sum(credits, start=ZERO),
                )
            else:
                documents = _write(plan, run=run)
                if render_pdfs:
                    _queue_pdfs([d.pk for d in documents])
        done += len(customer_ids)
        if progress is not None:
            progress(done, total_customers)
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
    per_kind = {row["kind"]: row["total"] for row in totals}
    return RunResult(
        month=run.month,
        run_date=run.run_date,
        invoices=run.invoices,
        credit_notes=run.credit_notes,
        total_invoiced=per_kind.get(Document.Kind.INVOICE) or ZERO,
        total_credited=per_kind.get(Document.Kind.CREDIT_NOTE) or ZERO,
        dry_run=dry_run,
    )
