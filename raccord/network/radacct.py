"""``raccord radius sync-radacct``: reads the ``radacct`` table that FreeRADIUS's SQL module
writes (its PostgreSQL schema) and feeds the same store as the built-in server.

FreeRADIUS updates a session's row in place (start, interim updates, stop), so the table is
read by the row's latest time, ``GREATEST(acctstarttime, acctupdatetime, acctstoptime)``, with
keyset paging on (that time, radacctid). The position is kept in ``RadacctCursor``; each pass
starts again ``lag`` seconds before it, because a row's time is the NAS's event time and may
be committed a little after later ones. Reading a row twice changes nothing (N1): rows already
seen with the same time in this process are skipped before the store, the others merge.

For a large table, an index on the expression makes each pass cheap:
``CREATE INDEX radacct_raccord_sync ON radacct
((GREATEST(acctstarttime, acctupdatetime, acctstoptime)), radacctid);``"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import psycopg
from django.db import close_old_connections, transaction
from django.db.models import F

from raccord.core.events import Actor
from raccord.network.accounting import (
    INTERIM,
    START,
    STOP,
    AccountingRecord,
    AccountingStore,
)
from raccord.network.models import RadacctCursor

logger = logging.getLogger(__name__)
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_MOMENT = "GREATEST(acctstarttime, acctupdatetime, acctstoptime)"
_COLUMNS = (
    "radacctid, acctsessionid, username, nasipaddress, acctstarttime, acctupdatetime, "
    "acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, acctterminatecause, "
    "framedipaddress, callingstationid"
)


def dsn_source(dsn: str, table: str) -> str:
    """The cursor's name: host, port, database and table, never the password."""
    parts = urlsplit(dsn)
    host = parts.hostname or "local"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}#{table}"[:200]


def record_from_row(row: tuple[Any, ...]) -> AccountingRecord | None:
    (
        _id,
        session_id,
        login,
        nas,
        started,
        updated,
        stopped,
        session_time,
        input_octets,
        output_octets,
        cause,
        framed_ip,
        calling,
    ) = row
    at = stopped or updated or started
    if at is None or not session_id or nas is None:
        return None
    if stopped is not None:
        status = STOP
    elif updated is not None and started is not None and updated > started:
        status = INTERIM
    else:
        status = START
    return AccountingRecord(
        status=status,
        nas=str(nas),
        at=at,
        session_id=str(session_id),
        login=login or "",
        session_time=int(session_time or 0),
        input_octets=int(input_octets or 0),
        output_octets=int(output_octets or 0),
        started_at=started,
        terminate_cause=(cause or "") if stopped is not None else "",
        framed_ip=str(framed_ip) if framed_ip is not None else "",
        calling_station=calling or "",
    )


class RadacctReader:
    """Reads one radacct table into the store; ``sync()`` is one pass to the end."""

    def __init__(
        self,
        *,
        dsn: str,
        table: str = "radacct",
        batch: int = 2000,
        lag_seconds: float = 60.0,
        store: AccountingStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"nom de table invalide : {table!r}")
        self.dsn = dsn
        self.table = table
        self.batch = batch
        self.lag = timedelta(seconds=lag_seconds)
        self.store = store or AccountingStore(actor=Actor.system("Synchronisation radacct"))
        self.source = dsn_source(dsn, table)
        self.clock = clock
        self._seen: dict[int, datetime] = {}
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _cursor_row(self) -> RadacctCursor:
        row, _created = RadacctCursor.objects.get_or_create(source=self.source)
        return row

    def sync(self) -> tuple[int, int]:
        """Read every row changed since the cursor (minus the lag). Returns (rows read, records
        stored). Each page is stored, then the cursor moves, in one transaction."""
        position = self._cursor_row()
        since = position.last_update - self.lag if position.last_update else None
        after: tuple[datetime, int] | None = None
        read = stored = 0
        conn = self._connection()
        while True:
            if after is not None:
                where, params = f"({_MOMENT}, radacctid) > (%s, %s)", [after[0], after[1]]
            elif since is not None:
                where, params = f"{_MOMENT} > %s", [since]
            else:
                where, params = f"{_MOMENT} IS NOT NULL", []
            rows = conn.execute(
                f"SELECT {_COLUMNS}, {_MOMENT} FROM {self.table} WHERE {where} "  # noqa: S608 - table name checked
                f"ORDER BY {_MOMENT}, radacctid LIMIT %s",
                [*params, self.batch],
            ).fetchall()
            if not rows:
                break
            read += len(rows)
            records = []
            for row in rows:
                radacct_id, moment = row[0], row[-1]
                if self._seen.get(radacct_id) == moment:
                    continue
                record = record_from_row(row[:-1])
                if record is not None:
                    records.append(record)
            last = rows[-1]
            after = (last[-1], last[0])
            with transaction.atomic():
                if records:
                    self.store.store(records)
                RadacctCursor.objects.filter(pk=position.pk).update(
                    last_id=max(position.last_id, max(r[0] for r in rows)),
                    last_update=after[0]
                    if position.last_update is None or after[0] > position.last_update
                    else position.last_update,
                    rows_read=F("rows_read") + len(rows),
                )
            position.refresh_from_db()
            for row in rows:
                self._seen[row[0]] = row[-1]
            stored += len(records)
            if len(rows) < self.batch:
                break
        self._seen_trim(position.last_update)
        RadacctCursor.objects.filter(pk=position.pk).update(checked_at=self._now(), last_error="")
        return read, stored

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def failure_record(self, error: Exception) -> None:
        """Keep why the last pass failed, for the back-office's network feed page (the
        source's address is in the cursor's name, never its password)."""
        RadacctCursor.objects.update_or_create(
            source=self.source, defaults={"last_error": str(error).strip()[:300]}
        )

    def _seen_trim(self, newest: datetime | None) -> None:
        """Forget the rows that the next pass will not read again."""
        if newest is None or len(self._seen) < 10_000:
            return
        floor = newest - self.lag
        self._seen = {key: moment for key, moment in self._seen.items() if moment > floor}


def radacct_follow(
    *,
    dsn: str,
    table: str = "radacct",
    follow: bool = False,
    interval: float = 5.0,
    batch: int = 2000,
    lag_seconds: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """One pass, or with ``follow`` a pass every ``interval`` seconds until interrupted."""
    reader = RadacctReader(dsn=dsn, table=table, batch=batch, lag_seconds=lag_seconds)
    total = 0
    try:
        while True:
            try:
                read, stored = reader.sync()
            except psycopg.OperationalError as error:
                reader.failure_record(error)
                if not follow:
                    raise
                logger.warning("radacct unreachable, retrying: %s", error)
                reader.close()
                read = stored = 0
            total += read
            if progress is not None:
                progress(read, stored)
            if not follow:
                return total
            close_old_connections()
            sleep(interval)
    finally:
        reader.close()
