"""The store both ways in share: order-free merge (N1), daily usage, first connection (N2)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.network.accounting import (
    ACCOUNTING_ON,
    INTERIM,
    PARTITIONS,
    START,
    STOP,
    AccountingStore,
    partition_of,
    usage_contributions,
)
from raccord.network.models import AccountingSession, DailyUsage
from raccord.network.tests.conftest import NAS, record

GIB = 1 << 30


def _state() -> tuple[list[tuple], list[tuple]]:
    sessions = list(
        AccountingSession.objects.order_by("key").values_list(
            "key",
            "contract_id",
            "started_at",
            "last_record_at",
            "stopped_at",
            "closed_by_reload",
            "input_octets",
            "output_octets",
            "session_time",
            "terminate_cause",
            "usage_days",
        )
    )
    usage = list(
        DailyUsage.objects.order_by("contract_id", "day").values_list(
            "contract_id", "day", "input_octets", "output_octets"
        )
    )
    return sessions, usage


@pytest.fixture
def active(make_line) -> Contract:
    return make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))


def _life(login: str) -> list:
    """A session over midnight: start, two interims (one each side of midnight), stop."""
    return [
        record(START, login=login, at=paris(2027, 6, 1, 22, 0)),
        record(
            INTERIM, login=login, at=paris(2027, 6, 1, 23, 0), session_time=3600, inp=100, out=1000
        ),
        record(
            INTERIM, login=login, at=paris(2027, 6, 2, 1, 0), session_time=10800, inp=300, out=5000
        ),
        record(
            STOP,
            login=login,
            at=paris(2027, 6, 2, 2, 0),
            session_time=14400,
            inp=400,
            out=6000,
            cause="User-Request",
        ),
    ]


def test_a_session_is_stored_with_its_usage_per_paris_day__N1(active):
    # given
    store = AccountingStore()
    # when
    result = store.store(_life(active.network_login))
    # then
    session = AccountingSession.objects.get()
    assert result.sessions_created == 1
    assert session.contract_id == active.pk
    assert session.key == f"{NAS}|s1"
    assert session.started_at == paris(2027, 6, 1, 22, 0)
    assert session.stopped_at == paris(2027, 6, 2, 2, 0)
    assert session.last_record_at == paris(2027, 6, 2, 2, 0)
    assert (session.input_octets, session.output_octets, session.session_time) == (400, 6000, 14400)
    assert session.terminate_cause == "User-Request"
    usage = {u.day: (u.input_octets, u.output_octets) for u in DailyUsage.objects.all()}
    # 100/1000 counted by 23:00 on the 1st, the rest after midnight
    assert usage == {date(2027, 6, 1): (100, 1000), date(2027, 6, 2): (300, 5000)}


def test_any_order_and_repeats_give_the_same_state__N1(active, store):
    # given: the reference state, records in order, one by one
    life = _life(active.network_login)
    for item in life:
        store.store([item])
    expected = _state()
    # when: every other order, in batches or one by one, with repeats
    for order in itertools.permutations(life):
        AccountingSession.objects.all().delete()
        DailyUsage.objects.all().delete()
        fresh = AccountingStore()
        fresh.store(list(order[:2]))
        fresh.store([*order[2:], order[0]])
        fresh.store(list(order))
        # then
        assert _state() == expected, order


def test_a_duplicate_changes_nothing_even_received_later__N1(active, store):
    # given
    start = record(START, login=active.network_login, at=paris(2027, 6, 1, 22, 0))
    interim = record(
        INTERIM, login=active.network_login, at=paris(2027, 6, 1, 23), session_time=3600, out=9
    )
    store.store([start, interim])
    before = _state()
    # when: the NAS retransmits the interim (same content, received a little later)
    late_copy = record(
        INTERIM,
        login=active.network_login,
        at=paris(2027, 6, 1, 23, 0) + timedelta(seconds=3),
        session_time=3600,
        out=9,
    )
    store.store([late_copy])
    store.store([start])
    # then
    assert _state() == before


def test_octets_beyond_4_gib_are_counted_with_their_gigawords(active, store):
    # given: 5 GiB + 10 received (the server combines Acct-Output-Gigawords << 32)
    store.store(
        [
            record(
                INTERIM,
                login=active.network_login,
                at=paris(2027, 6, 1, 12),
                session_time=60,
                out=5 * (1 << 32) + 10,
            )
        ]
    )
    # then
    assert AccountingSession.objects.get().output_octets == 5 * (1 << 32) + 10
    assert DailyUsage.objects.get().output_octets == 5 * (1 << 32) + 10


def test_usage_moves_to_the_right_day_when_an_earlier_record_arrives_late__N1():
    # the running maximum per day: late day-1 record takes its share back from day 2
    assert usage_contributions({20270602: (0, 150)}) == {20270602: (0, 150)}
    assert usage_contributions({20270601: (0, 100), 20270602: (0, 150)}) == {
        20270601: (0, 100),
        20270602: (0, 50),
    }


def test_the_first_record_activates_the_line_awaiting_it_on_the_session_day__N2_C4(make_line):
    # given: equipment received on 8 January, never connected
    waiting = make_line(received=date(2027, 1, 8))
    store = AccountingStore()
    # when: an interim (the Start was lost) of a session that started on the 12th at 23:30
    result = store.store(
        [
            record(
                INTERIM,
                login=waiting.network_login,
                at=paris(2027, 1, 13, 0, 30),
                session_time=3600,
            )
        ]
    )
    # then
    waiting.refresh_from_db()
    assert waiting.status == Contract.Status.ACTIVE
    assert waiting.activation_date == date(2027, 1, 12)
    assert result.activated == [waiting.reference]
    event = Event.objects.get(verb="contract.activated", subject_id=waiting.pk)
    assert event.data["source"] == "radius"


def test_activation_happens_once_and_active_lines_never_reach_the_service__N2(make_line):
    # given
    waiting = make_line(received=date(2027, 1, 8))
    store = AccountingStore()
    store.store([record(START, login=waiting.network_login, at=paris(2027, 1, 12, 9))])
    # when: more records of the line, a new session a day later
    with CaptureQueriesContext(connection) as queries:
        store.store(
            [
                record(START, login=waiting.network_login, at=paris(2027, 1, 13, 9), session="s2"),
                record(
                    INTERIM,
                    login=waiting.network_login,
                    at=paris(2027, 1, 13, 10),
                    session="s2",
                    session_time=3600,
                    out=5,
                ),
            ]
        )
    # then: still the first day, one activation event, and no contract query at all
    waiting.refresh_from_db()
    assert waiting.activation_date == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.activated", subject_id=waiting.pk).count() == 1
    assert not [q for q in queries.captured_queries if "contracts_contract" in q["sql"]]


def test_a_batch_costs_a_fixed_number_of_queries_whatever_its_size(make_line):
    # given: 40 active lines known to the store
    lines = [make_line(received=date(2027, 1, 8), activated=date(2027, 1, 9)) for _ in range(3)]
    store = AccountingStore()
    store.store([record(START, login=lines[0].network_login, at=paris(2027, 2, 1), session="w")])

    def batch(n: int, offset: int) -> list:
        return [
            record(
                INTERIM,
                login=lines[i % 3].network_login,
                at=paris(2027, 2, 1, 12),
                session=f"b{offset + i}",
                session_time=60,
                out=1000 + i,
            )
            for i in range(n)
        ]

    # when
    with CaptureQueriesContext(connection) as small:
        store.store(batch(5, 0))
    with CaptureQueriesContext(connection) as large:
        store.store(batch(400, 1000))
    # then: read sessions, insert, update, usage (+ lock on PostgreSQL; SQLite chunks reads)
    assert len(large.captured_queries) <= len(small.captured_queries) + 1
    assert len(small.captured_queries) <= 8
    assert AccountingSession.objects.count() == 406


def test_unknown_logins_are_kept_without_contract(db, store):
    store.store([record(START, login="inconnu", at=paris(2027, 6, 1))])
    session = AccountingSession.objects.get()
    assert session.contract_id is None
    assert not DailyUsage.objects.exists()


def test_accounting_on_closes_the_sessions_open_on_that_nas_even_those_reported_later(
    active, store
):
    # given: an open session on the NAS and one on another NAS
    login = active.network_login
    store.store(
        [
            record(START, login=login, at=paris(2027, 6, 1, 8), session="a"),
            record(START, login=login, at=paris(2027, 6, 1, 8), session="other", nas="192.0.2.9"),
        ]
    )
    # when: the NAS reboots at 10:00, then a session it had opened at 9:00 is reported late
    store.store([record(ACCOUNTING_ON, login="", session="", at=paris(2027, 6, 1, 10))])
    store.store([record(START, login=login, at=paris(2027, 6, 1, 9), session="late")])
    # then
    closed = {s.session_id: s for s in AccountingSession.objects.all()}
    assert closed["a"].stopped_at == paris(2027, 6, 1, 10)
    assert closed["a"].terminate_cause == "NAS-Reboot"
    assert closed["late"].stopped_at == paris(2027, 6, 1, 10)
    assert closed["other"].stopped_at is None


def test_a_session_reporting_after_the_reboot_is_not_closed_by_it__N1(active, store):
    login = active.network_login
    later = record(INTERIM, login=login, at=paris(2027, 6, 1, 11), session_time=10800, out=3)
    reboot = record(ACCOUNTING_ON, login="", session="", at=paris(2027, 6, 1, 10))
    start = record(START, login=login, at=paris(2027, 6, 1, 8))
    store.store([start, reboot])
    assert AccountingSession.objects.get().stopped_at == paris(2027, 6, 1, 10)
    # when: an interim dated after the reboot shows the session went on
    store.store([later])
    # then: same state as if the interim had come first
    session = AccountingSession.objects.get()
    assert session.stopped_at is None and not session.closed_by_reload
    AccountingSession.objects.all().delete()
    DailyUsage.objects.all().delete()
    other = AccountingStore()
    other.store([later, start])
    other.store([reboot])
    assert AccountingSession.objects.get().stopped_at is None


# --- writers in parallel: the server's lanes and a radacct sync -----------------------------


def test_session_keys_fall_in_the_same_partition_in_every_process():
    # given: keys spread over the partitions here
    keys = [f"{NAS}|s{i}" for i in range(40)]
    here = [partition_of(key) for key in keys]
    # when: another process with another string hash seed places them
    code = (
        "import sys, django; django.setup(); "
        "from raccord.network.accounting_sql import partition_of; "
        "print(','.join(str(partition_of(k)) for k in sys.argv[1:]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *keys],
        cwd=Path(__file__).resolve().parents[3],
        env={
            **os.environ,
            "PYTHONHASHSEED": "12345",
            "DJANGO_SETTINGS_MODULE": "raccord.settings",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # then: the same partitions, and every partition has keys
    assert [int(p) for p in out.strip().split(",")] == here
    assert set(here) == set(range(PARTITIONS))


def _session_ids(partition: int, count: int, prefix: str) -> list[str]:
    ids = (f"{prefix}{i}" for i in itertools.count())
    return list(
        itertools.islice((s for s in ids if partition_of(f"{NAS}|{s}") == partition), count)
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer: the server uses one lane"
)
def test_two_lanes_and_a_sync_on_the_same_usage_never_deadlock_and_count_exactly(
    transactional_db, make_line
):
    # given: two lines; lane 0 and lane 1 write sessions of their own partition, the sync
    # sessions of both; all add to the same (line, day) usage rows, listed in opposite orders
    lines = [make_line(received=date(2027, 1, 8), activated=date(2027, 1, 9)) for _ in range(2)]
    logins = [line.network_login for line in lines]
    at = paris(2027, 6, 1, 12)

    def batches(ids: list[str], order: int) -> list[list]:
        out = []
        for step in range(1, 4):
            for first in range(0, len(ids), 4):
                chunk = ids[first : first + 4]
                out.append(
                    [
                        record(
                            INTERIM,
                            login=logins[(i + order) % 2],
                            at=at + timedelta(minutes=step),
                            session=session,
                            session_time=60 * step,
                            out=1000 * step + i,
                        )
                        for i, session in enumerate(chunk)
                    ]
                )
        return out

    lanes = AccountingStore()  # the server's lanes share one store
    work = {
        "lane-0": (lanes, batches(_session_ids(0, 24, "a"), 0)),
        "lane-1": (lanes, batches(_session_ids(1, 24, "b"), 1)),
        "sync": (AccountingStore(), batches([f"c{i}" for i in range(24)], 0)),
    }
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(store: AccountingStore, todo: list[list]) -> None:
        try:
            barrier.wait(10)
            for batch in todo:
                store.store(batch)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in work.values()]
    # when: all three write at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then: no deadlock, no error, and each line's usage is the sum of its sessions' highest
    assert not errors, errors
    assert AccountingSession.objects.count() == 72
    expected: dict[int, int] = {line.pk: 0 for line in lines}
    for contract_id, out in AccountingSession.objects.values_list("contract_id", "output_octets"):
        expected[contract_id] += out
    usage = dict(DailyUsage.objects.values_list("contract_id", "output_octets"))
    assert usage == expected
    assert sum(usage.values()) == 3 * sum(3000 + i % 4 for i in range(24))


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer: the server uses one lane"
)
def test_a_line_seen_by_two_writers_at_once_is_activated_once__N2_C4(transactional_db, make_line):
    # given: a line awaiting activation; two writers each get one of its sessions
    waiting = make_line(received=date(2027, 1, 8))
    login = waiting.network_login
    stores = [AccountingStore(), AccountingStore()]
    sessions = [_session_ids(0, 1, "x")[0], _session_ids(1, 1, "y")[0]]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            stores[index].store(
                [record(START, login=login, at=paris(2027, 1, 12, 20), session=sessions[index])]
            )
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then: both sessions stored, one activation
    assert not errors, errors
    assert AccountingSession.objects.filter(contract=waiting).count() == 2
    waiting.refresh_from_db()
    assert waiting.activation_date == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.activated", subject_id=waiting.pk).count() == 1
