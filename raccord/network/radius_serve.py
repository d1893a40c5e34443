"""``raccord radius serve``: a ``RadiusAccountingServer`` run until SIGINT/SIGTERM, with its
journal opened and its merger child started and stopped around it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from django.db import connection

from raccord.network.accounting import AccountingStore
from raccord.network.journal import (
    JournalError,
    JournalWriter,
    MergerChild,
    journal_directory_default,
)
from raccord.network.radius_nas import NasTable, nas_table_load
from raccord.network.radius_server import RadiusAccountingServer

logger = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.0002


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


def _nas_table_fresh(default_secret: str | None) -> NasTable:
    try:
        return nas_table_load(default_secret)
    finally:
        connection.close()
