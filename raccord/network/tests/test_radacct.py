"""``raccord radius sync-radacct``: FreeRADIUS's PostgreSQL ``radacct`` table, read
incrementally and idempotently into the same sessions as the server (N1, N2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.network.models import AccountingSession, DailyUsage, RadacctCursor
from raccord.network.radacct import RadacctReader, dsn_source

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the radacct schema is FreeRADIUS's PostgreSQL one"
)

SCHEMA = "freeradius_test"
# From FreeRADIUS 3.2 raddb/mods-config/sql/main/postgresql/schema.sql (the tables used here).
FREERADIUS_DDL = """
CREATE TABLE IF NOT EXISTS radacct (
	RadAcctId		bigserial PRIMARY KEY,
	AcctSessionId		text NOT NULL,
	AcctUniqueId		text NOT NULL UNIQUE,
	UserName		text,
	Realm			text,
	NASIPAddress		inet NOT NULL,
	NASPortId		text,
	NASPortType		text,
	AcctStartTime		timestamp with time zone,
	AcctUpdateTime		timestamp with time zone,
	AcctStopTime		timestamp with time zone,
	AcctInterval		bigint,
	AcctSessionTime		bigint,
	AcctAuthentic		text,
	ConnectInfo_start	text,
	ConnectInfo_stop	text,
	AcctInputOctets		bigint,
	AcctOutputOctets	bigint,
	CalledStationId		text,
	CallingStationId	text,
	AcctTerminateCause	text,
	ServiceType		text,
	FramedProtocol		text,
	FramedIPAddress		inet,
	FramedIPv6Address	inet,
	FramedIPv6Prefix	inet,
	FramedInterfaceId	text,
	DelegatedIPv6Prefix	inet,
	Class			text
);
CREATE INDEX radacct_active_session_idx ON radacct (AcctUniqueId) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_bulk_close ON radacct (NASIPAddress, AcctStartTime) WHERE AcctStopTime IS NULL;
CREATE INDEX radacct_start_user_idx ON radacct (AcctStartTime, UserName);
CREATE TABLE IF NOT EXISTS radusergroup (
	id			serial PRIMARY KEY,
	UserName		text NOT NULL DEFAULT '',
	GroupName		text NOT NULL DEFAULT '',
	priority		integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS radgroupreply (
	id			serial PRIMARY KEY,
	GroupName		text NOT NULL DEFAULT '',
	Attribute		text NOT NULL DEFAULT '',
	op			VARCHAR(2) NOT NULL DEFAULT '=',
	Value			text NOT NULL DEFAULT ''
);
"""


def freeradius_dsn() -> str:
    """The test database, seen by FreeRADIUS's tables' schema first."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "postgres")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    options = quote(f"-c search_path={SCHEMA}")
    return f"postgresql://{user}{password}@{host}:{port}/{s['NAME']}?options={options}"


@contextmanager
def freeradius_schema() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(freeradius_dsn(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(FREERADIUS_DDL)
        try:
            yield conn
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture
def radacct(transactional_db: None) -> Iterator[psycopg.Connection[Any]]:
    with freeradius_schema() as conn:
        yield conn


START = paris(2027, 1, 12, 20, 15)


def _start(conn: psycopg.Connection[Any], login: str, session: str, at=START) -> None:
    """What FreeRADIUS's ``start`` query writes."""
    conn.execute(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, "
        "acctstarttime, acctupdatetime, acctsessiontime, acctinputoctets, acctoutputoctets, "
        "callingstationid, framedipaddress) "
        "VALUES (%s, %s, %s, '192.0.2.1', %s, %s, 0, 0, 0, 'AA-BB-CC-00-11-22', '100.64.0.7')",
        [session, f"u-{session}", login, at, at],
    )


def _interim(conn, session: str, seconds: int, received: int, sent: int) -> None:
    conn.execute(
        "UPDATE radacct SET acctupdatetime = acctstarttime + %s, acctsessiontime = %s, "
        "acctoutputoctets = %s, acctinputoctets = %s WHERE acctsessionid = %s",
        [timedelta(seconds=seconds), seconds, received, sent, session],
    )


def _stop(conn, session: str, seconds: int, received: int, sent: int) -> None:
    conn.execute(
        "UPDATE radacct SET acctstoptime = acctstarttime + %s, acctupdatetime = acctstarttime "
        "+ %s, acctsessiontime = %s, acctoutputoctets = %s, acctinputoctets = %s, "
        "acctterminatecause = 'Lost-Carrier' WHERE acctsessionid = %s",
        [timedelta(seconds=seconds)] * 2 + [seconds, received, sent, session],
    )


def _state() -> tuple[list, list]:
    return (
        list(
            AccountingSession.objects.order_by("key").values_list(
                "key",
                "started_at",
                "last_record_at",
                "stopped_at",
                "input_octets",
                "output_octets",
                "terminate_cause",
                "framed_ip",
                "calling_station",
            )
        ),
        list(
            DailyUsage.objects.order_by("day").values_list("day", "input_octets", "output_octets")
        ),
    )


def test_sync_follows_start_interim_stop_and_activates_once__N1_N2(radacct, make_line):
    # given: a line awaiting its first connection
    line = make_line(received=date(2027, 1, 8))
    reader = RadacctReader(dsn=freeradius_dsn(), lag_seconds=60)
    # when: FreeRADIUS records the Start, and the sync runs
    _start(radacct, line.network_login, "sess-1")
    assert reader.sync() == (1, 1)
    # then
    line.refresh_from_db()
    assert line.status == Contract.Status.ACTIVE
    assert line.activation_date == date(2027, 1, 12)
    session = AccountingSession.objects.get()
    assert session.key == "192.0.2.1|sess-1"
    assert session.started_at == START
    assert (session.framed_ip, session.calling_station) == ("100.64.0.7", "AA-BB-CC-00-11-22")

    # when: an interim update, a second session, then the stop of the first
    _interim(radacct, "sess-1", 2700, 7_000_000, 300_000)
    _start(radacct, line.network_login, "sess-2", at=START + timedelta(hours=1))
    reader.sync()
    _stop(radacct, "sess-1", 3600, 9_000_000, 400_000)
    reader.sync()
    # then
    first = AccountingSession.objects.get(session_id="sess-1")
    assert first.stopped_at == START + timedelta(hours=1)
    assert first.terminate_cause == "Lost-Carrier"
    assert (first.output_octets, first.input_octets) == (9_000_000, 400_000)
    assert AccountingSession.objects.count() == 2
    assert list(DailyUsage.objects.values_list("day", "output_octets", "input_octets")) == [
        (date(2027, 1, 12), 9_000_000, 400_000)
    ]
    assert RadacctCursor.objects.get().last_id == 2


def test_reading_again_changes_nothing_even_from_a_new_process__N1(radacct, make_line):
    # given
    line = make_line(received=date(2027, 1, 8))
    _start(radacct, line.network_login, "sess-1")
    _stop(radacct, "sess-1", 3600, 9_000_000, 400_000)
    RadacctReader(dsn=freeradius_dsn()).sync()
    before = _state()
    # when: the same reader, a new one (lag re-reads the last rows) and one from scratch
    RadacctReader(dsn=freeradius_dsn()).sync()
    RadacctCursor.objects.all().delete()
    read, _stored = RadacctReader(dsn=freeradius_dsn()).sync()
    # then
    assert read == 1
    assert _state() == before


def test_the_command_reads_pages_to_the_end(radacct, make_line):
    line = make_line(received=date(2027, 1, 8))
    for n in range(5):
        _start(radacct, line.network_login, f"s{n}", at=START + timedelta(minutes=n))
    out = StringIO()
    call_command("radius", "sync-radacct", "--dsn", freeradius_dsn(), "--batch", "2", stdout=out)
    assert "Synchronisation terminée : 5 lignes lues." in out.getvalue()
    assert AccountingSession.objects.count() == 5


def test_the_cursor_is_named_without_the_password():
    assert (
        dsn_source("postgresql://radius:s3cret@db.example:5433/radius", "radacct")
        == "db.example:5433/radius#radacct"
    )


def test_a_pass_records_when_it_ended_and_clears_the_last_error(radacct):
    # (the back-office's network feed page reads it: a sync that stopped shows as silent)
    at = datetime(2027, 1, 12, 20, 0, tzinfo=UTC)
    reader = RadacctReader(dsn=freeradius_dsn(), clock=lambda: at.timestamp())
    RadacctCursor.objects.create(source=reader.source, last_error="connection refused")
    assert reader.sync() == (0, 0)
    reader.close()
    cursor = RadacctCursor.objects.get()
    assert (cursor.checked_at, cursor.last_error) == (at, "")
