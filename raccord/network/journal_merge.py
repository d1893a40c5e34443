"""``raccord radius merge``: the journal's records stored into the sessions, in order, in large
batches, each batch with the merger's position in one transaction (see ``journal``).

It runs as a process of its own (Python's GIL: its CPU must not slow the acknowledging), by
default a child of ``raccord radius serve`` at a lower priority, so that during a burst the
server keeps acknowledging at full speed and the merge catches up afterwards."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F

from raccord.network.accounting import AccountingRecord, AccountingStore, StoreResult
from raccord.network.feed import LAG_WARN_SECONDS
from raccord.network.journal import (
    MAGIC,
    READ_BYTES,
    Entry,
    JournalError,
    Lag,
    _DirectoryLock,
    directory_private,
    frames_resync,
    frames_scan,
    journal_id,
    lag_measure,
    segment_read,
    segments,
)
from raccord.network.models import JournalPosition
from raccord.network.radius_packets import (
    MalformedPacket,
    _wanted_table,
    radius_dictionary,
    record_from_attributes,
    request_attributes,
)

logger = logging.getLogger(__name__)


@dataclass
class MergeBatch:
    records: int = 0
    moved: bool = False  # the position changed (records merged, or a segment left behind)
    result: StoreResult | None = None


class JournalMerger:
    """Stores the journal's records in order, in batches, each with its position."""

    def __init__(
        self,
        directory: Path,
        *,
        store: AccountingStore | None = None,
        batch: int = 5000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.store = store or AccountingStore()
        self.batch = batch
        self.clock = clock
        self.wanted = _wanted_table(radius_dictionary())
        self._lock = _DirectoryLock(directory, "merger.lock")
        self._position: tuple[int, int] | None = None
        self._id: str | None = None
        self._warned: set[tuple[int, str]] = set()

    # -- the lock and the position
    def lock(self, *, wait: Callable[[], bool] | None = None) -> bool:
        directory_private(self.directory)
        return self._lock.acquire(wait=wait)

    def unlock(self) -> None:
        self._lock.release()

    def position(self, *, create: bool = True) -> tuple[int, int] | None:
        """(segment, offset) of the first record not merged; None before the journal exists.
        Without ``create`` (a status, which writes nothing) a journal never merged is at its
        start and no position row is made for it."""
        if self._position is None:
            self._id = self._id or journal_id(self.directory)
            if self._id is None:
                return None
            if not create:
                row = JournalPosition.objects.filter(journal=self._id).first()
                return (row.segment, row.offset) if row is not None else (0, 0)
            row, _created = JournalPosition.objects.get_or_create(
                journal=self._id, defaults={"directory": str(self.directory.resolve())}
            )
            self._position = (row.segment, row.offset)
        return self._position

    def _position_save(self, segment: int, offset: int, records: int) -> None:
        JournalPosition.objects.filter(journal=self._id).update(
            segment=segment,
            offset=offset,
            records=F("records") + records,
            merged_until=datetime.fromtimestamp(self.clock(), UTC),
            directory=str(self.directory.resolve()),
        )

    def lag(self, *, create: bool = True) -> Lag:
        position = self.position(create=create)
        if position is None:
            return Lag(0, 0, None)
        return lag_measure(self.directory, *position)

    def lag_publish(self, lag: Lag) -> None:
        """Write what the journal still holds on the position row, with the time: the
        back-office's network feed page reads it (the merger may run on another host)."""
        if self._id is None:
            return
        JournalPosition.objects.filter(journal=self._id).update(
            reported_at=datetime.fromtimestamp(self.clock(), UTC),
            waiting_records=lag.records,
            waiting_bytes=lag.bytes,
            waiting_since=(
                datetime.fromtimestamp(lag.oldest, UTC) if lag.oldest is not None else None
            ),
        )

    # -- one batch
    def record_of(self, entry: Entry) -> AccountingRecord | None:
        try:
            _raw, attributes = request_attributes(entry.raw)
            return record_from_attributes(
                attributes, source=entry.source, received=entry.received, wanted=self.wanted
            )
        except MalformedPacket as error:  # the server checked it: a change of decoder?
            logger.error("RADIUS journal: record from %s skipped: %s", entry.source, error)
            return None

    def merge_batch(self) -> MergeBatch:
        """Store the next batch of records (at most ``batch``, within one segment) and move
        the position past them, in one transaction."""
        position = self.position()
        if position is None:
            return MergeBatch()
        segment, offset = position
        all_segments = segments(self.directory)
        if all_segments and segment > all_segments[-1][0] + 1:
            # The position is past every segment the writer could be writing: the journal was
            # emptied, or replaced, behind the merger's back. Merging on would delete records.
            raise JournalError(
                f"position du journal ({segment}) au-delà de ses segments "
                f"(le dernier est {all_segments[-1][0]}) : journal vidé ou remplacé ?"
            )
        current = next(((s, p) for s, p in all_segments if s >= segment), None)
        if current is None:
            return MergeBatch()
        sequence, path = current
        for old, old_path in all_segments:
            if old < segment:  # merged, left there by a stop before their deletion
                with contextlib.suppress(FileNotFoundError):
                    old_path.unlink()
        if sequence != segment:
            offset = 0
        offset = max(offset, len(MAGIC))
        sealed = sequence != all_segments[-1][0]
        try:
            data = segment_read(path, offset, READ_BYTES)
            head = b"" if offset > len(MAGIC) else segment_read(path, 0, len(MAGIC))
        except FileNotFoundError:
            return MergeBatch()
        if head and not head.startswith(MAGIC):
            if not sealed:
                return MergeBatch()  # being created: the writer has not written the magic yet
            logger.error("RADIUS journal %s: not a journal segment, skipped", path.name)
            return self._segment_leave(sequence, all_segments)
        scan = frames_scan(data, 0, self.batch)
        if scan.entries:
            records = [r for r in map(self.record_of, scan.entries) if r is not None]
            end = offset + scan.end
            try:
                _commits_durable()
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        # The segment is deleted once merged: the commit must be on disk.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL synchronous_commit = on")
                    try:
                        with transaction.atomic():
                            result = self.store.store(records)
                    except (DataError, IntegrityError) as error:
                        # One record the database refuses must not hold back the others.
                        self.store.forget()
                        result = self._store_one_by_one(records, error)
                    self._position_save(sequence, end, len(scan.entries))
            except Exception:
                self.store.forget()
                self._position = None
                raise
            self._position = (sequence, end)
            return MergeBatch(len(scan.entries), True, result)
        if scan.status == "corrupt":
            if sealed:
                return self._skip_damage(path, sequence, offset)
            if (sequence, scan.status) not in self._warned:
                self._warned.add((sequence, scan.status))
                logger.warning(
                    "RADIUS journal %s: bad frame at %s in the open segment (skipped once a "
                    "newer segment seals it; a torn tail is cut when the server restarts)",
                    path.name,
                    offset,
                )
            return MergeBatch()
        if not sealed:
            return MergeBatch()
        if scan.status == "partial" and data:
            # A sealed segment ends with a frame cut short (the writer cuts its torn tails):
            # damage, kept and logged, never dropped in silence.
            return self._skip_damage(path, sequence, offset)
        # A sealed segment read to its end: on to the next one, this one is deleted.
        return self._segment_leave(sequence, all_segments)

    def _store_one_by_one(self, records: list[AccountingRecord], error: Exception) -> StoreResult:
        """The batch again, a record at a time: the ones the database refuses are logged with
        what identifies them and left out (the journal's copy is deleted with its segment)."""
        logger.error("RADIUS journal: a batch was refused (%s); stored record by record", error)
        result = StoreResult()
        for record in records:
            try:
                with transaction.atomic():
                    one = self.store.store([record])
            except (DataError, IntegrityError) as refused:
                self.store.forget()
                logger.error(
                    "RADIUS journal: record left out, the database refuses it: NAS %r, "
                    "session %r, login %r, status %s: %s",
                    record.nas,
                    record.session_id,
                    record.login,
                    record.status,
                    refused,
                )
                continue
            result.activated.extend(one.activated)
        return result

    def _segment_leave(self, sequence: int, all_segments: list[tuple[int, Path]]) -> MergeBatch:
        following = next(s for s, _p in all_segments if s > sequence)
        _commits_durable()
        self._position_save(following, len(MAGIC), 0)
        self._position = (following, len(MAGIC))
        for old, path in all_segments:
            if old < following:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        return MergeBatch(0, True)

    def _skip_damage(self, path: Path, sequence: int, offset: int) -> MergeBatch:
        """A bad frame inside a sealed segment (a batch whose write or sync failed, or a
        damaged disk): the merge goes on at the next valid frame; the segment is kept as
        ``….corrupt`` for inspection."""
        rest = path.read_bytes()[offset:]
        skip = frames_resync(rest, 1)
        kept = path.with_name(path.name + ".corrupt")
        if not kept.exists():
            with contextlib.suppress(OSError):
                os.link(path, kept)
        logger.error(
            "RADIUS journal %s: bad frame at %s in a sealed segment, %s bytes skipped (kept as %s)",
            path.name,
            offset,
            len(rest) if skip is None else skip,
            kept.name,
        )
        if skip is None:
            return self._segment_leave(sequence, segments(self.directory))
        self._position_save(sequence, offset + skip, 0)
        self._position = (sequence, offset + skip)
        return MergeBatch(0, True)

    # -- the loop
    def run(
        self,
        *,
        follow: bool,
        should_stop: Callable[[], bool] = lambda: False,
        interval: float = 0.2,
        report_every: float = 10.0,
        report: Callable[[int, Lag], None] | None = None,
        on_batch: Callable[[MergeBatch], None] | None = None,
        defer_above: float = 0.0,
        defer_at_most: float = 30.0,
    ) -> int:
        """Merge until the journal is read to its end; with ``follow``, until ``should_stop``
        says so and the journal is read to its end (what the server wrote before it stopped
        is merged). Reports the merged count and the lag every ``report_every`` seconds.

        With ``defer_above`` (records/s), while the server journals faster than that (a burst:
        every line reconnecting after an outage, a NAS replaying its backlog), the merge
        waits, as long as the oldest record waiting is younger than ``defer_at_most``
        seconds: the CPU and the disk go to acknowledging, the merge catches up after."""
        total = since_report = failures = 0
        next_report = time.monotonic() + report_every
        growth = _Growth(self.directory)
        while True:
            if (
                follow
                and defer_above > 0
                and not should_stop()
                and growth.rate(time.monotonic()) > defer_above
                and self._oldest_age() < defer_at_most
            ):
                time.sleep(interval)
                continue
            try:
                merged = self.merge_batch()
            except DatabaseError as error:
                if not follow or should_stop():
                    raise
                # The database is away: the journal keeps the records, retried in a while.
                failures += 1
                logger.error("RADIUS journal merge failed (attempt %s): %s", failures, error)
                connection.close()
                time.sleep(min(5.0, interval * 2**failures))
                continue
            failures = 0
            total += merged.records
            since_report += merged.records
            if on_batch is not None and merged.moved:
                on_batch(merged)
            if merged.result is not None and merged.result.activated:
                logger.info(
                    "%s line(s) activated by their first connection: %s",
                    len(merged.result.activated),
                    ", ".join(merged.result.activated[:20]),
                )
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + report_every
                self._report_now(since_report, report)
                since_report = 0
            if merged.moved:
                continue
            if not follow or should_stop():
                self._report_now(since_report, report)
                return total
            close_old_connections()  # a connection broken or too old is not kept while idle
            time.sleep(interval)

    def _oldest_age(self) -> float:
        """Seconds since the oldest record not merged was received (0 when none)."""
        position = self.position()
        if position is None:
            return 0.0
        for sequence, path in segments(self.directory):
            if sequence < position[0]:
                continue
            offset = position[1] if sequence == position[0] else 0
            with contextlib.suppress(FileNotFoundError):
                scan = frames_scan(segment_read(path, max(offset, len(MAGIC)), 16384), 0, 1)
                if scan.entries:
                    return max(0.0, self.clock() - scan.entries[0].received)
        return 0.0

    def _report_now(self, merged: int, report: Callable[[int, Lag], None] | None) -> None:
        lag = self.lag()
        try:
            self.lag_publish(lag)
        except DatabaseError as error:  # a status only: the next report tries again
            logger.warning("RADIUS journal: the lag could not be published: %s", error)
            connection.close()
        (report or self._report)(merged, lag)

    def _report(self, merged: int, lag: Lag) -> None:
        waited = lag.seconds(self.clock())
        logger.log(
            logging.WARNING if waited > LAG_WARN_SECONDS else logging.INFO,
            "RADIUS journal: %s records merged since the last report; not merged yet: %s "
            "records (%s bytes), the oldest received %.1f s ago",
            merged,
            lag.records,
            lag.bytes,
            waited,
        )


def _commits_durable() -> None:
    """SQLite: a commit is on disk when it returns (``synchronous=FULL``; in WAL mode the
    default NORMAL may lose the last commits on a power cut), since merged segments are deleted
    on the strength of it. Set on each connection, which may be new (and not within a caller's
    transaction, where SQLite refuses it: that caller's commit is its own)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")


class _Growth:
    """How fast the server appends to the journal, in records per second (from the bytes
    appended to its newest segment and the size of a record), over windows of half a second:
    a client's short pauses within a burst do not end it."""

    FRAME_BYTES = 150  # about the size of a journaled Accounting-Request
    WINDOW_S = 0.5

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._last: tuple[float, int, int] | None = None
        self._rate = 0.0

    def rate(self, now: float) -> float:
        """The rate over the last window, or since its start when higher (a burst that has
        just begun is seen at the next look, not a window later)."""
        files = segments(self.directory)
        if not files:
            return 0.0
        sequence, path = files[-1]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return self._rate
        if self._last is None:
            self._last = (now, sequence, size)
            return 0.0
        since, last_sequence, last_size = self._last
        elapsed = now - since
        if elapsed <= 0:
            return self._rate
        grown = size - last_size if sequence == last_sequence else size
        current = max(0, grown) / self.FRAME_BYTES / elapsed
        if elapsed >= self.WINDOW_S:
            self._last, self._rate = (now, sequence, size), current
            return current
        return max(self._rate, current)
