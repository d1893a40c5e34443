"""The built-in RADIUS accounting server (RFC 2866): ``raccord radius serve``.

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
server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import signal
import socket
import struct
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal

from django.db import DatabaseError, close_old_connections, connection
from pyrad import tools
from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingRequest, AccountingResponse, AcctPacket, StatusServer

from raccord.network.accounting import (
    PARTITIONS,
    RELOAD_STATUSES,
    SESSION_STATUSES,
    AccountingRecord,
    AccountingStore,
    StoreResult,
    partition_of,
)
from raccord.network.journal import (
    JournalError,
    JournalWriter,
    MergerChild,
    frame_encode,
    journal_directory_default,
)
from raccord.network.merge import session_key

logger = logging.getLogger(__name__)
DICTIONARY_PATH = Path(__file__).resolve().parent / "data" / "dictionary.raccord"
PROXY_STATE = 33
NAS_RELOAD_EVERY_S = 60.0
SWITCH_INTERVAL_S = 0.0002

_dictionary: Dictionary | None = None


def radius_dictionary() -> Dictionary:
    global _dictionary
    if _dictionary is None:
        _dictionary = Dictionary(str(DICTIONARY_PATH))
    return _dictionary


# --- NAS clients ---------------------------------------------------------------------------


class NasTable:
    """Which secret a source address uses: the NAS clients configured in the back-office
    (an address or a network each), else the ``--secret`` given on the command line."""

    def __init__(self, clients: list[tuple[str, str]], default_secret: str | None = None) -> None:
        self._exact: dict[str, bytes] = {}
        self._networks: list[tuple[Any, bytes]] = []
        for network, secret in clients:
            net = ipaddress.ip_network(network.strip(), strict=False)
            if net.num_addresses == 1:
                self._exact[str(net.network_address)] = secret.encode()
            else:
                self._networks.append((net, secret.encode()))
        # The most specific network first.
        self._networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        self._default = default_secret.encode() if default_secret else None
        self._cache: dict[str, bytes | None] = {}

    @property
    def empty(self) -> bool:
        return not self._exact and not self._networks and self._default is None

    def secret_for(self, address: str) -> bytes | None:
        try:
            return self._cache[address]
        except KeyError:
            pass
        secret = self._exact.get(address)
        if secret is None and self._networks:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                ip = None
            if ip is not None:
                for net, candidate in self._networks:
                    if ip.version == net.version and ip in net:
                        secret = candidate
                        break
        if secret is None:
            secret = self._default
        if len(self._cache) < 100_000:
            self._cache[address] = secret
        return secret


def nas_table_load(default_secret: str | None = None) -> NasTable:
    from raccord.network.models import NasClient

    clients = list(NasClient.objects.filter(is_active=True).values_list("network", "secret"))
    return NasTable(clients, default_secret)


# --- packets → records ---------------------------------------------------------------------


class MalformedPacket(ValueError):
    pass


_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "string": tools.DecodeString,
    "integer": tools.DecodeInteger,
    "date": tools.DecodeDate,
    # A NAS sends its address in every packet: formatted once (ipaddress is slow at it).
    "ipaddr": lru_cache(maxsize=4096)(tools.DecodeAddress),
    "ipv6addr": lru_cache(maxsize=4096)(tools.DecodeIPv6Address),
    "octets": tools.DecodeOctets,
}

_FIELDS = {
    "Acct-Status-Type": "status",
    "User-Name": "login",
    "Acct-Session-Id": "session_id",
    "NAS-IP-Address": "nas_ip",
    "NAS-IPv6-Address": "nas_ipv6",
    "Acct-Delay-Time": "delay",
    "Event-Timestamp": "event",
    "Acct-Session-Time": "session_time",
    "Acct-Input-Octets": "input_octets",
    "Acct-Output-Octets": "output_octets",
    "Acct-Input-Gigawords": "input_gigawords",
    "Acct-Output-Gigawords": "output_gigawords",
    "Acct-Terminate-Cause": "terminate_cause",
    "Framed-IP-Address": "framed_ip",
    "Calling-Station-Id": "calling_station",
}

# attribute code → (record field, pyrad decoder of its dictionary type, its VALUE names)
Wanted = dict[int, tuple[str, Callable[[bytes], Any], Any]]


def _wanted_table(dictionary: Dictionary) -> Wanted:
    table: Wanted = {}
    for name, field_name in _FIELDS.items():
        attribute = dictionary.attributes[name]
        values = attribute.values if len(attribute.values) else None
        table[attribute.code] = (field_name, _DECODERS[attribute.type], values)
    return table


_ZERO_AUTHENTICATOR = bytes(16)


def request_attributes(data: bytes) -> tuple[bytes, dict[int, bytes]]:
    """An Accounting-Request's raw packet (cut to its Length, RFC 2865 section 3) and the
    first value of each attribute: the checks pyrad's decoding makes, without building its
    packet object (a third of the server's time per request went there). Vendor attributes
    are skipped, Raccord reads none."""
    if len(data) < 20:
        raise MalformedPacket("Packet header is corrupt")
    length = (data[2] << 8) | data[3]
    if length < 20 or len(data) < length:
        raise MalformedPacket("Packet has invalid length")
    if length > 8192:
        raise MalformedPacket(f"Packet length is too long ({length})")
    raw = data[:length]
    attributes: dict[int, bytes] = {}
    position = 20
    while position < length:
        if position + 2 > length:
            raise MalformedPacket("Attribute header is corrupt")
        code, size = raw[position], raw[position + 1]
        if size < 2:
            raise MalformedPacket(f"Attribute length is too small ({size})")
        if code not in attributes:
            attributes[code] = raw[position + 2 : position + size]
        position += size
    return raw, attributes


def request_authentic(raw: bytes, secret: bytes) -> bool:
    """RFC 2866 section 3: MD5 of the packet with a zero authenticator, then the secret."""
    digest = hashlib.md5(raw[:4] + _ZERO_AUTHENTICATOR + raw[20:] + secret).digest()  # noqa: S324 - RFC 2866
    return hmac.compare_digest(digest, raw[4:20])


def response_to(identifier: int, authenticator: bytes, secret: bytes) -> bytes:
    """An Accounting-Response without attributes (RFC 2866 section 3)."""
    header = struct.pack("!BBH", AccountingResponse, identifier, 20)
    return header + hashlib.md5(header + authenticator + secret).digest()  # noqa: S324 - RFC 2866


def record_from_packet(
    packet: AcctPacket, *, source: str, received: float, wanted: Wanted
) -> AccountingRecord:
    """The record an Accounting-Request decoded by pyrad carries."""
    first = {code: raw[0] for code, raw in OrderedDict.items(packet) if code in wanted}
    return record_from_attributes(first, source=source, received=received, wanted=wanted)


def record_from_attributes(
    attributes: dict[int, bytes], *, source: str, received: float, wanted: Wanted
) -> AccountingRecord:
    """The record of an Accounting-Request's attributes (their first raw value each): only
    the ones Raccord reads are decoded, with pyrad's decoder for their dictionary type."""
    values: dict[str, Any] = {}
    for code, value in attributes.items():
        spec = wanted.get(code)
        if spec is None:
            continue
        name, decode, names = spec
        try:
            if names is not None and names.HasBackward(value):
                values[name] = names.GetBackward(value)
            else:
                values[name] = decode(value)
        except (struct.error, ValueError, TypeError) as error:
            raise MalformedPacket(f"attribut {code} illisible") from error
    status = values.get("status")
    if not isinstance(status, int):
        raise MalformedPacket("Acct-Status-Type absent")
    session_id = values.get("session_id", "")
    login = values.get("login", "")
    if not isinstance(session_id, str) or not isinstance(login, str):
        raise MalformedPacket("identifiant non textuel")
    if status in SESSION_STATUSES and not session_id:
        raise MalformedPacket("Acct-Session-Id absent")
    event = values.get("event")
    moment = float(event) if event else received - values.get("delay", 0)
    nas = values.get("nas_ip") or values.get("nas_ipv6") or source
    cause = values.get("terminate_cause", "")
    calling = values.get("calling_station", "")
    if not isinstance(calling, str):
        calling = calling.decode("utf-8", "replace")
    if "\x00" in session_id or "\x00" in login or "\x00" in calling:
        # No database stores it in a text column (PostgreSQL refuses it): an acknowledged
        # record that can never be stored would hold back every record after it.
        raise MalformedPacket("caractère nul dans un attribut texte")
    return AccountingRecord(
        status=status,
        nas=nas,
        at=datetime.fromtimestamp(moment, UTC),
        session_id=session_id,
        login=login,
        session_time=values.get("session_time", 0),
        input_octets=(values.get("input_gigawords", 0) << 32) + values.get("input_octets", 0),
        output_octets=(values.get("output_gigawords", 0) << 32) + values.get("output_octets", 0),
        terminate_cause=cause if isinstance(cause, str) else str(cause),
        framed_ip=values.get("framed_ip", ""),
        calling_station=calling,
    )


def accounting_response(packet: AcctPacket, secret: bytes) -> bytes:
    """The Accounting-Response to ``packet`` (RFC 2866 section 3). Without Proxy-State to
    echo it has no attribute: its authenticator is computed directly."""
    if OrderedDict.__contains__(packet, PROXY_STATE):
        reply = packet.CreateReply()
        return bytes(reply.ReplyPacket())
    return response_to(packet.id, packet.authenticator, secret)


# --- the server ----------------------------------------------------------------------------


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


Mode = Literal["journal", "direct", "decode-only"]


async def radius_serve(
    *,
    host: str,
    port: int,
    default_secret: str | None,
    mode: Mode = "journal",
    journal_dir: Path | None = None,
    merger: bool = True,
    merger_priority: str = "idle",
    journal_depth: int = 2,
    verbosity: int = 1,
    batch_window: float = 0.002,
    max_batch: int = 2000,
    ready: Callable[[RadiusAccountingServer], None] | None = None,
    stop_event: asyncio.Event | None = None,
) -> RadiusAccountingServer:
    """Run a server until SIGINT/SIGTERM (or ``stop_event``), then store or journal what is
    pending. In journal mode (the default) the merger runs as a child process unless
    ``merger`` is False (run ``raccord radius merge`` apart)."""
    if mode != "decode-only":
        # The writer thread waits on the database (or the disk) once or more per batch and must
        # get the GIL back at once each time: with the default 5 ms switch interval, the busy
        # decoding loop holds it so long that a batch spends most of its time waiting (the
        # process is dedicated to this server).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    loop = asyncio.get_running_loop()
    nas = await loop.run_in_executor(None, _nas_table_fresh, default_secret)
    journal: JournalWriter | None = None
    child: MergerChild | None = None
    if mode == "journal":
        journal = JournalWriter(journal_dir or journal_directory_default())
        try:
            await loop.run_in_executor(None, journal.open)
        except OSError as error:
            raise JournalError(f"Journal {journal.directory} inutilisable : {error}") from error
    server = RadiusAccountingServer(
        host=host,
        port=port,
        nas=nas,
        store=AccountingStore() if mode == "direct" else None,
        journal=journal,
        journal_depth=journal_depth,
        default_secret=default_secret,
        batch_window=batch_window,
        max_batch=max_batch,
    )
    try:
        await server.start()
    except BaseException:
        if journal is not None:
            journal.close()
        raise
    if journal is not None and merger:
        child = MergerChild(journal.directory, priority=merger_priority, verbosity=verbosity)
        child.start()
    if nas.empty:
        logger.warning(
            "no RADIUS client configured and no --secret: every packet will be dropped "
            "(add the NAS in the admin, Réseau › clients RADIUS)"
        )
    stop = stop_event or asyncio.Event()
    if stop_event is None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
    if ready is not None:
        ready(server)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
        if child is not None:
            child.check(time.monotonic())
    await server.stop()
    if journal is not None:
        journal.close()
    if child is not None:
        logger.info("RADIUS server stopped; the merger finishes merging the journal")
        await loop.run_in_executor(None, child.stop)
    return server


def _connection_close() -> None:
    connection.close()


def _nas_table_fresh(default_secret: str | None) -> NasTable:
    try:
        return nas_table_load(default_secret)
    finally:
        connection.close()
