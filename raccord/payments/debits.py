"""Direct-debit files (P1-P3): which invoices a debit date collects, the batch that records
them, the pain.008 file, and the batch's life (created → submitted → settled).

A file for debit date D holds every unpaid SEPA invoice due on D (its ``due_date``, set at issue
by P1/P3: an invoice issued too late is due at the next date) that was never debited, plus the
returned invoices whose dunning case re-presents them on D (P6). Each debit uses the mandate in
force for D's month (P4, ``mandate_rows_in_force``). Creating the file again for the same date
adds only what is new, to the batch not yet sent, and never debits an invoice twice (the
partial unique constraint on ``Debit.document``); with nothing new the stored file is returned
as it is, byte for byte.

A million debits: candidates are read through one cursor, a chunk at a time, their debits
inserted by COPY, the control sums computed by one SQL aggregate and the file streamed from the
debits table, so memory stays flat and the number of queries grows with the number of chunks,
not of invoices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from raccord.billing.models import Document
from raccord.core.bulk import ids_update, rows_insert
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.models import Policy, Sequence
from raccord.customers.models import Customer
from raccord.payments.calendar import is_target2_business_day
from raccord.payments.dunning import dunning_settle
from raccord.payments.mandates import mandate_rows_in_force
from raccord.payments.models import Allocation, Debit, DebitBatch, DunningCase, Mandate, Payment
from raccord.payments.sepa.batch_file import batch_figures, batch_file_store
from raccord.payments.sepa.creditor import creditor_get
from raccord.payments.sepa.schemas import PAIN008_VERSIONS

PARIS = ZoneInfo("Europe/Paris")
CHUNK = 5000
# How many invoice numbers without a mandate the result lists (the count is always exact).
LISTED = 50
ZERO = Decimal("0.00")
LIVE_CASES = (DunningCase.Status.OPEN, DunningCase.Status.SUSPENDED)

DEBIT_COLUMNS = (
    "batch_id",
    "document_id",
    "customer_id",
    "mandate_id",
    "sequence_type",
    "amount",
    "end_to_end_id",
    "status",
    "returned_on",
    "return_reason",
    "return_source",
)
PAYMENT_COLUMNS = (
    "customer_id",
    "method",
    "amount",
    "received_on",
    "reference",
    "debit_id",
    "refund_id",
    "late",
    "note",
    "recorded_by_id",
    "key",
)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=PARIS)


def _day_text(day: date) -> str:
    months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    return f"{day.day} {months[day.month - 1]} {day.year}"


# --- reads ---------------------------------------------------------------------------------


def document_due() -> Any:
    """``total - sum(allocations)`` of a document, as an annotation (the ledger rule)."""
    paid = (
        Allocation.objects.filter(document=OuterRef("pk"))
        .order_by()
        .values("document")
        .annotate(paid=Sum("amount"))
        .values("paid")
    )
    return F("total") - Coalesce(
        Subquery(paid, output_field=DecimalField(max_digits=12, decimal_places=2)),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


CANDIDATE_ROW = ("pk", "customer_id", "number", "due")


def _regular_candidates(debit_date: date) -> QuerySet[Document, tuple[Any, ...]]:
    """SEPA invoices due on ``debit_date`` never debited, with something still due (P2)."""
    return (
        Document.objects.filter(
            payment_method="sepa",
            due_date=debit_date,
            kind=Document.Kind.INVOICE,
            total__gt=0,
        )
        .filter(~Exists(Debit.objects.filter(document=OuterRef("pk"))))
        .annotate(due=document_due())
        .filter(due__gt=0)
        .order_by("customer_id", "pk")
        .values_list(*CANDIDATE_ROW)
    )


def _representation_candidates(debit_date: date) -> QuerySet[Document, tuple[Any, ...]]:
    """Returned invoices whose dunning case presents them again on ``debit_date`` (P6)."""
    cases = DunningCase.objects.filter(status__in=LIVE_CASES, represent_on=debit_date)
    return (
        Document.objects.filter(pk__in=cases.values("document_id"), kind=Document.Kind.INVOICE)
        .filter(
            ~Exists(
                Debit.objects.filter(document=OuterRef("pk")).exclude(status=Debit.Status.RETURNED)
            )
        )
        .annotate(due=document_due())
        .filter(due__gt=0)
        .order_by("customer_id", "pk")
        .values_list(*CANDIDATE_ROW)
    )


def debit_dates_of_month(*, month: date) -> list[date]:
    """The debit dates falling in ``month``: the due dates of its SEPA invoices, the dates
    its dunning cases re-present invoices on, and those of the batches already made. Usually
    one (P1); more when the policy's debit day changed or late invoices (P3) fall there."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    dates = set(
        Document.objects.filter(
            payment_method="sepa", due_date__gte=first, due_date__lte=last, total__gt=0
        )
        .order_by()
        .values_list("due_date", flat=True)
        .distinct()
    )
    dates |= set(
        DunningCase.objects.filter(
            status__in=LIVE_CASES, represent_on__gte=first, represent_on__lte=last
        )
        .order_by()
        .values_list("represent_on", flat=True)
        .distinct()
    )
    dates |= set(
        DebitBatch.objects.filter(debit_date__gte=first, debit_date__lte=last)
        .order_by()
        .values_list("debit_date", flat=True)
        .distinct()
    )
    return sorted(d for d in dates if d is not None)


def debit_file_deadline(debit_date: date) -> date:
    """P2: the last day the file for ``debit_date`` may be created: one TARGET2 business day
    before it."""
    day = debit_date - timedelta(days=1)
    while not is_target2_business_day(day):
        day -= timedelta(days=1)
    return day


# --- creating the file for a date ----------------------------------------------------------


@dataclass
class DebitFileResult:
    debit_date: date
    batch: DebitBatch | None
    added: int = 0
    rewritten: bool = False
    without_mandate: list[str] = field(default_factory=list)
    without_mandate_count: int = 0
    # Batches of that date already sent to the bank (unchanged).
    earlier: list[DebitBatch] = field(default_factory=list)


def _lock_date(debit_date: date) -> None:
    """Serialise the creation of the files of one date (two agents, a command and a page)."""
    name = f"sepa-debit-file:{debit_date.isoformat()}"
    Sequence.objects.get_or_create(name=name)
    Sequence.objects.select_for_update().get(name=name)


STAGE_TABLE = "raccord_sepa_candidates"


def _staged(query: QuerySet[Document, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``query``, computed whole into a temporary table first, then read through
    one cursor in (customer, document) order.

    Reading the candidates while their debits are inserted would make the database evaluate
    "never debited" lazily against a table growing under it (quadratic on PostgreSQL: a fast-
    start cursor plan re-scans the new, invisible rows for every invoice). Computing them
    first keeps the cost linear and the memory flat (the rows stay in the database)."""
    sql, params = query.query.sql_with_params()
    table = connection.ops.quote_name(STAGE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql}", params)
    try:
        with connection.chunked_cursor() as cursor:
            # pk, customer_id, number, due (CANDIDATE_ROW), by position
            cursor.execute(f"SELECT * FROM {table} ORDER BY 2, 1")  # noqa: S608
            while rows := cursor.fetchmany(CHUNK):
                yield from rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _BatchMaker:
    """Creates the batch the first time there is something to put in it (P2 deadline then)."""

    def __init__(
        self, *, debit_date: date, at: datetime, version: str, force: bool, open_batch: Any
    ) -> None:
        self.debit_date = debit_date
        self.at = at
        self.version = version
        self.force = force
        self.batch: DebitBatch | None = open_batch
        self.checked = False

    def get(self) -> DebitBatch:
        if not self.checked:
            self.checked = True
            deadline = debit_file_deadline(self.debit_date)
            created_on = self.at.astimezone(PARIS).date()
            if created_on > deadline and not self.force:
                raise DomainError(
                    f"Le fichier des prélèvements du {_day_text(self.debit_date)} devait être "
                    f"créé au plus tard le {_day_text(deadline)}, un jour ouvré TARGET2 avant "
                    "le prélèvement (P2). Forcez la création seulement si votre banque "
                    "l'accepte encore ; sinon ces factures seront à régler autrement.",
                    field="debit_date",
                    code="deadline",
                )
        if self.batch is None:
            rank = (
                DebitBatch.objects.filter(debit_date=self.debit_date)
                .order_by("-rank")
                .values_list("rank", flat=True)
                .first()
                or 0
            ) + 1
            self.batch = DebitBatch.objects.create(
                debit_date=self.debit_date,
                rank=rank,
                message_id=f"PRLV-{self.debit_date:%Y%m%d}-{rank}",
                version=self.version,
                created_on=self.at.astimezone(PARIS).date(),
            )
        return self.batch


def _add_debits(
    rows: Iterable[tuple[Any, ...]],
    *,
    maker: _BatchMaker,
    use_frst: bool,
    result: DebitFileResult,
) -> int:
    added = 0
    debit_date = maker.debit_date
    for chunk in _chunks(rows):
        low, high = chunk[0][1], chunk[-1][1]
        mandates = mandate_rows_in_force(month=debit_date, customer_low=low, customer_high=high)
        debited: set[int] = set()
        if use_frst:
            debited = set(
                Debit.objects.filter(customer_id__gte=low, customer_id__lte=high)
                .exclude(status=Debit.Status.RETURNED)
                .order_by()
                .values_list("mandate_id", flat=True)
                .distinct()
            )
        new_rows = []
        for document_id, customer_id, number, due in chunk:
            mandate = mandates.get(customer_id)
            if mandate is None:
                result.without_mandate_count += 1
                if len(result.without_mandate) < LISTED:
                    result.without_mandate.append(number)
                continue
            mandate_id, last_debit_date = mandate[1], mandate[7]
            first = use_frst and last_debit_date is None and mandate_id not in debited
            new_rows.append(
                (
                    None,  # the batch, once it exists
                    document_id,
                    customer_id,
                    mandate_id,
                    Debit.SequenceType.FRST if first else Debit.SequenceType.RCUR,
                    Decimal(str(due)).quantize(Decimal("0.01")),
                    number,
                    Debit.Status.COLLECTING,
                    None,
                    "",
                    "",
                )
            )
        if new_rows:
            batch_id = maker.get().pk
            rows_insert(Debit, DEBIT_COLUMNS, [(batch_id, *row[1:]) for row in new_rows])
            added += len(new_rows)
    return added


@transaction.atomic
def debit_file_create(
    *,
    debit_date: date,
    at: datetime,
    actor: Actor,
    version: str | None = None,
    force: bool = False,
) -> DebitFileResult:
    """Create (or bring up to date) the direct-debit file of ``debit_date`` (P2).

    New invoices go into the date's batch not yet sent (or a new batch, rank + 1, if the
    previous one was sent); the file is rewritten only when debits were added or the version
    changed, with ``at`` as its creation time. ``force`` lifts the P2 deadline."""
    policy = Policy.get()
    version = version or policy.pain008_version
    if version not in PAIN008_VERSIONS:
        raise DomainError(
            f"Version pain.008 inconnue : {version} (001.02 ou 001.08).", field="version"
        )
    creditor = creditor_get()
    _lock_date(debit_date)
    batches = list(
        DebitBatch.objects.select_for_update().filter(debit_date=debit_date).order_by("rank")
    )
    open_batch = next((b for b in batches if b.status == DebitBatch.Status.CREATED), None)
    result = DebitFileResult(debit_date=debit_date, batch=open_batch)
    maker = _BatchMaker(
        debit_date=debit_date, at=at, version=version, force=force, open_batch=open_batch
    )
    for query in (_regular_candidates(debit_date), _representation_candidates(debit_date)):
        result.added += _add_debits(
            _staged(query),
            maker=maker,
            use_frst=policy.sepa_use_frst,
            result=result,
        )
    batch = maker.batch
    result.batch = batch
    result.earlier = [b for b in batches if b is not batch]
    if batch is None:
        return result
    if result.added or not batch.file or batch.version != version:
        figures = batch_figures(batch)
        batch.count = sum(f.count for f in figures)
        batch.total = sum((f.total for f in figures), start=ZERO)
        batch.version = version
        batch_file_store(batch, creditor=creditor, at=at, version=version)
        batch.save(update_fields=["count", "total", "version", "file", "file_sha256"])
        result.rewritten = True
        event_record(
            actor=actor,
            verb="payments.debit_file_created",
            at=at,
            subject_type="debit_batch",
            subject_id=batch.pk,
            summary=(
                f"Fichier de prélèvements {batch.message_id} du {_day_text(debit_date)} : "
                f"{batch.count} prélèvement(s) pour {batch.total} €"
                + (f" ({result.added} ajouté(s))" if result.added != batch.count else "")
            ),
            data={
                "message_id": batch.message_id,
                "debit_date": debit_date.isoformat(),
                "added": result.added,
                "count": batch.count,
                "total": str(batch.total),
                "version": version,
                "sha256": batch.file_sha256,
                "without_mandate": result.without_mandate_count,
                "forced": force and at.astimezone(PARIS).date() > debit_file_deadline(debit_date),
            },
        )
    return result


def debit_files_for_month(
    *,
    month: date,
    at: datetime,
    actor: Actor,
    version: str | None = None,
    force: bool = False,
) -> list[DebitFileResult]:
    """``debit_file_create`` for every debit date of ``month`` (one file per date, P2/P3)."""
    return [
        debit_file_create(debit_date=day, at=at, actor=actor, version=version, force=force)
        for day in debit_dates_of_month(month=month)
    ]


# --- the batch's life ----------------------------------------------------------------------


def _locked(batch: DebitBatch) -> DebitBatch:
    return DebitBatch.objects.select_for_update().get(pk=batch.pk)


@transaction.atomic
def debit_batch_submit(*, batch: DebitBatch, on: date, actor: Actor) -> DebitBatch:
    """The file was sent to the bank. Idempotent."""
    batch = _locked(batch)
    if batch.status != DebitBatch.Status.CREATED:
        return batch
    batch.status = DebitBatch.Status.SUBMITTED
    batch.submitted_on = on
    batch.save(update_fields=["status", "submitted_on"])
    event_record(
        actor=actor,
        verb="payments.debit_file_submitted",
        at=_noon(on),
        subject_type="debit_batch",
        subject_id=batch.pk,
        summary=f"Fichier de prélèvements {batch.message_id} transmis à la banque le {_day_text(on)}",
        data={"message_id": batch.message_id, "on": on.isoformat()},
    )
    return batch


@transaction.atomic
def debit_batch_settle(*, batch: DebitBatch, on: date, actor: Actor) -> DebitBatch:
    """The money of the batch arrived: each debit still being collected is settled, with one
    payment and its allocation to the invoice (bulk), and its mandate's last debit date moves
    (P7). Debits already returned stay returned. Idempotent."""
    batch = _locked(batch)
    if batch.status == DebitBatch.Status.SETTLED:
        return batch
    if batch.status != DebitBatch.Status.SUBMITTED:
        raise DomainError("Marquez d'abord le fichier comme transmis à la banque.", field="status")
    if on < batch.debit_date:
        raise DomainError(
            f"Les prélèvements du {_day_text(batch.debit_date)} ne peuvent pas être encaissés "
            "avant cette date.",
            field="on",
        )
    settled = 0
    amount_total = ZERO
    while True:
        rows = list(
            Debit.objects.filter(batch=batch, status=Debit.Status.COLLECTING)
            .order_by("pk")
            .values_list("pk", "customer_id", "document_id", "amount", "end_to_end_id")[:CHUNK]
        )
        if not rows:
            break
        payment_ids = rows_insert(
            Payment,
            PAYMENT_COLUMNS,
            [
                (
                    customer_id,
                    Payment.Method.SEPA,
                    amount,
                    batch.debit_date,
                    e2e,
                    debit_id,
                    None,
                    False,
                    "",
                    None,
                    f"sepa:{debit_id}",
                )
                for debit_id, customer_id, _doc, amount, e2e in rows
            ],
            need_ids=True,
        )
        rows_insert(
            Allocation,
            ("payment_id", "document_id", "amount"),
            [
                (payment_id, document_id, amount)
                for payment_id, (_d, _c, document_id, amount, _e) in zip(
                    payment_ids, rows, strict=True
                )
            ],
        )
        ids_update(Debit, [row[0] for row in rows], status=Debit.Status.SETTLED)
        settled += len(rows)
        amount_total += sum((row[3] for row in rows), start=ZERO)
    Mandate.objects.filter(
        pk__in=Debit.objects.filter(batch=batch, status=Debit.Status.SETTLED).values("mandate_id")
    ).filter(Q(last_debit_date__isnull=True) | Q(last_debit_date__lt=batch.debit_date)).update(
        last_debit_date=batch.debit_date
    )
    batch.status = DebitBatch.Status.SETTLED
    batch.settled_on = on
    batch.save(update_fields=["status", "settled_on"])
    event_record(
        actor=actor,
        verb="payments.debit_file_settled",
        at=_noon(on),
        subject_type="debit_batch",
        subject_id=batch.pk,
        summary=(
            f"Prélèvements {batch.message_id} encaissés le {_day_text(on)} : "
            f"{settled} prélèvement(s) pour {amount_total} €"
        ),
        data={"message_id": batch.message_id, "settled": settled, "amount": str(amount_total)},
    )
    # Re-presented invoices now paid close their dunning case and lift a suspension (P6).
    customers = (
        DunningCase.objects.filter(status__in=LIVE_CASES, document__debits__batch=batch)
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    for customer in Customer.objects.filter(pk__in=list(customers)):
        dunning_settle(customer=customer, on=on, actor=actor)
    return batch


def debit_batches_list(*, limit: int = 50) -> list[DebitBatch]:
    return list(DebitBatch.objects.order_by("-debit_date", "-rank")[:limit])


def debit_batch_status_counts(batch: DebitBatch) -> dict[str, tuple[int, Decimal]]:
    """The batch's debits per status (collecting, settled, returned): one query."""
    rows = (
        Debit.objects.filter(batch=batch)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    return {row["status"]: (row["n"], row["total"] or ZERO) for row in rows}
