"""What the monthly run bills to one batch of customers (B1-B6, M3).

The batch's reads (``_reads``: the customers still to bill, their subscriptions and pending
items, their details for the documents) in a constant number of queries, then its plan
(``_plan``), computed with no query: the subscription lines, one per product and calendar-month
segment, the credits of days billed past an end date, the set-up fees, the pending items, and
where each subscription is now billed through. ``raccord.billing.run`` says how the rules are
applied and drives the batches."""

from __future__ import annotations

import calendar
import functools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, Q

from raccord.billing.documents import DraftDocument, DraftLine
from raccord.billing.documents_copies import CustomerInfo, documents_customers_read
from raccord.billing.models import BillingRun, Document, LineKind, PendingItem
from raccord.contracts.models import Contract, Subscription

NO_SETUP_FEE = {Contract.Status.WITHDRAWN, Contract.Status.CANCELLED}


def month_start(day: date) -> date:
    return day.replace(day=1)


@functools.cache
def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_end(day: date) -> date:
    return day.replace(day=_days_in_month(day.year, day.month))


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
