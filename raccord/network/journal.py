"""The RADIUS accounting journal: what ``raccord radius serve`` has acknowledged and
``raccord radius merge`` has not stored yet (as FreeRADIUS's detail file and radrelay).

The server appends each validated Accounting-Request to an append-only *segment* file of the
journal directory, in batches: one ``write`` and one ``fdatasync`` per batch (group commit),
and the batch's Accounting-Responses go out only once ``fdatasync`` returned. The merger reads
the segments from its position, stores the records through ``AccountingStore.store`` (the one
place of the rules N1, N2/C4 and the daily usage) and saves its position in the same
transaction. Merged segments are deleted.

Layout of a segment (``0000000000000042.journal``): the 8-byte magic, then frames::

    payload length (uint32 LE) | crc32 of the payload (uint32 LE) | payload
    payload = reception time (float64 LE, epoch seconds) | source length (uint8) | source
              | the Accounting-Request as received (cut to its Length)

The raw packet is kept rather than a decoded record: the server has it already (nothing to
encode on the hot path), the merger decodes it again with the server's own decoder and the
reception time, which gives the same record, and the journal keeps every attribute the NAS
sent.

A segment is *sealed* once a newer one exists: the writer never writes to an older segment
again. The writer starts a new segment each time it opens the journal, after cutting the last
segment's torn tail (a frame cut short or whose crc does not match, as a kill -9 or a power
loss leaves it: never an acknowledged record, those were synced whole). A bad frame found
later inside a sealed segment (a batch whose write or sync failed, never acknowledged, or a
damaged disk) is skipped: the merger goes on at the next valid frame, and keeps a copy of the
segment as ``….corrupt`` for an operator."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import struct
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

logger = logging.getLogger(__name__)

MAGIC = b"RCJRNL01"
SUFFIX = ".journal"
ID_FILE = "journal-id"
_FRAME = struct.Struct("<II")
_ENTRY = struct.Struct("<dB")
MIN_PAYLOAD = _ENTRY.size + 20  # a RADIUS header at least
MAX_PAYLOAD = _ENTRY.size + 255 + 8192
SEGMENT_BYTES = 64 * 1024 * 1024
READ_BYTES = 4 * 1024 * 1024

# Monkeypatched by the tests that check an answer never precedes the sync.
fdatasync = os.fdatasync


class JournalError(RuntimeError):
    pass


# --- frames --------------------------------------------------------------------------------


def frame_encode(received: float, source: bytes, raw: bytes) -> bytes:
    """One journal frame: the packet as received, its source address and reception time."""
    payload = _ENTRY.pack(received, len(source)) + source + raw
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


@dataclass(frozen=True, slots=True)
class Entry:
    received: float
    source: str
    raw: bytes


@dataclass(slots=True)
class Scan:
    """Frames read from a buffer: the entries, where the last whole frame ends, and why the
    reading stopped: ``end`` (the buffer ends there), ``partial`` (a frame cut short),
    ``corrupt`` (a length out of bounds or a crc that does not match), ``limit``."""

    entries: list[Entry]
    end: int
    status: str


def frames_scan(data: bytes, start: int, limit: int | None = None) -> Scan:
    entries: list[Entry] = []
    position, size = start, len(data)
    unpack_frame, unpack_entry, crc32 = _FRAME.unpack_from, _ENTRY.unpack_from, zlib.crc32
    while True:
        if limit is not None and len(entries) >= limit:
            return Scan(entries, position, "limit")
        if position == size:
            return Scan(entries, position, "end")
        if position + _FRAME.size > size:
            return Scan(entries, position, "partial")
        length, crc = unpack_frame(data, position)
        if not MIN_PAYLOAD <= length <= MAX_PAYLOAD:
            return Scan(entries, position, "corrupt")
        body = position + _FRAME.size
        if body + length > size:
            return Scan(entries, position, "partial")
        payload = data[body : body + length]
        if crc32(payload) != crc:
            return Scan(entries, position, "corrupt")
        received, source_length = unpack_entry(payload)
        head = _ENTRY.size + source_length
        if head + 20 > length:
            return Scan(entries, position, "corrupt")
        entries.append(
            Entry(received, payload[_ENTRY.size : head].decode("ascii", "replace"), payload[head:])
        )
        position = body + length


def frames_resync(data: bytes, start: int) -> int | None:
    """The offset of the first valid frame at or after ``start`` (past a damaged one): a
    length in bounds and a matching crc, which random bytes give once in 2^32."""
    for position in range(start, len(data) - _FRAME.size - MIN_PAYLOAD + 1):
        length = _FRAME.unpack_from(data, position)[0]
        if MIN_PAYLOAD <= length <= MAX_PAYLOAD and frames_scan(data, position, 1).entries:
            return position
    return None


# --- the directory -------------------------------------------------------------------------


def segment_name(sequence: int) -> str:
    return f"{sequence:016d}{SUFFIX}"


def segments(directory: Path) -> list[tuple[int, Path]]:
    """The segments of a journal, oldest first."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for path in directory.iterdir():
            if path.name.endswith(SUFFIX) and path.name[: -len(SUFFIX)].isdigit():
                found.append((int(path.name[: -len(SUFFIX)]), path))
    return sorted(found)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def directory_private(directory: Path) -> None:
    """The journal's directory, created readable by its owner only: segments hold logins,
    addresses and packets whose authenticators would let a reader guess the NAS secrets."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = directory.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning(
            "RADIUS journal %s was readable by others (mode %o): now 0700", directory, mode
        )
        directory.chmod(0o700)


def journal_id(directory: Path, *, create: bool = False) -> str | None:
    """The journal's id (its position row's key), written once when it is created."""
    path = directory / ID_FILE
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        if not create:
            return None
    directory_private(directory)
    temporary = directory / f".{ID_FILE}.{os.getpid()}"
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as stream:
        stream.write(uuid.uuid4().hex + "\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    _fsync_directory(directory)
    return path.read_text().strip()


class _DirectoryLock:
    """An exclusive ``flock`` on a file of the journal directory: one writer, one merger."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / name
        self._fd: int | None = None

    def acquire(self, *, wait: Callable[[], bool] | None = None) -> bool:
        """Take the lock; ``wait`` (called between tries) returns False to give up."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if wait is None or not wait():
                    os.close(fd)
                    return False
                continue
            self._fd = fd
            return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def segment_recover(path: Path) -> int:
    """Cut a segment's torn tail (what follows its last whole, valid frame): the bytes cut."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data):
            # Created, magic not written whole: no record in it.
            path.unlink()
            return len(data)
        raise JournalError(f"{path} n'est pas un segment de journal RADIUS")
    scan = frames_scan(data, len(MAGIC))
    while scan.status != "end":
        # Valid frames after a bad one (a batch whose sync failed, followed by one that was
        # synced and acknowledged): kept, the merger skips the bad one. Only the tail goes.
        resume = frames_resync(data, scan.end + 1)
        if resume is None:
            break
        scan = frames_scan(data, resume)
    if scan.status == "end":
        return 0
    with path.open("r+b") as stream:
        stream.truncate(scan.end)
        stream.flush()
        os.fsync(stream.fileno())
    logger.warning(
        "RADIUS journal %s: torn tail of %s bytes cut (%s frame)",
        path.name,
        len(data) - scan.end,
        scan.status,
    )
    return len(data) - scan.end


# --- the writer (the server) ---------------------------------------------------------------


class JournalWriter:
    """Appends batches of frames to the journal, each synced before ``append`` returns. Safe
    from several threads (the server's writer threads): writes are serialised, and a batch is
    written while the one before it is synced (a sync covers every write before it)."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.sequence = 0
        self.size = 0
        self._fd: int | None = None
        self._failed = False
        self._failures = 0  # syncs that failed: a batch written before one is not good
        self._retired: list[int] = []
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._lock = _DirectoryLock(directory, "writer.lock")

    def open(self) -> None:
        """Lock the journal, cut a torn tail left by a crash, start a new segment (sealing the
        last one: the merger may read it to its end)."""
        directory_private(self.directory)
        journal_id(self.directory, create=True)
        if not self._lock.acquire():
            raise JournalError(f"le journal {self.directory} est déjà ouvert par un autre serveur")
        existing = segments(self.directory)
        if existing:
            segment_recover(existing[-1][1])
        self._segment_new(existing[-1][0] + 1 if existing else 1)

    def _segment_new(self, sequence: int) -> None:
        path = self.directory / segment_name(sequence)
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW, 0o600
        )
        try:
            if os.write(fd, MAGIC) != len(MAGIC):
                raise OSError(errno.EIO, "en-tête du segment écrit en partie")
            fdatasync(fd)
            # The new name must survive a crash before the records it will hold are
            # acknowledged.
            _fsync_directory(self.directory)
        except OSError:
            # Not left half made (the next try creates it again, once the disk has room).
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        if self._fd is not None:
            # Another thread may still be syncing it: closed at the next rotation, or at the end.
            self._retired.append(self._fd)
            while len(self._retired) > 2:
                os.close(self._retired.pop(0))
        self._fd, self.sequence, self.size = fd, sequence, len(MAGIC)

    def append(self, data: bytes) -> None:
        """Write ``data`` (whole frames) and sync it; a new segment once this one is full."""
        with self._write_lock:
            assert self._fd is not None, "journal not open"
            if self._failed:
                # After a failed write or sync, nothing more goes into that segment: what the
                # page cache holds of it can no longer be trusted (a failed fsync may drop
                # dirty pages).
                self._segment_new(self.sequence + 1)
                self._failed = False
            fd, start = self._fd, self.size
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            except OSError:
                self._failed = True
                self._cut(fd, start, start + len(data) - len(view))
                raise
            self.size += len(data)
            failures = self._failures
        # Outside the write lock: another batch is written meanwhile, and its own sync follows.
        # Syncs go one at a time: Linux reports a failed write-back to one sync of the file
        # only, so a sync that returns 0 after another one failed proves nothing. A batch is
        # good only if no sync failed between its write and the end of its own sync.
        with self._sync_lock:
            try:
                fdatasync(fd)
            except OSError:
                with self._write_lock:
                    self._failed = True
                    self._failures += 1
                    self._cut(fd, start, start + len(data))
                raise
        with self._write_lock:
            if self._failures != failures:
                raise OSError(errno.EIO, "une synchronisation du journal a échoué après l'écriture")
            if self.size >= self.segment_bytes and fd == self._fd:
                try:
                    self._segment_new(self.sequence + 1)
                except OSError as error:
                    # This batch is synced: answered. The segment grows on; tried again next time.
                    logger.error("RADIUS journal: no new segment (%s), %s goes on", error, fd)

    def _cut(self, fd: int, start: int, end: int) -> None:
        """A batch that failed is cut off the segment when nothing was written after it (no
        half frame then before the next segment); else the merger skips it as corrupt."""
        if fd == self._fd and self.size in (start, end):
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
                self.size = start

    def close(self) -> None:
        for fd in self._retired:
            os.close(fd)
        self._retired = []
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._lock.release()


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Lag:
    """What the merger has not stored yet."""

    bytes: int
    records: int
    oldest: float | None  # reception time of the oldest record not merged

    def seconds(self, now: float) -> float:
        return max(0.0, now - self.oldest) if self.oldest is not None else 0.0


def segment_read(path: Path, offset: int, size: int = READ_BYTES) -> bytes:
    with path.open("rb") as stream:
        stream.seek(offset)
        return stream.read(size)


def lag_measure(directory: Path, segment: int, offset: int) -> Lag:
    """Bytes and records after position (``segment``, ``offset``): frame headers only are
    read, no crc (a status, not a check)."""
    total = records = 0
    oldest: float | None = None
    for sequence, path in segments(directory):
        if sequence < segment:
            continue
        start = max(offset if sequence == segment else 0, len(MAGIC))
        with contextlib.suppress(FileNotFoundError), path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            position = start
            while position + _FRAME.size + _ENTRY.size <= size:
                stream.seek(position)
                head = stream.read(_FRAME.size + _ENTRY.size)
                length, _crc = _FRAME.unpack_from(head)
                if not MIN_PAYLOAD <= length <= MAX_PAYLOAD or position + 8 + length > size:
                    break
                if oldest is None:
                    oldest = _ENTRY.unpack_from(head, _FRAME.size)[0]
                records += 1
                position += _FRAME.size + length
            total += max(0, position - start)
    return Lag(total, records, oldest)


def entries_read(directory: Path) -> Iterator[tuple[int, Entry]]:
    """Every whole record of every segment, oldest first (tests, inspection)."""
    for sequence, path in segments(directory):
        data = path.read_bytes()
        for entry in frames_scan(data, len(MAGIC)).entries:
            yield sequence, entry


def journal_directory_default() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "radius-journal"


def priority_lower(priority: str) -> None:
    """``idle``: the process runs only on CPU time nothing else wants (Linux SCHED_IDLE: any
    other process that wakes up takes the CPU at once); else a nice value (0 to 19)."""
    if priority == "idle":
        if hasattr(os, "SCHED_IDLE"):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        priority = "19"
    if int(priority) > os.nice(0):
        os.nice(int(priority) - os.nice(0))


# --- the merger as the server's child --------------------------------------------------------


class MergerChild:
    """``raccord radius merge --follow`` run by the server: started with it, at a lower
    priority, started again if it dies, and stopped after the server, once it has merged what
    the server journaled. It also stops by itself, after draining, if the server dies."""

    RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)

    def __init__(self, directory: Path, *, priority: str = "idle", verbosity: int = 1) -> None:
        self.command = [
            sys.executable,
            "-m",
            "raccord.manage",
            "radius",
            "-v",
            str(verbosity),
            "merge",
            "--journal",
            str(directory),
            "--follow",
            "--priority",
            priority,
            "--parent",
            str(os.getpid()),
        ]
        self.priority = priority
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._restart_at: float | None = None
        self._started_at = 0.0

    def start(self) -> None:
        # Its stdin is how it is told to stop: at EOF (the server closes it, or dies) it merges
        # what is left and exits. A signal could come before its handler is in place.
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            self.command,
            stdin=subprocess.PIPE,
            # At its priority from the start: loading Django takes a second of CPU, which a
            # burst arriving as the server starts must not share.
            preexec_fn=partial(priority_lower, self.priority),  # a syscall, no lock taken
        )
        self._started_at = time.monotonic()
        logger.info("RADIUS journal merger started (pid %s)", self.process.pid)

    def check(self, now: float) -> None:
        """Called every second or so by the server: a merger that died is started again."""
        if self.process is None:
            return
        code = self.process.poll()
        if code is None:
            return
        if self._restart_at is None:
            if time.monotonic() - self._started_at > self.RESTART_DELAYS[-1] * 2:
                self.restarts = 0  # it had run a while: a new failure, not the same one again
            delay = self.RESTART_DELAYS[min(self.restarts, len(self.RESTART_DELAYS) - 1)]
            logger.error(
                "RADIUS journal merger (pid %s) exited with %s: started again in %.0f s",
                self.process.pid,
                code,
                delay,
            )
            self._restart_at = now + delay
        elif now >= self._restart_at:
            self._restart_at = None
            self.restarts += 1
            try:
                self.start()
            except OSError as error:  # no fork (memory, process limit): the server goes on
                delay = self.RESTART_DELAYS[-1]
                logger.error(
                    "RADIUS journal merger could not be started (%s): tried again in %.0f s",
                    error,
                    delay,
                )
                self._restart_at = now + delay

    def stop(self) -> int | None:
        """Close its stdin, then wait for the merger to drain the journal and exit."""
        if self.process is None:
            return None
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        return self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
