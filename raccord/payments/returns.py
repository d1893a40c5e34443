"""Importing bank returns (P6): pain.002.001.03 and camt.054 (001.02, 001.08) R-transactions.

Each R-transaction is matched by its end-to-end id (our invoice number) to the latest debit
with that id still live (narrowed by the original message id or collection date when the file
gives them): the debit becomes returned with the bank's reason, the invoice is due again (a
negative payment reverses the settlement if the money had arrived) and dunning starts.

An import is a recorded job (``ReturnImport``, unique by the file's SHA-256): importing the same
file again changes nothing, and each debit remembers the file and position it was returned by.
The whole file is parsed before anything is written (a truncated file is refused whole); then
each entry goes in on its own savepoint, so an unknown or malformed entry is reported with its
position and line while the others go in."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from raccord.billing.explain.french import euros
from raccord.core.bulk import rows_insert
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.payments.dunning import dunning_open
from raccord.payments.models import Allocation, Debit, Payment, ReturnImport
from raccord.payments.sepa.reasons import reason_get
from raccord.payments.sepa.returns_read import ReturnEntry, returns_format, returns_read

PARIS = ZoneInfo("Europe/Paris")
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ReturnsReport:
    record: ReturnImport
    # True when this very file had been imported before: nothing was done this time.
    already_imported: bool

    @property
    def problems(self) -> list[dict[str, Any]]:
        return list(self.record.problems)


class _Skip(Exception):
    """An entry that cannot be applied; its message is reported."""


def _problem(entry: ReturnEntry, error: str) -> dict[str, Any]:
    return {
        "position": entry.position,
        "line": entry.line,
        "end_to_end_id": entry.end_to_end_id,
        "reason": entry.reason_code,
        "error": error,
    }


def _match(entry: ReturnEntry) -> Debit | None:
    debits = Debit.objects.filter(end_to_end_id=entry.end_to_end_id)
    for narrowing in (
        {"batch__message_id": entry.original_message_id} if entry.original_message_id else None,
        {"batch__debit_date": entry.collection_date} if entry.collection_date else None,
    ):
        if narrowing and debits.filter(**narrowing).exists():
            debits = debits.filter(**narrowing)
    ordered = debits.order_by("-batch__debit_date", "-pk")
    return ordered.exclude(status=Debit.Status.RETURNED).first() or ordered.first()


def _apply(entry: ReturnEntry, *, source: str, on: date, actor: Actor) -> Debit:
    found = _match(entry)
    if found is None:
        raise _Skip(f"aucun prélèvement avec la référence « {entry.end_to_end_id} »")
    debit = Debit.objects.select_for_update().select_related("batch", "document").get(pk=found.pk)
    if debit.status == Debit.Status.RETURNED:
        raise _Skip(
            f"prélèvement {debit.end_to_end_id} du {debit.batch.debit_date:%d/%m/%Y} déjà "
            f"rejeté le {debit.returned_on:%d/%m/%Y} ({debit.return_reason}) : rien n'a changé"
        )
    if entry.amount is not None and entry.amount != debit.amount:
        raise _Skip(
            f"montant {entry.amount} € différent du prélèvement {debit.end_to_end_id} "
            f"({debit.amount} €) : vérifiez avec la banque"
        )
    reason = reason_get(entry.reason_code)
    was_settled = debit.status == Debit.Status.SETTLED
    returned_on = entry.booked_on if entry.booked_on and entry.booked_on <= on else on
    debit.status = Debit.Status.RETURNED
    debit.returned_on = returned_on
    debit.return_reason = reason.code
    debit.return_source = source[:100]
    debit.save(update_fields=["status", "returned_on", "return_reason", "return_source"])
    if was_settled:
        # The money had arrived: take it back, the invoice is due again (payments contract).
        (payment_id,) = rows_insert(
            Payment,
            (
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
            ),
            [
                (
                    debit.customer_id,
                    Payment.Method.SEPA_RETURN,
                    -debit.amount,
                    returned_on,
                    debit.end_to_end_id,
                    debit.pk,
                    None,
                    False,
                    f"{reason.code} – {reason.label}"[:300],
                    None,
                    f"sepa-return:{debit.pk}",
                )
            ],
            need_ids=True,
        )
        rows_insert(
            Allocation,
            ("payment_id", "document_id", "amount"),
            [(payment_id, debit.document_id, -debit.amount)],
        )
    event_record(
        actor=actor,
        verb="payments.debit_returned",
        at=datetime.combine(on, time(12), tzinfo=PARIS),
        subject_type="debit",
        subject_id=debit.pk,
        customer_id=debit.customer_id,
        summary=(
            f"Prélèvement du {debit.batch.debit_date:%d/%m/%Y} de la facture "
            f"{debit.end_to_end_id} ({euros(debit.amount)}) rejeté : {reason.code} – {reason.label}"
        ),
        data={
            "invoice": debit.end_to_end_id,
            "amount": str(debit.amount),
            "reason": reason.code,
            "reason_label": reason.label,
            "was_settled": was_settled,
            "source": debit.return_source,
        },
    )
    dunning_open(debit=debit, on=on, reason_code=reason.code, actor=actor)
    return debit


def returns_import(*, content: bytes, filename: str, on: date, actor: Actor) -> ReturnsReport:
    """Import a returns file (P6). Idempotent by the file's content."""
    if len(content) > MAX_BYTES:
        raise DomainError("Ce fichier est trop volumineux pour un relevé de rejets.", field="file")
    digest = hashlib.sha256(content).hexdigest()
    existing = ReturnImport.objects.filter(sha256=digest).first()
    if existing is not None:
        return ReturnsReport(existing, already_imported=True)
    file_format = returns_format(io.BytesIO(content))
    entries = list(returns_read(io.BytesIO(content), file_format=file_format))
    try:
        with transaction.atomic():
            record = ReturnImport.objects.create(
                filename=filename[:200],
                sha256=digest,
                format=file_format,
                imported_on=on,
            )
            problems: list[dict[str, Any]] = []
            matched = returned_entries = 0
            amount = Decimal("0.00")
            for entry in entries:
                if entry.error:
                    problems.append(_problem(entry, entry.error))
                    if entry.is_return:
                        returned_entries += 1
                    continue
                if not entry.is_return:
                    continue
                returned_entries += 1
                try:
                    with transaction.atomic():
                        debit = _apply(
                            entry, source=f"{digest}:{entry.position}", on=on, actor=actor
                        )
                except _Skip as skip:
                    problems.append(_problem(entry, str(skip)))
                    continue
                matched += 1
                amount += debit.amount
            record.entries = returned_entries
            record.matched = matched
            record.problems = problems
            record.save(update_fields=["entries", "matched", "problems"])
            event_record(
                actor=actor,
                verb="payments.returns_imported",
                at=datetime.combine(on, time(12), tzinfo=PARIS),
                subject_type="return_import",
                subject_id=record.pk,
                summary=(
                    f"Rejets importés ({file_format}, {filename[:80]}) : {matched} prélèvement(s) "
                    f"rejeté(s) pour {amount} €, {len(problems)} anomalie(s)"
                ),
                data={
                    "sha256": digest,
                    "format": file_format,
                    "entries": returned_entries,
                    "matched": matched,
                    "problems": len(problems),
                },
            )
    except IntegrityError:
        # The same file imported at the same moment by someone else.
        existing = ReturnImport.objects.filter(sha256=digest).first()
        if existing is None:
            raise
        return ReturnsReport(existing, already_imported=True)
    return ReturnsReport(record, already_imported=False)
