"""Benchmark of the RADIUS accounting server (network issue): accounting requests/s answered
once the record is durable, flooded by FreeRADIUS's ``radclient`` over loopback, for four
servers side by side: decode-only (answers at once, writes nothing: the limit), direct (stores
in the database before answering), journal (answers once the record is synced in the journal;
its merger, a child process, stores it into the database) and journal-after (no merger during
the flood, ``raccord radius merge`` run after it). For the journal modes it also measures the
drain (after the flood, until every session is in the database with exact counters) and the
end-to-end rate. Then, in journal mode, a kill -9 of the server in the middle of a flood and of
its merger in the middle of the merge, to check that no record is lost or counted twice (the
NAS retransmits what was not answered).

    flock /tmp/bench.lock .venv/bin/python benchmarks/radius_accounting.py --db postgres \
        --sessions 10000 --lines 5000 --repeat 2
    flock /tmp/bench.lock .venv/bin/python benchmarks/radius_accounting.py --db sqlite \
        --sessions 10000 --lines 5000 --repeat 2

Goal: acknowledged ≥ decode-only / 1.5. The data lives in a throw-away database (a temporary
SQLite file, or a PostgreSQL database created and dropped here) with ``--lines`` active
subscribers (one in a hundred awaiting its first connection, so a few activations happen
during the flood). Each session is a Start, two Interim-Updates (the second past 4 GiB, with
gigawords) and a Stop, sent round by round so that records of one session are far apart. Every
run is bounded: a fixed number of requests, radclient stops by itself (retries bounded too)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-2027"  # noqa: S105 - a throw-away loopback secret
GOAL_RATIO = 1 / 1.5
EVENT_AT = int(datetime(2027, 6, 1, 20, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp())


def _setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raccord.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def generate(lines: int) -> None:
    """``lines`` subscribers, 99 % active, 1 % awaiting their first connection."""
    from django.core.management import call_command
    from django.db import transaction

    from raccord.catalog.models import CGVVersion, Offer
    from raccord.contracts.models import Contract
    from raccord.customers.models import Customer
    from raccord.eligibility.models import Address

    call_command("migrate", verbosity=0)
    paris = ZoneInfo("Europe/Paris")
    offer = Offer.objects.create(
        code="THD30",
        label="THD Radio 30",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("29.90"),
        commitment_months=0,
    )
    cgv = CGVVersion.objects.create(version="1", effective_date=date(2020, 1, 1))
    address = Address.objects.create(
        ban_id="67482_0001_00001",
        numero=1,
        nom_voie="Rue Test",
        code_postal="67000",
        code_insee="67482",
        nom_commune="Strasbourg",
    )
    signed = datetime(2027, 1, 5, 10, tzinfo=paris)
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            Customer(
                reference=f"C{i:09d}",
                first_name="Abonné",
                last_name=f"N{i}",
                email=f"a{i}@example.org",
                phone="0612345678",
                postal_address="1 rue Test",
                postal_code="67000",
                city="Strasbourg",
                created_at=signed,
            )
            for i in range(lines)
        )
        Contract.objects.bulk_create(
            Contract(
                reference=f"CT{i:08d}",
                customer=customer,
                status="equipment_received" if i % 100 == 0 else "active",
                offer=offer,
                offer_label=offer.label,
                monthly_price=offer.monthly_price,
                commitment_months=0,
                download_mbps=30,
                upload_mbps=5,
                signup_date=signed.date(),
                signed_at=signed,
                channel="online",
                cgv_version=cgv,
                cgv_accepted_at=signed,
                installation_address=address,
                delivery_name="Abonné",
                delivery_address="1 rue Test",
                delivery_postal_code="67000",
                delivery_city="Strasbourg",
                installation_mode="kit",
                payment_method="cheque",
                network_login=f"rc{i:08d}",
                equipment_received_date=date(2027, 1, 8),
                activation_date=None if i % 100 == 0 else date(2027, 1, 10),
            )
            for i, customer in enumerate(customers)
        )


def flood_files(
    directory: Path, *, prefix: str, sessions: int, lines: int, chunk: int = 500
) -> list[Path]:
    """Start, Interim, Interim (past 4 GiB), Stop of each session, round by round within
    files of ``chunk`` sessions (radclient walks its whole list after each answer: files of a
    few thousand requests keep it from being the bottleneck)."""
    files = []
    steps = ["Start", "Interim-Update", "Interim-Update", "Stop"]
    for first in range(0, sessions, chunk):
        path = directory / f"{prefix}-{first:07d}.txt"
        with path.open("w") as out:
            for step, status in enumerate(steps):
                for i in range(first, min(first + chunk, sessions)):
                    received = step * 3_000_000_000 + i  # > 2^32 from the third record on
                    out.write(
                        f"User-Name=rc{i % lines:08d},Acct-Status-Type={status},"
                        f"Acct-Session-Id={prefix}-{i},NAS-IP-Address=192.0.2.1,"
                        f"Event-Timestamp={EVENT_AT + step * 600},"
                        f"Acct-Session-Time={step * 600},Acct-Input-Octets={step * 1000},"
                        f"Acct-Output-Octets={received & 0xFFFFFFFF},"
                        f"Acct-Output-Gigawords={received >> 32}\n\n"
                    )
        files.append(path)
    return files


def expected_received(sessions: int, rounds: int = 4) -> int:
    return sum((rounds - 1) * 3_000_000_000 + i for i in range(sessions))


# journal: the merger runs during the flood (a child of the server, idle CPU priority);
# journal-after: no merger during the flood, ``raccord radius merge`` run once it is over.
MODES = ("decode-only", "direct", "journal", "journal-after")


class Server:
    def __init__(
        self,
        *,
        port: int,
        env: dict[str, str],
        mode: str,
        journal: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        command = [
            sys.executable,
            "-m",
            "raccord.manage",
            "radius",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--secret",
            SECRET,
        ]
        if mode == "decode-only":
            command.append("--decode-only")
        elif mode == "direct":
            command.append("--direct")
        else:
            assert journal is not None
            command += ["--journal", str(journal), *extra]
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "coute" not in line:
            self.process.kill()
            raise RuntimeError(f"server did not start: {line!r}")

    def cpu_seconds(self) -> float:
        return process_cpu(self.process.pid)

    def merger_pid(self) -> int | None:
        """The journal merger, the server's child process."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()


def flood(port: int, files: list[Path], *, parallel: int, retries: int = 10) -> tuple[float, int]:
    """radclient on each file in turn; (seconds, packets radclient had to send again).

    Timeout 3 s, as a NAS commonly waits: radclient counts its timeout in whole seconds of its
    clock, so with 1 s a request sent just before a second boundary was sent again however
    fast the answer (measured: 135 copies in a 2,000-request decode-only flood), and the
    storing server, a few milliseconds slower to answer, paid for more of those copies."""
    radclient = shutil.which("radclient")
    assert radclient is not None, "radclient (freeradius-utils) is needed"
    started = time.perf_counter()
    resent = 0
    for path in files:
        done = subprocess.run(
            [
                radclient,
                "-s",
                "-q",
                "-p",
                str(parallel),
                "-r",
                str(retries),
                "-t",
                "3",
                "-f",
                str(path),
                f"127.0.0.1:{port}",
                "acct",
                SECRET,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        resent += lost(done.stdout + done.stderr)
    return time.perf_counter() - started, resent


def lost(output: str) -> int:
    """radclient's summary counts as lost each packet it had to send again."""
    found = re.search(r"Lost\s*:\s*(\d+)", output)
    return int(found.group(1)) if found else 0


def stored_now(db_url: str, prefix: str) -> tuple[int, int]:
    """(sessions closed with this prefix, their received octets), one cheap query."""
    query = (
        "SELECT count(*), coalesce(sum(output_octets), 0) FROM network_accountingsession "
        "WHERE session_id LIKE %s AND stopped_at IS NOT NULL"
    )
    if db_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as db:
            row = db.execute(query.replace("%s", "?"), [prefix + "-%"]).fetchone()
    else:
        import psycopg

        with psycopg.connect(db_url) as db:
            row = db.execute(query, [prefix + "-%"]).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def drain_wait(db_url: str, prefix: str, sessions: int, timeout: float = 600.0) -> float:
    """Seconds until every session of the flood is in the database, closed, with its exact
    counters (the journal merged); ``inf`` on timeout."""
    started = time.perf_counter()
    expected = expected_received(sessions)
    while time.perf_counter() - started < timeout:
        if stored_now(db_url, prefix) == (sessions, expected):
            return time.perf_counter() - started
        time.sleep(0.1)
    return float("inf")


def check(db_url: str, prefix: str) -> tuple[int, int]:
    """(sessions stored with this prefix, total received octets) read by a fresh process."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r});"
            "from benchmarks.radius_accounting import _setup_django;"
            f"_setup_django({db_url!r});"
            "from django.db.models import Count, Sum;"
            "from raccord.network.models import AccountingSession as S;"
            f"r = S.objects.filter(session_id__startswith={prefix + '-'!r}, stopped_at__isnull=False)"
            ".aggregate(n=Count('id'), o=Sum('output_octets'));"
            "print(r['n'], r['o'] or 0)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DATABASE_URL": db_url},
    ).stdout.split()
    return int(out[0]), int(out[1])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_cpu() -> float:
    """CPU seconds of the radclient processes run so far (waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def database_cpu(name: str) -> float:
    """CPU seconds of the PostgreSQL backends serving the benchmark database."""
    if not name:
        return 0.0
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchall()
        ]
    return sum(process_cpu(pid) for pid in pids)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Run:
    mode: str
    requests: int
    seconds: float  # the flood: every request acknowledged
    server_cpu: float
    resent: int
    database_cpu: float = 0.0
    drain: float = 0.0  # journal: after the flood, until everything is in the database
    merger_cpu: float = 0.0
    client_cpu: float = 0.0
    stored: int = 0
    exact: bool = True

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def end_to_end(self) -> float:
        return self.requests / (self.seconds + self.drain)

    def line(self, sessions: int) -> str:
        us = 1e6 / self.requests
        label = {"decode-only": "answered", "direct": "stored+answered"}.get(
            self.mode, "acknowledged"
        )
        text = (
            f"  {self.mode:13s} {self.requests} requests {label} in "
            f"{self.seconds:6.2f} s = {self.rate:7.0f} req/s, server CPU "
            f"{self.server_cpu * us:4.0f} µs/req"
        )
        if self.mode.startswith("journal"):
            text += (
                f"; merged {self.drain:5.2f} s after the flood: end to end "
                f"{self.end_to_end:6.0f} req/s, merger CPU {self.merger_cpu * us:4.0f} µs/req"
            )
        if self.database_cpu:
            text += f", database CPU {self.database_cpu * us:4.0f} µs/req"
        text += f", radclient CPU {self.client_cpu * us:3.0f} µs/req, Lost {self.resent}"
        if self.mode != "decode-only":
            verdict = "all, exact counters" if self.exact else "MISMATCH"
            text += f", {self.stored}/{sessions} sessions stored ({verdict})"
        return text


def one_flood(
    args: argparse.Namespace,
    env: dict[str, str],
    db_url: str,
    name: str,
    tmp: Path,
    mode: str,
    prefix: str,
) -> Run:
    files = flood_files(tmp, prefix=prefix, sessions=args.sessions, lines=args.lines)
    port = free_port()
    journal = tmp / f"journal-{prefix}"
    extra = args.serve_args + (("--no-merger",) if mode == "journal-after" else ())
    server = Server(port=port, env=env, mode=mode, journal=journal, extra=extra)
    merger_cpu = 0.0
    try:
        cpu_before = server.cpu_seconds()
        client_before = client_cpu()
        seconds, resent = flood(port, files, parallel=args.parallel)
        cpu = server.cpu_seconds() - cpu_before
        client = client_cpu() - client_before
        drain = 0.0
        if mode == "journal-after":
            # The merger run apart, once the flood is over: the merge alone.
            started = time.perf_counter()
            command = [sys.executable, "-m", "raccord.manage", "radius", "merge"]
            subprocess.run([*command, "--journal", str(journal)], env=env, cwd=ROOT, check=True)
            drain = time.perf_counter() - started
            merger_cpu = client_cpu() - client_before - client
        elif mode == "journal":
            drain = drain_wait(db_url, prefix, args.sessions)
            merger = server.merger_pid()
            merger_cpu = process_cpu(merger) if merger else 0.0
        db_cpu = database_cpu(name)
    finally:
        server.stop()
    run = Run(mode, 4 * args.sessions, seconds, cpu, resent, db_cpu, drain, merger_cpu, client)
    if mode != "decode-only":
        run.stored, received = check(db_url, prefix)
        run.exact = run.stored == args.sessions and received == expected_received(args.sessions)
    return run


def summary(runs: dict[str, list[Run]]) -> None:
    """Best of each mode, and its ratio to the best decode-only rate."""
    decode = max(r.rate for r in runs["decode-only"])
    cpu = {
        mode: min(r.server_cpu / r.requests for r in items) * 1e6 for mode, items in runs.items()
    }
    print(
        "Server CPU per request (least disturbed by other work): "
        + ", ".join(f"{mode} {us:.0f} µs" for mode, us in cpu.items())
    )
    print(f"Best of each, ratio to decode-only {decode:.0f} req/s (goal ≥ {GOAL_RATIO:.2f}):")
    if "direct" in runs:
        direct = max(r.rate for r in runs["direct"])
        print(
            f"  direct, stored before answering:   {direct:7.0f} req/s  ratio {direct / decode:.2f}"
        )
    for mode in ("journal", "journal-after"):
        if mode not in runs:
            continue
        best = max(runs[mode], key=lambda r: r.rate)
        merged = max(runs[mode], key=lambda r: r.end_to_end)
        verdict = "met" if best.rate / decode >= GOAL_RATIO else "NOT met"
        print(
            f"  {mode}, acknowledged (synced):  {best.rate:7.0f} req/s  ratio "
            f"{best.rate / decode:.2f} ({verdict})\n"
            f"  {mode}, merged into the database: {merged.end_to_end:7.0f} req/s  ratio "
            f"{merged.end_to_end / decode:.2f} (records / (flood + drain), drain "
            f"{merged.drain:.1f} s)"
        )


def kill_check(
    args: argparse.Namespace, env: dict[str, str], db_url: str, tmp: Path, best_rate: float
) -> None:
    """Journal mode: kill -9 the server in the middle of a flood and start it again on the same
    port (radclient retransmits what was not acknowledged), then kill -9 its merger in the
    middle of the merge (the server starts it again): every session once, exact counters."""
    prefix = "kill"
    files = flood_files(tmp, prefix=prefix, sessions=args.sessions, lines=args.lines)
    requests = 4 * args.sessions
    port = free_port()
    journal = tmp / "journal-kill"
    server = Server(port=port, env=env, mode="journal", journal=journal, extra=args.serve_args)
    outcome: dict[str, float] = {"seconds": 0.0, "resent": 0.0}

    def drive() -> None:
        seconds, resent = flood(port, files, parallel=args.parallel, retries=30)
        outcome.update(seconds=seconds, resent=float(resent))

    driver = threading.Thread(target=drive)
    driver.start()
    time.sleep(max(0.5, 0.4 * requests / best_rate))
    server.kill()
    killed_at = time.perf_counter()
    time.sleep(0.5)
    server = Server(port=port, env=env, mode="journal", journal=journal, extra=args.serve_args)
    restarted = time.perf_counter() - killed_at
    driver.join()
    merger_killed = ""
    # The merge still running (the orphan merger of the killed server drains its part first).
    time.sleep(0.3)
    merger = server.merger_pid()
    if merger and stored_now(db_url, prefix)[0] < args.sessions:
        os.kill(merger, signal.SIGKILL)
        merger_killed = "merger kill -9 mid-merge (restarted by the server), "
    drain = drain_wait(db_url, prefix, args.sessions, timeout=300)
    server.stop()
    stored_sessions, received = check(db_url, prefix)
    exact = received == expected_received(args.sessions)
    print(
        f"Journal mode, server kill -9 mid-flood, listening again {restarted:.1f} s later, "
        f"{merger_killed}merged {drain:.1f} s after the flood: {requests} requests, "
        f"{int(outcome['resent'])} in radclient's Lost count (the NAS side); "
        f"{stored_sessions}/{args.sessions} sessions stored and closed, received octets "
        f"{'exact (nothing lost or counted twice)' if exact else 'WRONG'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions per flood")
    parser.add_argument("--lines", type=int, default=5_000, help="subscribers in the database")
    parser.add_argument("--parallel", type=int, default=256, help="radclient -p")
    parser.add_argument("--repeat", type=int, default=2, help="floods of each server (best kept)")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="servers to flood (decode-only,direct,journal)"
    )
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        dest="serve_args",
        help="extra option of the journal server (e.g. --serve-arg=--merger-nice=19)",
    )
    args = parser.parse_args()
    args.serve_args = tuple(args.serve_args)

    tmp = Path(tempfile.mkdtemp(prefix="raccord-bench-radius-"))
    name = ""
    if args.db == "sqlite":
        db_url = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        name = f"raccord_bench_radius_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        db_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    # Both servers as deployed: DEBUG off (it keeps every query's SQL in memory).
    env = {**os.environ, "RACCORD_DATA_DIR": str(tmp), "DATABASE_URL": db_url, "DEBUG": "false"}
    try:
        print(
            f"RADIUS accounting benchmark on {args.db}: {args.lines} subscribers, floods of "
            f"{args.sessions} sessions × 4 records, radclient -p {args.parallel}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r});"
                "from benchmarks.radius_accounting import _setup_django, generate;"
                f"_setup_django({db_url!r}); generate({args.lines})",
            ],
            check=True,
            env=env,
        )
        modes = [mode for mode in MODES if mode in args.modes.split(",")]
        runs: dict[str, list[Run]] = {mode: [] for mode in modes}
        for round_ in range(args.repeat):
            for mode in modes:
                run = one_flood(args, env, db_url, name, tmp, mode, f"r{round_}{mode[0]}")
                runs[mode].append(run)
                print(run.line(args.sessions))
        if "decode-only" in modes:
            summary(runs)
        if "journal" in modes:
            kill_check(args, env, db_url, tmp, best_rate=max(r.rate for r in runs["journal"]))
        print(
            f"Load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine makes figures noisy)"
        )
    finally:
        if name:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
