"""Storing accounting records: the one function both ways in call (the RADIUS server and the
radacct sync), N1 and N2.

A batch of records is stored in one transaction, set-based: one query reads the sessions the
batch touches, the merge happens in memory, then one statement inserts the new sessions, one
updates the others and one adds the daily usage. The merge is order-free: each session field is
a minimum or a maximum over its records (see ``AccountingSession``), and the daily usage is
derived from each session's per-day highest counters, so a repeated or late record changes
nothing that its absence would not have left the same.

The first record of a login whose contract awaits activation activates it (C4, N2) through the
contract service, once: the store keeps the logins it has seen active and never asks again."""

from __future__ import annotations

import logging
import time as monotonic
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from django.db import connection, transaction

from raccord.contracts.models import Contract
from raccord.contracts.services import AWAITING_ACTIVATION, contract_activate
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.network.models import AccountingSession, DailyUsage, NasReload

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")

# Acct-Status-Type values (RFC 2866 section 5.1).
START, STOP, INTERIM, ACCOUNTING_ON, ACCOUNTING_OFF = 1, 2, 3, 7, 8
SESSION_STATUSES = frozenset({START, STOP, INTERIM})
RELOAD_STATUSES = frozenset({ACCOUNTING_ON, ACCOUNTING_OFF})
# A login without contract is looked up again after this many seconds (it may be signed up).
UNKNOWN_LOGIN_RETRY_S = 60.0
_CHUNK = 500


@dataclass(slots=True)
class AccountingRecord:
    """One accounting record, from a RADIUS packet or a radacct row. ``at`` is when the NAS
    says it happened (Event-Timestamp, or reception minus Acct-Delay-Time); ``started_at`` is
    given when the source knows the session's start (radacct), else it is derived."""

    status: int
    nas: str
    at: datetime
    session_id: str = ""
    login: str = ""
    session_time: int = 0
    input_octets: int = 0
    output_octets: int = 0
    started_at: datetime | None = None
    terminate_cause: str = ""
    framed_ip: str = ""
    calling_station: str = ""


@dataclass
class StoreResult:
    records: int = 0
    sessions_created: int = 0
    sessions_updated: int = 0
    activated: list[str] = field(default_factory=list)


def session_key(nas: str, session_id: str) -> str:
    return f"{nas}|{session_id}"


def paris_day(moment: datetime) -> int:
    """The Paris calendar day of ``moment`` as the integer YYYYMMDD (cheap to sort and store)."""
    local = moment.astimezone(PARIS)
    return local.year * 10000 + local.month * 100 + local.day


def day_of(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def usage_days_parse(text: str) -> dict[int, tuple[int, int]]:
    days: dict[int, tuple[int, int]] = {}
    if text:
        for item in text.split(","):
            day, inp, out = item.split(":")
            days[int(day)] = (int(inp), int(out))
    return days


def usage_days_format(days: dict[int, tuple[int, int]]) -> str:
    return ",".join(f"{day}:{inp}:{out}" for day, (inp, out) in sorted(days.items()))


def usage_contributions(days: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """What a session adds to each day: the rise of its running highest counters that day."""
    result: dict[int, tuple[int, int]] = {}
    top_in = top_out = 0
    for day in sorted(days):
        inp, out = days[day]
        new_in, new_out = max(top_in, inp), max(top_out, out)
        if new_in != top_in or new_out != top_out:
            result[day] = (new_in - top_in, new_out - top_out)
        top_in, top_out = new_in, new_out
    return result


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
_days_by_hour: dict[int, int] = {}


def to_us(moment: datetime) -> int:
    """A moment as integer microseconds since the epoch: exact, cheap to compare."""
    if moment.tzinfo is None:  # SQLite gives Django's naive UTC
        return (moment - _EPOCH_NAIVE) // _MICRO
    return (moment - EPOCH) // _MICRO


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _day_us(value: int) -> int:
    """``paris_day`` of a moment in microseconds, cached per hour (offsets change on hours)."""
    hour = value // _HOUR_US
    day = _days_by_hour.get(hour)
    if day is None:
        if len(_days_by_hour) > 100_000:
            _days_by_hour.clear()
        day = _days_by_hour[hour] = paris_day(from_us(hour * _HOUR_US))
    return day


class _Session:
    """A session row in memory while a batch is merged; times in microseconds."""

    __slots__ = (
        "calling",
        "cause",
        "closed_by_reload",
        "contract_id",
        "days",
        "days_text",
        "dirty",
        "framed_ip",
        "id",
        "input",
        "key",
        "last",
        "login",
        "nas",
        "old_days",
        "output",
        "session_id",
        "session_time",
        "started",
        "stopped",
    )

    key: str
    nas: str
    session_id: str
    login: str
    contract_id: int | None
    started: int
    last: int
    stopped: int | None
    closed_by_reload: bool
    input: int
    output: int
    session_time: int
    cause: str
    framed_ip: str
    calling: str
    days: dict[int, tuple[int, int]]
    days_text: str

    def __init__(self) -> None:
        self.id: int | None = None
        self.dirty = False
        self.old_days: dict[int, tuple[int, int]] | None = None

    def touch_days(self) -> dict[int, tuple[int, int]]:
        if self.old_days is None:
            self.old_days = dict(self.days)
        return self.days

    def days_stored(self) -> str:
        """``usage_days`` to write: formatted again only when the days changed."""
        return self.days_text if self.old_days is None else usage_days_format(self.days)


class _Record:
    """A record's times in microseconds, computed once."""

    __slots__ = ("at", "record", "start")

    def __init__(self, record: AccountingRecord) -> None:
        self.record = record
        self.at = to_us(record.at)
        if record.started_at is not None:
            self.start = to_us(record.started_at)
        else:
            self.start = self.at - record.session_time * 1_000_000


def _new_session(item: _Record, key: str, contract_id: int | None) -> _Session:
    record = item.record
    s = _Session()
    s.key = key
    s.nas = record.nas
    s.session_id = record.session_id
    s.login = record.login
    s.contract_id = contract_id
    s.started = item.start
    s.last = item.at
    s.stopped = item.at if record.status == STOP else None
    s.closed_by_reload = False
    s.input = record.input_octets
    s.output = record.output_octets
    s.session_time = record.session_time
    s.cause = record.terminate_cause if record.status == STOP else ""
    s.framed_ip = record.framed_ip
    s.calling = record.calling_station
    s.days = {}
    s.days_text = ""
    s.old_days = {}
    if record.input_octets or record.output_octets:
        s.days[_day_us(item.at)] = (record.input_octets, record.output_octets)
    s.dirty = True
    return s


def _merge(s: _Session, item: _Record) -> None:
    record = item.record
    if item.start < s.started:
        s.started = item.start
        s.dirty = True
    inp, out, st = record.input_octets, record.output_octets, record.session_time
    if st > s.session_time or inp > s.input or out > s.output:
        # The record that brings progress dates the session's last sign of life.
        if item.at > s.last:
            s.last = item.at
        s.session_time = max(s.session_time, st)
        s.input = max(s.input, inp)
        s.output = max(s.output, out)
        s.dirty = True
    if record.status == STOP and (s.stopped is None or s.closed_by_reload or item.at < s.stopped):
        s.stopped = item.at
        s.closed_by_reload = False
        s.cause = record.terminate_cause
        s.dirty = True
    if not s.framed_ip and record.framed_ip:
        s.framed_ip = record.framed_ip
        s.dirty = True
    if not s.calling and record.calling_station:
        s.calling = record.calling_station
        s.dirty = True
    if inp or out:
        day = _day_us(item.at)
        current = s.days.get(day)
        if current is None or inp > current[0] or out > current[1]:
            s.touch_days()[day] = (
                (inp, out) if current is None else (max(inp, current[0]), max(out, current[1]))
            )
            s.dirty = True


def _reload_close(s: _Session, reloads: list[int]) -> None:
    """A session without Stop ends at the first reboot of its NAS after its last record."""
    if s.stopped is not None and not s.closed_by_reload:
        return
    index = bisect_left(reloads, max(s.last, s.started))
    end = reloads[index] if index < len(reloads) else None
    if end != s.stopped:
        s.stopped = end
        s.closed_by_reload = end is not None
        s.cause = "NAS-Reboot" if end is not None else ""
        s.dirty = True


# --- SQL, portable: PostgreSQL arrays and COPY, SQLite executemany ---------------------------

_TABLE = AccountingSession._meta.db_table
_USAGE = DailyUsage._meta.db_table
_RELOAD = NasReload._meta.db_table
_COLUMNS_HEAD = "id, key, nas_address, session_id, login, contract_id, "
_COLUMNS_TAIL = (
    "closed_by_reload, input_octets, output_octets, session_time, terminate_cause, "
    "framed_ip, calling_station, usage_days"
)
# PostgreSQL hands the times over as integer microseconds (no datetime to build per row).
_SELECT_PG = (
    _COLUMNS_HEAD
    + "(EXTRACT(EPOCH FROM started_at) * 1000000)::bigint, "
    + "(EXTRACT(EPOCH FROM last_record_at) * 1000000)::bigint, "
    + "(EXTRACT(EPOCH FROM stopped_at) * 1000000)::bigint, "
    + _COLUMNS_TAIL
)
_SELECT_SQLITE = _COLUMNS_HEAD + "started_at, last_record_at, stopped_at, " + _COLUMNS_TAIL
_INSERT_COLUMNS = (
    "key",
    "nas_address",
    "session_id",
    "login",
    "contract_id",
    "started_at",
    "last_record_at",
    "stopped_at",
    "closed_by_reload",
    "input_octets",
    "output_octets",
    "session_time",
    "terminate_cause",
    "framed_ip",
    "calling_station",
    "usage_days",
)
_TIMES = ("started_at", "last_record_at", "stopped_at")
_UPDATE_COLUMNS = (
    ("contract_id", "bigint"),
    ("started_at", "bigint"),
    ("last_record_at", "bigint"),
    ("stopped_at", "bigint"),
    ("closed_by_reload", "boolean"),
    ("input_octets", "bigint"),
    ("output_octets", "bigint"),
    ("session_time", "bigint"),
    ("terminate_cause", "text"),
    ("framed_ip", "text"),
    ("calling_station", "text"),
    ("usage_days", "text"),
)


# Per-connection scratch tables the batch is copied into (COPY is the cheapest way in), then
# applied and emptied by one statement.
_SESSION_TEMP = "network_accounting_batch"
_TEMP_COLUMNS = (
    ("kind", "char(1)"),  # s: a session, u: a (contract, day) usage increment
    ("day", "date"),
    ("id", "bigint"),
    ("key", "text"),
    ("nas_address", "text"),
    ("session_id", "text"),
    ("login", "text"),
    *_UPDATE_COLUMNS,
)
_temp_ready: set[tuple[int, int]] = set()


def _batch_tables(cursor: Any) -> None:
    raw = cursor.connection
    key = (id(raw), raw.info.backend_pid)
    if key in _temp_ready:
        return
    columns = ", ".join(f"{name} {kind}" for name, kind in _TEMP_COLUMNS)
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_SESSION_TEMP} ({columns})")
    if len(_temp_ready) > 1000:
        _temp_ready.clear()
    # Known to exist once committed (a rolled back batch takes its CREATE with it).
    transaction.on_commit(lambda: _temp_ready.add(key))


def _value(name: str) -> str:
    return f"to_timestamp(v.{name} / 1000000.0)" if name in _TIMES else f"v.{name}"


_UPSERT_USAGE = (
    f"ON CONFLICT (contract_id, day) DO UPDATE SET "
    f"input_octets = {_USAGE}.input_octets + EXCLUDED.input_octets, "
    f"output_octets = {_USAGE}.output_octets + EXCLUDED.output_octets"
)
_INSERT_NAMES = ", ".join(_INSERT_COLUMNS)
_INSERT_VALUES = ", ".join(_value(name) for name in _INSERT_COLUMNS)
_UPDATE_SETS = ", ".join(f"{name} = {_value(name)}" for name, _kind in _UPDATE_COLUMNS)
_APPLY_PG = (
    f"WITH v AS (DELETE FROM {_SESSION_TEMP} RETURNING *), "  # noqa: S608 - fixed names only
    f"created AS (INSERT INTO {_TABLE} ({_INSERT_NAMES}) "
    f"SELECT {_INSERT_VALUES} FROM v WHERE v.kind = 's' AND v.id IS NULL), "
    f"changed AS (UPDATE {_TABLE} AS s SET {_UPDATE_SETS} "
    "FROM v WHERE v.kind = 's' AND v.id IS NOT NULL AND s.id = v.id) "
    f"INSERT INTO {_USAGE} (contract_id, day, input_octets, output_octets) "
    f"SELECT contract_id, day, input_octets, output_octets FROM v WHERE v.kind = 'u' "
    f"{_UPSERT_USAGE}"
)


# One writer at a time (the server and a radacct sync may run together): the read-merge-write
# of a batch must not interleave with another's. The same round trip tells the planner to join
# the batch to the sessions by their index: the scratch tables have no statistics, and a hash
# join would read the whole sessions table for a batch of a few hundred rows.
_LOCK_PG = (
    "SELECT pg_advisory_xact_lock(4242002866), "
    "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)


def _write_pg(
    cursor: Any, sessions: list[_Session], usage: dict[tuple[int, int], list[int]]
) -> None:
    """New and changed sessions and the usage of a batch: one COPY, one statement."""
    rows = [(c, day_of(d), i, o) for (c, d), (i, o) in usage.items() if i or o]
    if not sessions and not rows:
        return
    _batch_tables(cursor)
    with cursor.cursor.copy(f"COPY {_SESSION_TEMP} FROM STDIN") as copy:
        for s in sessions:
            copy.write_row(
                (
                    "s",
                    None,
                    s.id,
                    s.key,
                    s.nas[:64],
                    s.session_id[:253],
                    s.login[:64],
                    s.contract_id,
                    s.started,
                    s.last,
                    s.stopped,
                    s.closed_by_reload,
                    s.input,
                    s.output,
                    s.session_time,
                    s.cause[:40],
                    s.framed_ip[:45],
                    s.calling[:64],
                    s.days_stored(),
                )
            )
        blank = (None,) * 7
        for contract_id, day, inp, out in rows:
            # kind, day, id…login (5), contract_id, times (3) and flag, octets, the rest
            copy.write_row(("u", day, *blank[:5], contract_id, *blank[:4], inp, out, *blank[:5]))
    cursor.execute(_APPLY_PG)


def _sqlite_time(value: int | None) -> Any:
    if value is None:
        return None
    return connection.ops.adapt_datetimefield_value(from_us(value))


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sessions_read(cursor: Any, keys: list[str], pg: bool) -> dict[str, _Session]:
    """Take the ingestion lock (PostgreSQL) and read the sessions of ``keys``."""
    rows: list[Any] = []
    if pg:
        # One round trip: the lock, then the read (run in that order by the server, so the
        # read sees every batch committed before the lock was granted). No row lock: nothing
        # else writes sessions. Server-side binding: the keys go as one array parameter.
        raw = cursor.connection
        with psycopg.Cursor(raw) as lock, psycopg.Cursor(raw) as read:
            with raw.pipeline():
                lock.execute(_LOCK_PG)
                if keys:
                    read.execute(f"SELECT {_SELECT_PG} FROM {_TABLE} WHERE key = ANY(%s)", [keys])  # noqa: S608
            if keys:
                rows = read.fetchall()
    else:
        for chunk in _chunks(keys):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {_SELECT_SQLITE} FROM {_TABLE} WHERE key IN ({marks})",  # noqa: S608
                list(chunk),
            )
            rows.extend(cursor.fetchall())
    sessions = {}
    for row in rows:
        s = _Session()
        (
            s.id,
            s.key,
            s.nas,
            s.session_id,
            s.login,
            s.contract_id,
            started,
            last,
            stopped,
            closed,
            s.input,
            s.output,
            s.session_time,
            s.cause,
            s.framed_ip,
            s.calling,
            days,
        ) = row
        if pg:
            s.started, s.last, s.stopped = started, last, stopped
        else:
            s.started = to_us(_sqlite_datetime(started))
            s.last = to_us(_sqlite_datetime(last))
            s.stopped = to_us(_sqlite_datetime(stopped)) if stopped is not None else None
        s.closed_by_reload = bool(closed)
        s.days = usage_days_parse(days)
        s.days_text = days
        sessions[s.key] = s
    return sessions


def _sqlite_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _sessions_insert(cursor: Any, sessions: list[_Session]) -> None:
    """SQLite: the new sessions."""
    if not sessions:
        return
    columns = ", ".join(_INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    cursor.executemany(
        f"INSERT INTO {_TABLE} ({columns}) VALUES ({marks})",  # noqa: S608
        [
            (
                s.key,
                s.nas[:64],
                s.session_id[:253],
                s.login[:64],
                s.contract_id,
                _sqlite_time(s.started),
                _sqlite_time(s.last),
                _sqlite_time(s.stopped),
                s.closed_by_reload,
                s.input,
                s.output,
                s.session_time,
                s.cause[:40],
                s.framed_ip[:45],
                s.calling[:64],
                s.days_stored(),
            )
            for s in sessions
        ],
    )


def _sessions_update(cursor: Any, sessions: list[_Session]) -> None:
    """SQLite: the changed sessions."""
    if not sessions:
        return
    sets = ", ".join(f"{name} = %s" for name, _type in _UPDATE_COLUMNS)
    cursor.executemany(
        f"UPDATE {_TABLE} SET {sets} WHERE id = %s",  # noqa: S608
        [
            (
                s.contract_id,
                _sqlite_time(s.started),
                _sqlite_time(s.last),
                _sqlite_time(s.stopped),
                s.closed_by_reload,
                s.input,
                s.output,
                s.session_time,
                s.cause[:40],
                s.framed_ip[:45],
                s.calling[:64],
                s.days_stored(),
                s.id,
            )
            for s in sessions
        ],
    )


def _usage_add(cursor: Any, usage: dict[tuple[int, int], list[int]]) -> None:
    """SQLite: the batch's usage added to each (contract, day)."""
    rows = [
        (contract_id, day_of(day).isoformat(), inp, out)
        for (contract_id, day), (inp, out) in usage.items()
        if inp or out
    ]
    if rows:
        cursor.executemany(
            f"INSERT INTO {_USAGE} (contract_id, day, input_octets, output_octets) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s) {_UPSERT_USAGE}",
            rows,
        )


def _reloads_record(cursor: Any, reloads: list[tuple[str, int]], pg: bool) -> None:
    """Store the reboots and close the NAS's sessions that were open then (those of this
    batch are already closed in memory: the same rule, so the update leaves them as they are)."""
    for nas, at in reloads:
        moment = from_us(at) if pg else _sqlite_time(at)
        cursor.execute(
            f"INSERT INTO {_RELOAD} (nas_address, at) VALUES (%s, %s) "  # noqa: S608
            "ON CONFLICT (nas_address, at) DO NOTHING",
            [nas, moment],
        )
        cursor.execute(
            f"UPDATE {_TABLE} SET stopped_at = %s, closed_by_reload = %s, "  # noqa: S608
            "terminate_cause = 'NAS-Reboot' WHERE nas_address = %s "
            "AND (stopped_at IS NULL OR (closed_by_reload AND stopped_at > %s)) "
            "AND last_record_at <= %s AND started_at <= %s",
            [moment, True, nas, moment, moment, moment],
        )


# --- the store -----------------------------------------------------------------------------


class AccountingStore:
    """Stores batches of records. One instance per process: it caches which contract each
    login belongs to, which logins are known to be active (never activated again), and the
    NAS reboots."""

    def __init__(self, *, actor: Actor | None = None) -> None:
        self.actor = actor or Actor.system("Serveur RADIUS")
        self._contract_of: dict[str, int | None] = {}
        self._unknown_until: dict[str, float] = {}
        self._awaiting: set[str] = set()
        self._reloads: dict[str, list[int]] = {}

    # Logins → contracts, at most one query per batch, only for logins never seen before.
    def _contracts_resolve(self, logins: set[str]) -> None:
        now = monotonic.monotonic()
        missing = [
            login
            for login in logins
            if login not in self._contract_of or self._unknown_until.get(login, now + 1) <= now
        ]
        if not missing:
            return
        awaiting = [str(s) for s in AWAITING_ACTIVATION]
        found: dict[str, tuple[int, bool]] = {}
        for chunk in _chunks(missing):
            rows = Contract.objects.filter(network_login__in=list(chunk)).values_list(
                "network_login", "pk", "status", "activation_date"
            )
            for login, pk, status, activation_date in rows:
                found[login] = (pk, activation_date is None and status in awaiting)
        for login in missing:
            if login in found:
                pk, waits = found[login]
                self._contract_of[login] = pk
                self._unknown_until.pop(login, None)
                if waits:
                    self._awaiting.add(login)
            else:
                self._contract_of[login] = None
                self._unknown_until[login] = now + UNKNOWN_LOGIN_RETRY_S

    def _reloads_load(self, nas_addresses: set[str]) -> None:
        missing = [nas for nas in nas_addresses if nas not in self._reloads]
        if not missing:
            return
        for nas in missing:
            self._reloads[nas] = []
        for nas, at in NasReload.objects.filter(nas_address__in=missing).values_list(
            "nas_address", "at"
        ):
            self._reloads[nas].append(to_us(at))
        for nas in missing:
            self._reloads[nas].sort()

    def forget(self) -> None:
        """Drop the caches (after the database was rolled back, e.g. a failed batch)."""
        self._contract_of.clear()
        self._unknown_until.clear()
        self._awaiting.clear()
        self._reloads.clear()

    def store(self, records: Sequence[AccountingRecord]) -> StoreResult:
        result = StoreResult(records=len(records))
        if not records:
            return result
        try:
            with transaction.atomic():
                self._store(records, result)
        except Exception:
            self.forget()
            raise
        return result

    def _store(self, records: Sequence[AccountingRecord], result: StoreResult) -> None:
        session_records: list[tuple[str, _Record]] = []
        reloads: list[tuple[str, int]] = []
        logins: set[str] = set()
        nas_seen: set[str] = set()
        for record in records:
            if record.status in RELOAD_STATUSES:
                reloads.append((record.nas, to_us(record.at)))
                nas_seen.add(record.nas)
            elif record.status in SESSION_STATUSES and record.session_id:
                session_records.append(
                    (session_key(record.nas, record.session_id), _Record(record))
                )
                logins.add(record.login)
                nas_seen.add(record.nas)
        pg = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            # Reads that need no lock first: contracts of new logins, reboots of new NAS.
            self._contracts_resolve(logins)
            self._reloads_load(nas_seen)
            for nas, at in reloads:
                times = self._reloads[nas]
                index = bisect_left(times, at)
                if index == len(times) or times[index] != at:
                    times.insert(index, at)
            sessions = _sessions_read(cursor, list({key for key, _r in session_records}), pg)
            created: list[_Session] = []
            first_start: dict[str, int] = {}
            awaiting = self._awaiting
            for key, item in session_records:
                s = sessions.get(key)
                if s is None:
                    s = _new_session(item, key, self._contract_of.get(item.record.login))
                    sessions[key] = s
                    created.append(s)
                else:
                    _merge(s, item)
                login = item.record.login
                if login in awaiting and (
                    login not in first_start or item.start < first_start[login]
                ):
                    first_start[login] = item.start
            usage: dict[tuple[int, int], list[int]] = {}
            updated: list[_Session] = []
            for s in sessions.values():
                reload_times = self._reloads.get(s.nas)
                if reload_times:
                    _reload_close(s, reload_times)
                if not s.dirty:
                    continue
                if s.id is not None:
                    updated.append(s)
                if s.contract_id is not None and s.old_days is not None:
                    self._usage_diff(usage, s)
            if pg:
                _write_pg(cursor, created + updated, usage)
            else:
                _sessions_insert(cursor, created)
                _sessions_update(cursor, updated)
                _usage_add(cursor, usage)
            if reloads:
                _reloads_record(cursor, reloads, pg)
        result.sessions_created = len(created)
        result.sessions_updated = len(updated)
        for login, start in first_start.items():
            self._activate(login, start, result)

    @staticmethod
    def _usage_diff(usage: dict[tuple[int, int], list[int]], s: _Session) -> None:
        assert s.old_days is not None and s.contract_id is not None
        days, old = s.days, s.old_days
        if len(days) == 1 and len(old) <= 1 and old.keys() <= days.keys():
            # The usual session, within one day: what it adds is its rise on that day.
            ((day, (a_in, a_out)),) = days.items()
            b_in, b_out = old.get(day, (0, 0))
            total = usage.setdefault((s.contract_id, day), [0, 0])
            total[0] += a_in - b_in
            total[1] += a_out - b_out
            return
        before = usage_contributions(old)
        after = usage_contributions(days)
        for day in before.keys() | after.keys():
            b_in, b_out = before.get(day, (0, 0))
            a_in, a_out = after.get(day, (0, 0))
            if a_in != b_in or a_out != b_out:
                total = usage.setdefault((s.contract_id, day), [0, 0])
                total[0] += a_in - b_in
                total[1] += a_out - b_out

    def _activate(self, login: str, start: int, result: StoreResult) -> None:
        """N2/C4: the first record of a login activates its contract, on the Paris day the
        session started. Exactly once: the service ignores a contract already active, and the
        login leaves the awaiting set whatever the answer."""
        contract_id = self._contract_of.get(login)
        self._awaiting.discard(login)
        if contract_id is None:
            return
        on = day_of(_day_us(start))
        try:
            contract = contract_activate(
                contract=Contract(pk=contract_id), on=on, source="radius", actor=self.actor
            )
        except DomainError as error:
            logger.warning(
                "activation refused login=%s contract=%s on=%s: %s",
                login,
                contract_id,
                on,
                error.message,
            )
            return
        if contract.activation_date is not None:
            result.activated.append(contract.reference)
