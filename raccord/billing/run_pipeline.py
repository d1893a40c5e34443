"""The monthly run's writes (B7, B8): each batch in one transaction (``_write``), and on
PostgreSQL the pipeline of threads, each with its own connection, that overlaps the database's
work with the computation: a reader thread (``_reads_ahead``) and two writer threads
(``_Writer``). ``raccord.billing.run`` says in which order batches are numbered and why a failed
write stops the run."""

from __future__ import annotations

import contextlib
import functools
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction

from raccord.billing.documents_storage import BuiltDocuments, IssuedDocument, documents_store
from raccord.billing.models import BillingRun, PendingItem
from raccord.billing.run_plan import _Plan, _Reads
from raccord.contracts.models import Contract, Subscription
from raccord.core.bulk import ids_update


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
