"""The pain.008 file of a recorded batch (P2): its figures by one SQL aggregate, its
transactions streamed from the debits table (one cursor, the mandate joined), written by the
streaming writer and stored with its SHA-256 next to where it goes (a rename, not a copy)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

from django.core.files import File
from django.db.models import Count, Sum

from raccord.payments.models import Debit, DebitBatch
from raccord.payments.sepa.pain008 import (
    BinaryOutput,
    Creditor,
    PaymentGroup,
    Transaction,
    pain008_write,
)

CHUNK = 5000
SEQUENCE_ORDER = (Debit.SequenceType.FRST, Debit.SequenceType.RCUR)


@dataclass(frozen=True)
class BatchFigures:
    sequence_type: str
    count: int
    total: Decimal


def batch_figures(batch: DebitBatch) -> list[BatchFigures]:
    """Count and sum of the batch's debits per sequence type: one SQL aggregate (the figures
    the group header announces before the transactions)."""
    rows = (
        Debit.objects.filter(batch=batch)
        .order_by()
        .values("sequence_type")
        .annotate(n=Count("pk"), total=Sum("amount"))
    )
    by_type = {row["sequence_type"]: row for row in rows}
    return [
        BatchFigures(
            seq, by_type[seq]["n"], Decimal(by_type[seq]["total"]).quantize(Decimal("0.01"))
        )
        for seq in SEQUENCE_ORDER
        if seq in by_type
    ]


def _transactions(batch: DebitBatch, sequence_type: str) -> Iterator[Transaction]:
    rows = (
        Debit.objects.filter(batch=batch, sequence_type=sequence_type)
        .order_by("pk")
        .values_list(
            "end_to_end_id",
            "amount",
            "mandate__reference",
            "mandate__signature_date",
            "mandate__bic",
            "mandate__debtor_name",
            "mandate__iban",
        )
        .iterator(chunk_size=CHUNK)
    )
    for e2e, amount, reference, signed_on, bic, name, iban in rows:
        yield (
            e2e,
            f"{amount:.2f}",
            reference,
            signed_on.isoformat(),
            bic,
            name,
            iban,
            f"Facture {e2e}",
        )


# --- writing the file ----------------------------------------------------------------------


class _Hashing:
    """A binary writer that hashes what goes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.raw.write(data)


class _MovableFile(File):
    """A finished temporary file the storage may move into place instead of copying it."""

    def __init__(self, file: IO[bytes], path: str) -> None:
        super().__init__(file)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def _temp_dir(batch: DebitBatch) -> str | None:
    # Next to where the file goes, so that storing it is a rename, not a copy.
    try:
        directory = Path(batch.file.storage.path("sepa/tmp"))
    except NotImplementedError:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory)


def pain008_stream(
    output: BinaryOutput, *, batch: DebitBatch, creditor: Creditor, at: datetime, version: str
) -> int:
    """Write the pain.008 of ``batch`` (all its debits, whatever became of them since: the
    file is what was sent) to ``output``."""
    groups = [
        (
            PaymentGroup(
                payment_id=f"{batch.message_id}-{fig.sequence_type}",
                sequence_type=fig.sequence_type,
                collection_date=batch.debit_date,
                count=fig.count,
                total=fig.total,
            ),
            _transactions(batch, fig.sequence_type),
        )
        for fig in batch_figures(batch)
    ]
    return pain008_write(
        output,
        version=version,
        message_id=batch.message_id,
        created_at=at,
        creditor=creditor,
        groups=groups,
    )


def _store_file(batch: DebitBatch, *, creditor: Creditor, at: datetime, version: str) -> None:
    descriptor, temp_path = tempfile.mkstemp(suffix=".xml", dir=_temp_dir(batch))
    try:
        with os.fdopen(descriptor, "wb") as raw:
            hashing = _Hashing(raw)
            pain008_stream(hashing, batch=batch, creditor=creditor, at=at, version=version)
        name = f"{batch.message_id}.xml"
        storage = batch.file.storage
        if batch.file:
            batch.file.delete(save=False)
        stored_name = batch.file.field.generate_filename(batch, name)
        if storage.exists(stored_name):
            storage.delete(stored_name)
        with open(temp_path, "rb") as finished:
            batch.file.save(name, _MovableFile(finished, temp_path), save=False)
        batch.file_sha256 = hashing.digest.hexdigest()
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)


def batch_file_store(batch: DebitBatch, *, creditor: Creditor, at: datetime, version: str) -> None:
    """Write the file of ``batch`` and attach it (``file``, ``file_sha256``; not saved)."""
    _store_file(batch, creditor=creditor, at=at, version=version)
