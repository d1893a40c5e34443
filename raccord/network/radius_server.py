"""The built-in RADIUS accounting server (RFC 2866), which ``raccord radius serve`` runs
(``radius_serve``).

An asyncio UDP server. Each Accounting-Request is checked (NAS known, Request Authenticator,
attributes decoded and valid) and then, by default, appended to the journal
(``raccord.network.journal``): batches of records are written and synced (group commit: while
a batch is synced, the next one fills), and each Accounting-Response is sent only once the
batch holding its record is synced. The merger (``journal_merge``, a child process) stores
the journal into the sessions. A NAS never gets an answer for a record that could still be
lost, and retransmits what was not answered (storing twice changes nothing, N1).

``--direct`` stores each batch in the database before answering instead. On PostgreSQL the
records then go down one lane per partition of the session keys, each lane a writer thread
with its own connection and one batch in flight: a batch's round trips and commit overlap the
other lane's, and lanes never wait on each other (each locks its own partition, see
``accounting_sql``). SQLite has one writer at a time whatever the threads: one lane.

A packet from an unknown NAS, with a bad authenticator or a malformed attribute is dropped with
a log line (throttled), never answered, never journaled; nothing a client sends can stop the
server. Packets are decoded and answered by ``radius_packets``, the NAS secrets come from
``radius_nas``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from django.db import DatabaseError, close_old_connections, connection
from pyrad.packet import AccountingRequest, AcctPacket, StatusServer

from raccord.network.accounting import (
    PARTITIONS,
    RELOAD_STATUSES,
    SESSION_STATUSES,
    AccountingRecord,
    AccountingStore,
    StoreResult,
    partition_of,
)
from raccord.network.journal import JournalWriter, frame_encode
from raccord.network.merge import session_key
from raccord.network.radius_nas import NasTable, nas_table_load
from raccord.network.radius_packets import (
    PROXY_STATE,
    MalformedPacket,
    Wanted,
    _wanted_table,
    accounting_response,
    radius_dictionary,
    record_from_attributes,
    record_from_packet,
    request_attributes,
    request_authentic,
    response_to,
)

logger = logging.getLogger(__name__)
NAS_RELOAD_EVERY_S = 60.0


@dataclass
class ServerStats:
    received: int = 0
    answered: int = 0
    stored: int = 0
    batches: int = 0
    failed_batches: int = 0
    largest_batch: int = 0
    slowest_write_s: float = 0.0
    dropped: dict[str, int] = field(default_factory=dict)


class _DropLog:
    """One log line per reason and source every few seconds, with the count dropped since."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, reason: str, source: str, detail: str = "") -> None:
        now = time.monotonic()
        last, count = self._last.get((reason, source), (0.0, 0))
        if now - last >= self.every:
            logger.warning(
                "RADIUS packet dropped: %s from %s%s%s",
                reason,
                source,
                f" ({detail})" if detail else "",
                f", {count} more since the last line" if count else "",
            )
            self._last[(reason, source)] = (now, 0)
        else:
            self._last[(reason, source)] = (last, count + 1)


# A record (stored directly) or its journal frame, the Accounting-Response, the NAS address.
Pending = list[tuple[Any, bytes, Any]]
# What decoding an Accounting-Request gives: the record, the response, the raw packet (cut to
# its Length) and the reception time.
Decoded = tuple[AccountingRecord, bytes, bytes, float]


class _Lane:
    """One writer thread, its database connection (Django's is per thread) and its batches:
    the records waiting, the batch in flight."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.pending: Pending = []
        self.inflight: asyncio.Future[Any] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"radius-writer-{index}"
        )
        self.writer_ready = False
        self.write_started = 0.0


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: RadiusAccountingServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.server.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.server.handle(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.warning("RADIUS socket error: %s", exc)


class RadiusAccountingServer:
    """``store=None`` makes a decode-only server (the benchmark's limit): same decoding, same
    checks, answered at once, nothing written."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        nas: NasTable,
        store: AccountingStore | None,
        journal: JournalWriter | None = None,
        default_secret: str | None = None,
        batch_window: float = 0.002,
        max_batch: int = 2000,
        lanes: int | None = None,
        journal_depth: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host, self.port = host, port
        self.nas = nas
        self.store = store
        self.journal = journal
        self._sources: dict[str, bytes] = {}
        self.default_secret = default_secret
        self.batch_window = batch_window
        self.max_batch = max_batch
        self.clock = clock
        self.dictionary = radius_dictionary()
        self.wanted: Wanted = _wanted_table(self.dictionary)
        self.stats = ServerStats()
        self.transport: asyncio.DatagramTransport | None = None
        self._drop_log = _DropLog()
        if journal is not None:
            lanes = journal_depth
        elif lanes is None:
            lanes = PARTITIONS if store is not None and connection.vendor == "postgresql" else 1
        # Lane i writes partition i (and, with fewer lanes than partitions, those ≡ i).
        self._lanes = [
            _Lane(i)
            for i in range(max(1, lanes if journal is not None else min(lanes, PARTITIONS)))
        ]
        self._journal_lane = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nas_reload_at = time.monotonic() + NAS_RELOAD_EVERY_S
        # Journal mode: the NAS list is read again in a thread of its own, off the path of the
        # answers (a database that does not answer must not hold them back).
        self._nas_reloader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="radius-nas")
        self._nas_reloading = False

    @property
    def mode(self) -> str:
        if self.journal is not None:
            return f"journal {self.journal.directory}"
        return "decode only" if self.store is None else "storing in the database"

    # -- lifecycle
    async def start(self) -> tuple[str, int]:
        self._loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        with contextlib.suppress(OSError):
            # Room for the packets that arrive while a batch is committed.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        sock.bind((self.host, self.port))
        await self._loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        bound = sock.getsockname()
        self.port = bound[1]
        logger.info(
            "RADIUS accounting server listening on %s:%s (%s)",
            self.host,
            self.port,
            self.mode,
        )
        return self.host, self.port

    async def stop(self) -> None:
        """Stop listening, store and answer what was received, then return."""
        if self.transport is not None:
            # Answers still go out through the socket, so it is closed last.
            self.transport.pause_reading()  # type: ignore[attr-defined]
        while any(lane.inflight is not None or lane.pending for lane in self._lanes):
            for lane in self._lanes:
                if lane.inflight is None and lane.pending:
                    self._flush(lane)
            for lane in self._lanes:
                if lane.inflight is not None:
                    with contextlib.suppress(Exception):  # logged by _written
                        await asyncio.shield(lane.inflight)
            await asyncio.sleep(0)
        if self.transport is not None:
            self.transport.close()
        for lane in self._lanes:
            if self.store is not None or self.journal is not None:
                # The writer thread's own connection (``connection`` resolves per thread).
                lane.executor.submit(_connection_close).result()
            lane.executor.shutdown(wait=True)
        self._nas_reloader.submit(_connection_close)
        self._nas_reloader.shutdown(wait=True)
        logger.info(
            "RADIUS server stopped: %s received, %s answered, %s stored in %s batches "
            "(largest %s, slowest %.3f s), dropped %s",
            self.stats.received,
            self.stats.answered,
            self.stats.stored,
            self.stats.batches,
            self.stats.largest_batch,
            self.stats.slowest_write_s,
            self.stats.dropped or "none",
        )

    # -- one packet
    def _drop(self, reason: str, source: str, detail: str = "") -> None:
        self.stats.dropped[reason] = self.stats.dropped.get(reason, 0) + 1
        self._drop_log(reason, source, detail)

    def handle(self, data: bytes, addr: tuple[Any, int]) -> None:
        self.stats.received += 1
        source = str(addr[0])
        try:
            secret = self.nas.secret_for(source)
            if secret is None:
                self._drop("unknown NAS", source)
                return
            decoded = self._decode_plain(data, source, secret)
            if decoded is False:
                return
            if decoded is None:
                decoded = self._decode_pyrad(data, source, secret, addr)
                if decoded is None:
                    return
        except Exception as error:  # nothing a client sends may stop the server
            logger.exception("RADIUS packet from %s could not be handled", source)
            self._drop("unexpected error", source, type(error).__name__)
            return
        self._queue(decoded, source, addr)

    def _decode_plain(
        self, data: bytes, source: str, secret: bytes
    ) -> Decoded | Literal[False] | None:
        """The usual Accounting-Request, decoded directly; None for any other packet (left to
        pyrad), False when dropped."""
        if not data or data[0] != AccountingRequest:
            return None
        try:
            raw, attributes = request_attributes(data)
        except MalformedPacket as error:
            self._drop("malformed packet", source, str(error))
            return False
        if PROXY_STATE in attributes:
            return None  # the reply echoes it: pyrad builds that one
        if not request_authentic(raw, secret):
            self._drop("bad authenticator (wrong secret?)", source)
            return False
        received = self.clock()
        try:
            record = record_from_attributes(
                attributes, source=source, received=received, wanted=self.wanted
            )
        except MalformedPacket as error:
            self._drop("malformed attribute", source, str(error))
            return False
        return record, response_to(raw[1], raw[4:20], secret), raw, received

    def _decode_pyrad(self, data: bytes, source: str, secret: bytes, addr: Any) -> Decoded | None:
        """Any other packet: Status-Server, a proxied request (Proxy-State), a wrong code."""
        try:
            packet = AcctPacket(id=0, secret=secret, dict=self.dictionary, packet=data)
        except Exception as error:
            self._drop("malformed packet", source, str(error))
            return None
        if packet.code == StatusServer:
            if packet.VerifyAcctRequest():
                self._send(bytes(packet.CreateReply().ReplyPacket()), addr)
            else:
                self._drop("bad Message-Authenticator", source)
            return None
        if packet.code != AccountingRequest:
            self._drop("not an Accounting-Request", source, f"code {packet.code}")
            return None
        if not packet.VerifyAcctRequest():
            self._drop("bad authenticator (wrong secret?)", source)
            return None
        received = self.clock()
        try:
            record = record_from_packet(
                packet, source=source, received=received, wanted=self.wanted
            )
        except MalformedPacket as error:
            self._drop("malformed attribute", source, str(error))
            return None
        raw = data[: (data[2] << 8) | data[3]]  # pyrad checked the Length
        return record, accounting_response(packet, secret), raw, received

    def _queue(self, decoded: Decoded, source: str, addr: Any) -> None:
        record, reply, raw, received = decoded
        if (self.store is None and self.journal is None) or (
            record.status not in SESSION_STATUSES and record.status not in RELOAD_STATUSES
        ):
            # Nothing to store (decode-only server, or a status Raccord does not keep).
            self._send(reply, addr)
            return
        lanes = self._lanes
        item: AccountingRecord | bytes = record
        if self.journal is not None:
            source_bytes = self._sources.get(source)
            if source_bytes is None:
                source_bytes = self._sources[source] = source.encode("ascii")
            item = frame_encode(received, source_bytes, raw)
            lane = lanes[self._journal_lane]
            if lane.inflight is not None:
                # Another batch may be written and synced while this one is (pipelining).
                for other in lanes:
                    if other.inflight is None:
                        lane = other
                        self._journal_lane = other.index
                        break
        elif len(lanes) == 1 or record.status in RELOAD_STATUSES:
            # A reboot locks every partition: any lane will do, the first one.
            lane = lanes[0]
        else:
            lane = lanes[partition_of(session_key(record.nas, record.session_id)) % len(lanes)]
        lane.pending.append((item, reply, addr))
        if lane.inflight is not None:
            return
        if len(lane.pending) >= self.max_batch or self.batch_window <= 0:
            self._flush(lane)
        elif lane.timer is None:
            assert self._loop is not None
            lane.timer = self._loop.call_later(self.batch_window, self._flush, lane)

    def _send(self, reply: bytes, addr: Any) -> None:
        if self.transport is not None:
            self.transport.sendto(reply, addr)
            self.stats.answered += 1

    # -- batches
    def _flush(self, lane: _Lane) -> None:
        if lane.timer is not None:
            lane.timer.cancel()
            lane.timer = None
        if lane.inflight is not None or not lane.pending:
            return
        batch, lane.pending = lane.pending[: self.max_batch], lane.pending[self.max_batch :]
        assert self._loop is not None
        records = [item[0] for item in batch]
        lane.write_started = time.perf_counter()
        future = self._loop.run_in_executor(lane.executor, self._write, lane, records)
        lane.inflight = future
        future.add_done_callback(partial(self._written, lane, batch))

    def _write(self, lane: _Lane, records: list[Any]) -> StoreResult:
        """In the lane's writer thread: one transaction for the batch, or one journal write
        and its sync."""
        if self.journal is not None:
            self.journal.append(b"".join(records))
            if time.monotonic() >= self._nas_reload_at and not self._nas_reloading:
                self._nas_reloading = True
                self._nas_reloader.submit(self._nas_reload_apart)
            return StoreResult(records=len(records))
        assert self.store is not None
        if not lane.writer_ready:
            close_old_connections()
            if connection.vendor == "sqlite":
                # Committed must mean on disk, not only in the WAL's page cache.
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA synchronous=FULL")
            lane.writer_ready = True
        if lane.index == 0:
            self._nas_reload_due()
        try:
            return self.store.store(records)
        except DatabaseError:
            # A broken connection is reopened for the next batch.
            connection.close()
            lane.writer_ready = False
            raise

    def _nas_reload_apart(self) -> None:
        """In the NAS thread: reload, then let the next one be asked for."""
        try:
            self._nas_reload_due()
        finally:
            self._nas_reloading = False

    def _nas_reload_due(self) -> None:
        """In a writer thread: the NAS clients read again every minute."""
        if time.monotonic() < self._nas_reload_at:
            return
        self._nas_reload_at = time.monotonic() + NAS_RELOAD_EVERY_S
        try:
            self.nas = nas_table_load(self.default_secret)
        except DatabaseError:
            # The journal keeps acknowledging without the database: the last list stays.
            logger.exception("NAS clients could not be reloaded")
            with contextlib.suppress(DatabaseError):
                connection.close()

    def _written(self, lane: _Lane, batch: Pending, future: Future) -> None:
        lane.inflight = None
        self.stats.slowest_write_s = max(
            self.stats.slowest_write_s, time.perf_counter() - lane.write_started
        )
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        error = future.exception()
        if error is not None:
            # Unanswered: the NAS sends these records again.
            self.stats.failed_batches += 1
            logger.error(
                "RADIUS batch of %s records not %s, left unanswered: %r",
                len(batch),
                "journaled" if self.journal is not None else "stored",
                error,
            )
        else:
            self.stats.batches += 1
            self.stats.stored += len(batch)
            result = future.result()
            if result.activated:
                logger.info(
                    "%s line(s) activated by their first connection: %s",
                    len(result.activated),
                    ", ".join(result.activated[:20]) + ("…" if len(result.activated) > 20 else ""),
                )
            for _record, reply, addr in batch:
                self._send(reply, addr)
        if lane.pending:
            # These waited during the write: they go at once (the batch grows with the load).
            self._flush(lane)


def _connection_close() -> None:
    connection.close()
