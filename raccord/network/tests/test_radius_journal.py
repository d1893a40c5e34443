"""The server in journal mode (the default), driven by ``radclient``: an answer only once the
record is synced in the journal; the merger stores it (N1, activation exactly once, C4); a
kill -9 of the server in the middle of a flood, or of the merger in the middle of a merge,
loses nothing and counts nothing twice."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.network import journal as journal_module
from raccord.network.journal import JournalWriter, entries_read, frame_encode
from raccord.network.journal_merge import JournalMerger
from raccord.network.models import AccountingSession, DailyUsage
from raccord.network.tests.conftest import RADCLIENT, SECRET, eventually, packet, radclient
from raccord.network.tests.test_journal import START_AT, interim
from raccord.network.tests.test_radius_server import _interim, _start, _stop

pytestmark = pytest.mark.skipif(RADCLIENT is None, reason="radclient n'est pas installé")
ROOT = Path(__file__).resolve().parents[3]


def _journaled(server: Any) -> list[bytes]:
    return [entry.raw for _s, entry in entries_read(server.journal.directory)]


def test_the_answer_comes_only_after_the_journal_is_synced(
    journal_server, make_line, monkeypatch: pytest.MonkeyPatch
):
    # given: the disk's sync held back
    line = make_line(received=date(2027, 1, 8))
    syncing, release = threading.Event(), threading.Event()
    real = journal_module.fdatasync

    def held(fd: int) -> None:
        syncing.set()
        release.wait(10)
        real(fd)

    monkeypatch.setattr(journal_module, "fdatasync", held)
    results: list[Any] = []
    sender = threading.Thread(
        target=lambda: results.append(
            radclient(journal_server.port, _start(line.network_login), timeout=5)
        )
    )
    # when: a Start arrives
    sender.start()
    assert syncing.wait(5)
    time.sleep(0.3)
    # then: written, not answered while the sync runs
    assert len(_journaled(journal_server)) == 1
    assert sender.is_alive() and journal_server.server.stats.answered == 0
    # when: the sync returns
    release.set()
    sender.join(10)
    # then: answered, and the database not touched yet (the merger stores it)
    assert results[0].answered == 1, results[0].output
    assert not AccountingSession.objects.exists()


def test_start_interim_stop_and_duplicates_merged_once__N1_C4_N2(journal_server, make_line):
    # given
    line = make_line(received=date(2027, 1, 8))
    login = line.network_login
    interim_ = _interim(login, START_AT + 2700, 2700, 7_000_000, 300_000)
    stop = _stop(login)
    # when: the three records, then each of them three times more, and a wrong secret
    assert radclient(journal_server.port, _start(login), interim_, stop).answered == 3
    assert radclient(journal_server.port, _start(login), interim_, stop, count=3).answered == 9
    wrong = radclient(journal_server.port, _start(login, "s9"), secret="autre", timeout=0.5)
    # then: 12 records journaled, the wrong secret's neither answered nor journaled
    assert wrong.answered == 0
    assert len(_journaled(journal_server)) == 12
    stats = journal_server.server.stats
    assert eventually(lambda: stats.dropped == {"bad authenticator (wrong secret?)": 1}), (
        stats.dropped
    )
    line.refresh_from_db()
    assert line.activation_date is None  # not merged yet
    # when: merged (twice: the second finds nothing)
    merger = JournalMerger(journal_server.journal.directory)
    assert merger.run(follow=False) == 12
    assert merger.run(follow=False) == 0
    # then: one session, exact counters, activated once on the day of the Start
    session = AccountingSession.objects.get()
    assert (session.output_octets, session.input_octets, session.terminate_cause) == (
        9_000_000,
        400_000,
        "User-Request",
    )
    assert session.stopped_at is not None
    assert list(DailyUsage.objects.values_list("output_octets", "input_octets")) == [
        (9_000_000, 400_000)
    ]
    line.refresh_from_db()
    assert line.status == Contract.Status.ACTIVE
    assert line.activation_date == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.activated", subject_id=line.pk).count() == 1


# --- kill -9 -------------------------------------------------------------------------------


@pytest.fixture
def outside_db(transactional_db: None, tmp_path: Path) -> Iterator[Any]:
    """A database URL that other processes can use, holding this test's data: PostgreSQL's
    test database itself, or on SQLite (an in-memory test database) a copy in a file, taken
    when ``snapshot()`` is called."""

    class Outside:
        url = ""

        def snapshot(self) -> str:
            if connection.vendor == "postgresql":
                db = connection.settings_dict
                self.url = (
                    f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                    f"{db['PORT'] or 5432}/{db['NAME']}"
                )
                return self.url
            path = tmp_path / "outside.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(path) as target:
                connection.connection.backup(target)
            target.close()
            self.url = f"sqlite:///{path}"
            return self.url

        def query(self, sql: str) -> tuple[Any, ...]:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    return tuple(cursor.fetchone())
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as db:
                return tuple(db.execute(sql).fetchone())

    yield Outside()


class Processes:
    """Child processes of a test, all stopped at its end (and their own children)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "raccord.manage", "radius", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.started.append(process)
        return process

    @staticmethod
    def first_line(process: subprocess.Popen[str], timeout: float = 90.0) -> str:
        """The child's first line of output, or a failure after ``timeout`` seconds (a child
        that hangs before it speaks must not hang the test run)."""
        assert process.stdout is not None
        ready, _w, _x = select.select([process.stdout], [], [], timeout)
        assert ready, f"no output from the child within {timeout} s"
        return process.stdout.readline()

    def children(self, process: subprocess.Popen[str]) -> list[int]:
        path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop_all(self) -> None:
        for process in self.started:
            # the server's merger too: left running, it would hold the test database open
            for pid in self.children(process):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if process.poll() is None:
                process.kill()
                process.wait(10)


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    try:
        yield running
    finally:
        running.stop_all()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"


def _flood_file(path: Path, login: str, sessions: int) -> None:
    """Start, Interim, Stop of each session, round by round; the line's counters grow."""
    with path.open("w") as out:
        for step, status in enumerate(("Start", "Interim-Update", "Stop")):
            for i in range(sessions):
                out.write(
                    packet(
                        User_Name=login if i % 50 == 0 else f"inconnu{i}",
                        Acct_Status_Type=status,
                        Acct_Session_Id=f"k-{i}",
                        NAS_IP_Address="192.0.2.1",
                        Event_Timestamp=START_AT + 600 * step,
                        Acct_Session_Time=600 * step,
                        Acct_Output_Octets=1000 * step + i,
                    )
                    + "\n\n"
                )


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "false",
        "RACCORD_DATA_DIR": str(settings.DATA_DIR),
    }


@pytest.mark.slow
def test_server_killed_mid_flood_restarted_every_session_once__N1_C4(
    outside_db, processes: Processes, make_line, tmp_path: Path
):
    # given: a line awaiting activation, 600 sessions (one in 50 of the line) to send
    line = make_line(received=date(2027, 1, 8))
    env = _env(outside_db.snapshot())
    sessions, flood = 600, tmp_path / "flood.txt"
    _flood_file(flood, line.network_login, sessions)
    journal = tmp_path / "journal"
    serve = [
        "serve",
        "--listen",
        "127.0.0.1:0",  # the system's free port (the restart takes the same one)
        "--secret",
        SECRET,
        "--journal",
        str(journal),
        # at the normal priority: at idle, on a machine busy with the other tests, its drain
        # could take longer than the test waits
        "--merger-priority",
        "0",
    ]
    first = processes.start(*serve, env=env)
    ready = processes.first_line(first)
    assert "coute" in ready, ready
    listening = re.search(r"sur 127\.0\.0\.1:(\d+)", ready)
    assert listening, ready
    port = int(listening.group(1))
    serve[2] = f"127.0.0.1:{port}"
    mergers = processes.children(first)
    assert RADCLIENT is not None
    target = (f"127.0.0.1:{port}", "acct", SECRET)
    sender = subprocess.Popen(
        # 4 requests in flight: the flood lasts long enough to be killed in its middle
        # 4 requests in flight, at most 400/s: 1,800 records last ~4.5 s, so a test process
        # slowed by a loaded machine still kills the server in the middle
        [RADCLIENT, "-q", "-p", "4", "-n", "400", "-r", "30", "-t", "1", "-f", str(flood), *target],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # when: killed (-9) once a part of the flood is journaled, started again
        deadline = time.monotonic() + 30
        while sum(1 for _ in entries_read(journal)) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert sender.poll() is None, "the flood ended before the kill"
        second = processes.start(*serve, env=env)
        assert "coute" in processes.first_line(second)
        mergers += processes.children(second)
        assert sender.wait(120) == 0
        # then: stopped cleanly, the merger drains the journal and exits with the server
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
    deadline = time.monotonic() + 60
    while any(map(_alive, mergers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mergers and not any(map(_alive, mergers)), "a merger outlived its server"
    # every session once, closed, with its exact counters; the line activated once
    closed, octets = outside_db.query(
        "SELECT count(*), sum(output_octets) FROM network_accountingsession "
        "WHERE session_id LIKE 'k-%' AND stopped_at IS NOT NULL"
    )
    assert (closed, octets) == (sessions, sum(2000 + i for i in range(sessions)))
    assert outside_db.query("SELECT count(*) FROM network_accountingsession") == (sessions,)
    assert outside_db.query(
        f"SELECT count(*) FROM core_event WHERE verb = 'contract.activated' "  # noqa: S608
        f"AND subject_id = {line.pk}"
    ) == (1,)


@pytest.mark.slow
def test_merger_killed_mid_merge_restarted_every_record_once__N1_C4(
    outside_db, processes: Processes, make_line, tmp_path: Path
):
    # given: a journal of 1,000 sessions × 3 records, the line's among them (600 batches of
    # 5: the merge lasts long enough to be killed in its middle)
    sessions = 1000
    line = make_line(received=date(2027, 1, 8))
    env = _env(outside_db.snapshot())
    journal = tmp_path / "journal"
    writer = JournalWriter(journal)
    writer.open()
    for step in range(3):
        login = [line.network_login if i % 50 == 0 else f"inconnu{i}" for i in range(sessions)]
        writer.append(
            b"".join(
                frame_encode(START_AT + 0.5, b"127.0.0.1", interim(login[i], f"m-{i}", step))
                for i in range(sessions)
            )
        )
    writer.close()
    merge = ("-v", "2", "merge", "--journal", str(journal), "--batch", "5")
    # when: the merger is killed (-9) after its first batch, in the middle of the merge
    first = processes.start(*merge, env=env)
    assert "fusionnés" in processes.first_line(first)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    merged_before = outside_db.query("SELECT sum(records) FROM network_journalposition")[0]
    assert 0 < merged_before < 3 * sessions
    # then: started again, it goes on from its position to the end
    second = processes.start(*merge, env=env)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    # every record once: every session with the counters of its last record
    assert outside_db.query(
        "SELECT count(*), sum(output_octets), sum(input_octets) FROM network_accountingsession "
        "WHERE session_id LIKE 'm-%'"
    ) == (sessions, sessions * 2000, sessions * 20)
    assert outside_db.query("SELECT sum(records) FROM network_journalposition") == (3 * sessions,)
    assert outside_db.query(
        f"SELECT count(*) FROM core_event WHERE verb = 'contract.activated' "  # noqa: S608
        f"AND subject_id = {line.pk}"
    ) == (1,)
