"""Network fixtures: lines at a chosen stage, records at chosen times, and the real RADIUS
server running in a thread on a free port, driven by FreeRADIUS's ``radclient``."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.services import contract_activate, contract_equipment_receive
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.network.accounting import AccountingRecord, AccountingStore
from raccord.network.journal import JournalWriter
from raccord.network.radius_nas import NasTable
from raccord.network.radius_server import RadiusAccountingServer

SYSTEM = Actor.system()
SECRET = "testing123"
NAS = "192.0.2.1"
RADCLIENT = shutil.which("radclient")

MakeLine = Callable[..., Contract]


@pytest.fixture
def make_line(signup_request: SignupRequest) -> MakeLine:
    """``make_line(signed=, received=None, activated=None, address=None)``: a contract made
    by the real sign-up, delivered and activated on the dates given."""
    counter = {"n": 0}

    def make(
        *,
        signed: date = date(2027, 1, 5),
        received: date | None = None,
        activated: date | None = None,
        address: Any = None,
        **overrides: Any,
    ) -> Contract:
        counter["n"] += 1
        request = dataclasses.replace(
            signup_request,
            email=f"ligne{counter['n']}@example.org",
            signup_key=None,
            **({"address_id": address.pk} if address is not None else {}),
            **overrides,
        )
        contract = signup_create(
            request=request,
            actor=Actor.customer(None),
            at=paris(signed.year, signed.month, signed.day),
        )
        if received is not None:
            contract = contract_equipment_receive(contract=contract, on=received, actor=SYSTEM)
        if activated is not None:
            contract = contract_activate(
                contract=contract, on=activated, source="test", actor=SYSTEM
            )
        return contract

    return make


def record(
    status: int,
    *,
    login: str,
    at: datetime,
    session: str = "s1",
    nas: str = NAS,
    session_time: int = 0,
    inp: int = 0,
    out: int = 0,
    cause: str = "",
    started_at: datetime | None = None,
) -> AccountingRecord:
    return AccountingRecord(
        status=status,
        nas=nas,
        at=at,
        session_id=session,
        login=login,
        session_time=session_time,
        input_octets=inp,
        output_octets=out,
        terminate_cause=cause,
        started_at=started_at,
    )


@pytest.fixture
def store() -> AccountingStore:
    return AccountingStore()


# --- the real server ---------------------------------------------------------------------


class RunningServer:
    """The storing server on an event loop of its own thread (its writer thread has its own
    database connection: tests using it need ``transactional_db``)."""

    def __init__(
        self, *, nas: NasTable, default_secret: str | None, journal: JournalWriter | None = None
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.journal = journal
        if journal is not None:
            journal.open()
        self.server = RadiusAccountingServer(
            host="127.0.0.1",
            port=0,
            nas=nas,
            store=None if journal is not None else AccountingStore(),
            journal=journal,
            default_secret=default_secret,
            batch_window=0.002,
        )
        started = threading.Event()
        self.error: BaseException | None = None

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self.server.start())
            except BaseException as error:  # reported to the test
                self.error = error
                started.set()
                return
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="radius-test", daemon=True)
        self.thread.start()
        started.wait(10)
        if self.error is not None:
            raise self.error

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop)
        future.result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        if self.journal is not None:
            self.journal.close()


@pytest.fixture
def radius_server(transactional_db: None) -> Iterator[RunningServer]:
    if RADCLIENT is None:
        pytest.skip("radclient (freeradius-utils) n'est pas installé")
    running = RunningServer(nas=NasTable([], SECRET), default_secret=SECRET)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def journal_server(transactional_db: None, tmp_path: Any) -> Iterator[RunningServer]:
    """The server in journal mode, its journal in the test's own directory; no merger (the
    tests run it when they want)."""
    if RADCLIENT is None:
        pytest.skip("radclient (freeradius-utils) n'est pas installé")
    running = RunningServer(
        nas=NasTable([], SECRET), default_secret=SECRET, journal=JournalWriter(tmp_path / "j")
    )
    try:
        yield running
    finally:
        running.stop()


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """``check()`` once it holds, or its last answer after ``timeout`` seconds: radclient may
    give up on an unanswered packet before the server's thread has counted it as dropped."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return check()
        time.sleep(0.02)
    return True


@dataclasses.dataclass
class RadclientResult:
    answered: int
    output: str


def radclient(
    port: int,
    *packets: str,
    secret: str = SECRET,
    count: int = 1,
    timeout: float = 5.0,  # an answer waits for a commit or an fsync: room for a loaded machine
    retries: int = 1,
) -> RadclientResult:
    """Send accounting packets (``Attr=value,…`` each) with ``radclient`` and count the
    Accounting-Responses it received."""
    assert RADCLIENT is not None
    completed = subprocess.run(
        [
            RADCLIENT,
            "-x",
            "-c",
            str(count),
            "-r",
            str(retries),
            "-t",
            str(timeout),
            f"127.0.0.1:{port}",
            "acct",
            secret,
        ],
        input="\n\n".join(packets) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = completed.stdout + completed.stderr
    return RadclientResult(output.count("Received Accounting-Response"), output)


def packet(**attributes: Any) -> str:
    """``packet(User_Name="rc1", Acct_Status_Type="Start")`` → a radclient line."""
    return ",".join(f"{name.replace('_', '-')}={value}" for name, value in attributes.items())
