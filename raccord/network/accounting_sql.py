"""SQL of the accounting store, portable: on PostgreSQL one COPY and one statement per batch,
on SQLite executemany. Used only by ``raccord.network.accounting``."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection, transaction

from raccord.network.merge import SessionState, day_of, from_us, to_us, usage_days_parse
from raccord.network.models import AccountingSession, DailyUsage, NasReload

_CHUNK = 500

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
    f"ORDER BY contract_id, day {_UPSERT_USAGE}"
)


# Writers exclude each other by partition of the session keys: a batch locks the partitions
# its keys fall in (all of them when it records a NAS reboot, which closes sessions of every
# partition), always in ascending order, so two writers never wait on each other in a cycle.
# The server writes each partition from a lane of its own (two batches in flight), the radacct
# sync locks them all. The hash is crc32, the same in every process (Python's ``hash`` of a
# string is not). The same round trip tells the planner to join the batch to the sessions by
# their index: the scratch tables have no statistics, and a hash join would read the whole
# sessions table for a batch of a few hundred rows.
PARTITIONS = 2
_LOCK_BASE = 4242002866
# Activations (contract row locks, events) are serialised across writers: their locks are taken
# after the batch's usage rows, and in no order another writer could cross.
_ACTIVATION_LOCK = _LOCK_BASE + 1000
_PLANNER_PG = (
    "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)


def partition_of(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


def _lock_pg(partitions: Sequence[int]) -> str:
    # A select list is evaluated left to right: the locks are taken in ascending order.
    locks = "".join(f"pg_advisory_xact_lock({_LOCK_BASE + p}), " for p in sorted(set(partitions)))
    return f"SELECT {locks}{_PLANNER_PG}"


def activation_lock(cursor: Any) -> None:
    """PostgreSQL: taken once by a batch before its first activation, held to its commit."""
    cursor.execute(f"SELECT pg_advisory_xact_lock({_ACTIVATION_LOCK})")


def write_pg(
    cursor: Any, sessions: list[SessionState], usage: dict[tuple[int, int], list[int]]
) -> None:
    """New and changed sessions and the usage of a batch: one COPY, one statement."""
    # (contract, day) rows in one order for every writer: two lanes adding to the same rows
    # wait for each other, never in a cycle.
    rows = [(c, day_of(d), i, o) for (c, d), (i, o) in sorted(usage.items()) if i or o]
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
                    *session_cells(s),
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


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sessions_read(
    cursor: Any, keys: list[str], pg: bool, partitions: Sequence[int]
) -> dict[str, SessionState]:
    """Lock ``partitions`` (PostgreSQL) and read the sessions of ``keys``."""
    rows: list[Any] = []
    if pg:
        if not partitions:
            return {}
        # One round trip: the locks, then the read (run in that order by the server, so the
        # read sees every batch committed before the locks were granted). No row lock: nothing
        # else writes these sessions. Server-side binding: the keys go as one array parameter.
        raw = cursor.connection
        with psycopg.Cursor(raw) as lock, psycopg.Cursor(raw) as read:
            with raw.pipeline():
                lock.execute(_lock_pg(partitions))
                if keys:
                    read.execute(f"SELECT {_SELECT_PG} FROM {_TABLE} WHERE key = ANY(%s)", [keys])  # noqa: S608
            if keys:
                rows = read.fetchall()
    else:
        for chunk in chunks(keys):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {_SELECT_SQLITE} FROM {_TABLE} WHERE key IN ({marks})",  # noqa: S608
                list(chunk),
            )
            rows.extend(cursor.fetchall())
    sessions = {}
    for row in rows:
        s = SessionState()
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


def _same_time(value: Any) -> Any:
    return value


def session_cells(s: SessionState, time: Callable[[Any], Any] = _same_time) -> tuple[Any, ...]:
    """A session's changing values in the order of ``_UPDATE_COLUMNS`` (the end of
    ``_INSERT_COLUMNS`` and of the PostgreSQL COPY row too), its times through ``time``."""
    return (
        s.contract_id,
        time(s.started),
        time(s.last),
        time(s.stopped),
        s.closed_by_reload,
        s.input,
        s.output,
        s.session_time,
        s.cause[:40],
        s.framed_ip[:45],
        s.calling[:64],
        s.days_stored(),
    )


def sessions_insert(cursor: Any, sessions: list[SessionState]) -> None:
    """SQLite: the new sessions."""
    if not sessions:
        return
    columns = ", ".join(_INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    cursor.executemany(
        f"INSERT INTO {_TABLE} ({columns}) VALUES ({marks})",  # noqa: S608
        [
            (s.key, s.nas[:64], s.session_id[:253], s.login[:64], *session_cells(s, _sqlite_time))
            for s in sessions
        ],
    )


def sessions_update(cursor: Any, sessions: list[SessionState]) -> None:
    """SQLite: the changed sessions."""
    if not sessions:
        return
    sets = ", ".join(f"{name} = %s" for name, _type in _UPDATE_COLUMNS)
    cursor.executemany(
        f"UPDATE {_TABLE} SET {sets} WHERE id = %s",  # noqa: S608
        [(*session_cells(s, _sqlite_time), s.id) for s in sessions],
    )


def usage_add(cursor: Any, usage: dict[tuple[int, int], list[int]]) -> None:
    """SQLite: the batch's usage added to each (contract, day)."""
    rows = [
        (contract_id, day_of(day).isoformat(), inp, out)
        for (contract_id, day), (inp, out) in sorted(usage.items())
        if inp or out
    ]
    if rows:
        cursor.executemany(
            f"INSERT INTO {_USAGE} (contract_id, day, input_octets, output_octets) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s) {_UPSERT_USAGE}",
            rows,
        )


def reloads_record(cursor: Any, reloads: list[tuple[str, int]], pg: bool) -> None:
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
