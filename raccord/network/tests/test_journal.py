"""The RADIUS journal: framing, torn tails and corruption, rotation, and the merger's position
(saved with each batch, so a merge stopped anywhere neither skips nor repeats a record)."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
from django.db import OperationalError
from pyrad.packet import AcctPacket

from raccord.conftest import paris
from raccord.core.models import Event
from raccord.network import journal as journal_module
from raccord.network.journal import (
    MAGIC,
    JournalError,
    JournalWriter,
    entries_read,
    frame_encode,
    frames_scan,
    segments,
)
from raccord.network.journal_merge import JournalMerger, MergeBatch, _Growth
from raccord.network.models import AccountingSession, DailyUsage, JournalPosition
from raccord.network.radius_packets import radius_dictionary

START_AT = int(paris(2027, 1, 12, 20, 15).timestamp())
SECRET = b"testing123"


def signed(**attributes: object) -> bytes:
    """A signed Accounting-Request, as a NAS sends it."""
    request = AcctPacket(id=7, secret=SECRET, dict=radius_dictionary())
    for name, value in attributes.items():
        request.AddAttribute(name.replace("_", "-"), value)
    return bytes(request.RequestPacket())


def interim(login: str, session: str, step: int) -> bytes:
    """Record ``step`` of a session: Start (0), Interim-Updates, its counters growing."""
    return signed(
        User_Name=login,
        Acct_Status_Type=1 if step == 0 else 3,
        Acct_Session_Id=session,
        NAS_IP_Address="192.0.2.1",
        Event_Timestamp=START_AT + 600 * step,
        Acct_Session_Time=600 * step,
        Acct_Output_Octets=1000 * step,
        Acct_Input_Octets=10 * step,
    )


def frame(raw: bytes, received: float = START_AT + 1.5, source: bytes = b"127.0.0.1") -> bytes:
    return frame_encode(received, source, raw)


def test_frames_round_trip():
    # given
    raws = [interim("rc1", "a", 0), interim("rc1", "a", 1), interim("rc2", "b", 0)]
    data = b"".join(frame(raw, received=START_AT + i / 8) for i, raw in enumerate(raws))
    # when
    scan = frames_scan(data, 0)
    # then: every frame back, exactly, and the reading ends at the end of the data
    assert scan.status == "end" and scan.end == len(data)
    assert [(e.received, e.source, e.raw) for e in scan.entries] == [
        (START_AT + i / 8, "127.0.0.1", raw) for i, raw in enumerate(raws)
    ]
    # a limit stops after that many frames, at the start of the next one
    limited = frames_scan(data, 0, limit=2)
    assert (len(limited.entries), limited.status) == (2, "limit")
    assert frames_scan(data, limited.end).entries == scan.entries[2:]


def test_a_frame_cut_short_is_partial_and_a_bad_crc_or_zeros_are_corrupt():
    one, two = frame(interim("rc1", "a", 0)), frame(interim("rc1", "a", 1))
    # cut anywhere inside the second frame: the first only
    for cut in (1, 7, 8, 20, len(two) - 1):
        scan = frames_scan(one + two[:cut], 0)
        assert (len(scan.entries), scan.end, scan.status) == (1, len(one), "partial")
    # one flipped byte in the second frame's payload: its crc no longer matches
    flipped = bytearray(two)
    flipped[30] ^= 0x01
    scan = frames_scan(one + bytes(flipped) + one, 0)
    assert (len(scan.entries), scan.end, scan.status) == (1, len(one), "corrupt")
    # zeros, as a power loss may leave after the last sync: never an (empty) record
    scan = frames_scan(one + bytes(64), 0)
    assert (len(scan.entries), scan.status) == (1, "corrupt")


def test_a_torn_tail_is_cut_when_the_journal_is_opened_again(tmp_path: Path):
    # given: a journal holding three synced records, then half a frame (kill -9, power loss)
    directory = tmp_path / "j"
    writer = JournalWriter(directory)
    writer.open()
    frames = [frame(interim("rc1", "a", step)) for step in range(3)]
    writer.append(frames[0] + frames[1])
    writer.append(frames[2])
    writer.close()
    ((_sequence, path),) = segments(directory)
    with path.open("ab") as stream:
        stream.write(frame(interim("rc1", "a", 3))[:25])
    # when: the server starts again
    again = JournalWriter(directory)
    again.open()
    again.close()
    # then: the three records are there, the torn one is gone, a new segment was started
    assert path.stat().st_size == len(MAGIC) + sum(map(len, frames))
    assert [e.raw for _s, e in entries_read(directory)] == [
        interim("rc1", "a", step) for step in range(3)
    ]
    assert [s for s, _p in segments(directory)] == [1, 2]


def test_recovery_keeps_the_valid_frames_after_a_damaged_one(tmp_path: Path):
    # given: a batch damaged in the page cache (its sync failed), then a batch synced and
    # acknowledged after it in the same segment, then a torn tail (a crash)
    directory = tmp_path / "j"
    writer = JournalWriter(directory)
    writer.open()
    first, damaged, after = (frame(interim("rc1", "a", step)) for step in range(3))
    writer.append(first + damaged + after)
    writer.close()
    ((_sequence, path),) = segments(directory)
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + len(first) + 20] ^= 0xFF
    path.write_bytes(bytes(data) + frame(interim("rc1", "a", 3))[:30])
    # when
    again = JournalWriter(directory)
    again.open()
    again.close()
    # then: only the torn tail is cut; the frame after the damaged one stays
    assert path.stat().st_size == len(data)
    assert [e.raw for _s, e in entries_read(directory)] == [interim("rc1", "a", 0)]
    assert frames_scan(path.read_bytes(), len(MAGIC) + len(first) + len(damaged)).entries[
        0
    ].raw == interim("rc1", "a", 2)


def test_segments_rotate_by_size_and_keep_the_order(tmp_path: Path):
    writer = JournalWriter(tmp_path / "j", segment_bytes=400)
    writer.open()
    raws = [interim("rc1", f"s{i}", 0) for i in range(12)]
    for raw in raws:
        writer.append(frame(raw))
    writer.close()
    files = segments(tmp_path / "j")
    assert len(files) >= 3
    assert all(path.read_bytes().startswith(MAGIC) for _s, path in files)
    assert [e.raw for _s, e in entries_read(tmp_path / "j")] == raws


def test_one_writer_per_journal(tmp_path: Path):
    first = JournalWriter(tmp_path / "j")
    first.open()
    try:
        with pytest.raises(JournalError):
            JournalWriter(tmp_path / "j").open()
    finally:
        first.close()


def test_a_failed_sync_leaves_no_half_batch_and_the_next_batch_goes_to_a_new_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # given
    writer = JournalWriter(tmp_path / "j")
    writer.open()
    writer.append(frame(interim("rc1", "a", 0)))
    real = journal_module.fdatasync

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    # when: the disk fails the sync of the second batch (left unanswered by the server)
    monkeypatch.setattr(journal_module, "fdatasync", failing)
    with pytest.raises(OSError):
        writer.append(frame(interim("rc1", "a", 1)))
    monkeypatch.setattr(journal_module, "fdatasync", real)
    writer.append(frame(interim("rc1", "a", 2)))
    writer.close()
    # then: the first and the third, each segment whole
    assert [e.raw for _s, e in entries_read(tmp_path / "j")] == [
        interim("rc1", "a", 0),
        interim("rc1", "a", 2),
    ]
    assert [s for s, _p in segments(tmp_path / "j")] == [1, 2]


def test_a_batch_written_before_another_batch_s_failed_sync_is_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Linux reports a failed write-back to one sync of the file only: batch B, written while
    A's sync was failing, must not be taken as synced because its own sync returned 0."""
    writer = JournalWriter(tmp_path / "j")
    writer.open()
    size_before = writer.size
    b = frame(interim("rc1", "b", 0))
    calls: list[int] = []
    errors: list[BaseException] = []

    def sync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # A's sync: fails once B has been written behind it
            deadline = time.monotonic() + 5
            while writer.size < size_before + len(a) + len(b) and time.monotonic() < deadline:
                time.sleep(0.005)
            raise OSError(5, "Input/output error")

    a = frame(interim("rc1", "a", 0))
    monkeypatch.setattr(journal_module, "fdatasync", sync)

    def append(data: bytes) -> None:
        try:
            writer.append(data)
        except OSError as error:
            errors.append(error)

    first = threading.Thread(target=append, args=(a,))
    first.start()
    while not calls:
        time.sleep(0.001)
    second = threading.Thread(target=append, args=(b,))
    second.start()
    first.join(10)
    second.join(10)
    writer.close()
    # then both fail: neither is answered (the NAS sends them again)
    assert len(errors) == 2
    assert len(calls) == 2  # B's own sync returned, and was not believed


def test_the_journal_is_readable_by_its_owner_only(tmp_path: Path):
    # given a directory others may read (as a umask would make it)
    directory = tmp_path / "j"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    # when
    writer = JournalWriter(directory)
    writer.open()
    writer.append(frame(interim("rc1", "a", 0)))
    writer.close()
    # then: logins and authenticators are not for other local users
    assert directory.stat().st_mode & 0o777 == 0o700
    for path in directory.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path.name


def test_a_segment_that_cannot_be_created_is_not_left_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # given a sync that fails (the disk full), then works again
    writer = JournalWriter(tmp_path / "j")
    writer.open()
    real = journal_module.fdatasync
    monkeypatch.setattr(journal_module, "fdatasync", _failing_sync)
    with pytest.raises(OSError):
        writer.append(frame(interim("rc1", "a", 0)))
    # when the next batch needs a new segment and its creation fails too
    with pytest.raises(OSError):
        writer.append(frame(interim("rc1", "a", 1)))
    assert [s for s, _p in segments(tmp_path / "j")] == [1]
    # then once the disk works, the writer goes on (no segment left behind in the way)
    monkeypatch.setattr(journal_module, "fdatasync", real)
    writer.append(frame(interim("rc1", "a", 2)))
    writer.close()
    assert [e.raw for _s, e in entries_read(tmp_path / "j")] == [interim("rc1", "a", 2)]


def _failing_sync(fd: int) -> None:
    raise OSError(28, "No space left on device")


# --- the merger ----------------------------------------------------------------------------


def _journal(directory: Path, raws: list[bytes], *, segment_bytes: int = 1 << 20) -> None:
    writer = JournalWriter(directory, segment_bytes=segment_bytes)
    writer.open()
    for raw in raws:
        writer.append(frame(raw))
    writer.close()


def _usage() -> list[tuple]:
    return list(
        DailyUsage.objects.values_list("contract_id", "day", "input_octets", "output_octets")
    )


def test_the_merger_stores_in_batches_saves_its_position_and_resumes__N1_C4(
    db, make_line, tmp_path: Path
):
    # given: a line awaiting activation, 3 sessions × 3 records in the journal
    line = make_line(received=date(2027, 1, 8))
    raws = [interim(line.network_login, f"s{i}", step) for step in range(3) for i in range(3)]
    directory = tmp_path / "j"
    _journal(directory, raws)
    # when: a merger stores two batches of 2, then stops
    first = JournalMerger(directory, batch=2)
    assert first.merge_batch().records == 2
    assert first.merge_batch().records == 2
    position = JournalPosition.objects.get()
    assert (position.segment, position.records) == (1, 4)
    # then: another merger (a restart) goes on from there, to the end
    second = JournalMerger(directory, batch=2)
    assert second.run(follow=False) == 5
    assert JournalPosition.objects.get().records == 9
    assert AccountingSession.objects.count() == 3
    assert set(AccountingSession.objects.values_list("output_octets", flat=True)) == {2000}
    assert _usage() == [(line.pk, date(2027, 1, 12), 3 * 20, 3 * 2000)]
    line.refresh_from_db()
    assert line.activation_date == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.activated", subject_id=line.pk).count() == 1
    # and a third finds nothing left
    assert JournalMerger(directory).run(follow=False) == 0


def test_a_record_the_database_refuses_is_left_out_and_the_merge_goes_on(
    db, make_line, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A refused record (DataError) must not hold back the records after it for ever."""
    from django.db import DataError

    from raccord.network.accounting import AccountingStore

    # given three sessions in the journal, the second one refused by the database
    line = make_line(received=date(2027, 1, 8))
    directory = tmp_path / "j"
    _journal(directory, [interim(line.network_login, f"s{i}", 0) for i in range(3)])
    real_store = AccountingStore.store

    def store(self, records):
        if any(record.session_id == "s1" for record in records):
            raise DataError("valeur refusée")
        return real_store(self, records)

    monkeypatch.setattr(AccountingStore, "store", store)
    # when
    merged = JournalMerger(directory).run(follow=False)
    # then the two others are stored (the line activated once), the position at the end
    assert merged == 3
    assert sorted(AccountingSession.objects.values_list("session_id", flat=True)) == ["s0", "s2"]
    assert JournalPosition.objects.get().records == 3
    line.refresh_from_db()
    assert line.activation_date == date(2027, 1, 12)


def test_a_batch_that_fails_moves_neither_the_sessions_nor_the_position(
    db, make_line, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # given
    line = make_line(received=date(2027, 1, 8))
    directory = tmp_path / "j"
    _journal(directory, [interim(line.network_login, "s1", step) for step in range(3)])
    merger = JournalMerger(directory, batch=10)
    merger.position()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("crash after the store, before the commit")

    # when: the batch is stored, then the position cannot be saved (a crash before commit)
    monkeypatch.setattr(merger, "_position_save", broken)
    with pytest.raises(RuntimeError):
        merger.merge_batch()
    # then: nothing of the batch stayed, not even the activation
    assert not AccountingSession.objects.exists()
    line.refresh_from_db()
    assert line.activation_date is None
    assert JournalPosition.objects.get().records == 0
    # when: merged again
    monkeypatch.undo()
    assert JournalMerger(directory).run(follow=False) == 3
    # then: once, exactly
    session = AccountingSession.objects.get()
    assert (session.output_octets, session.input_octets) == (2000, 20)
    assert Event.objects.filter(verb="contract.activated", subject_id=line.pk).count() == 1


def test_merged_segments_are_deleted_and_a_damaged_frame_is_skipped(db, tmp_path: Path):
    # given: several segments, the first frame of a sealed one damaged
    directory = tmp_path / "j"
    raws = [interim("inconnu", f"s{i}", 0) for i in range(12)]
    _journal(directory, raws, segment_bytes=400)
    files = segments(directory)
    damaged = files[1][1]
    data = bytearray(damaged.read_bytes())
    data[len(MAGIC) + 20] ^= 0xFF
    damaged.write_bytes(bytes(data))
    lost = frames_scan(bytes(data), len(MAGIC), 1).entries
    # when
    merged = JournalMerger(directory, batch=3).run(follow=False)
    # then: every record but the damaged one merged, the damaged segment kept for inspection,
    # the merged ones deleted
    assert lost == []
    assert merged == len(raws) - 1 == AccountingSession.objects.count()
    assert damaged.with_name(damaged.name + ".corrupt").exists()
    assert [s for s, _p in segments(directory)] == [files[-1][0]]
    # the lag is nil
    lag = JournalMerger(directory).lag()
    assert (lag.records, lag.bytes) == (0, 0)


def test_a_sealed_segment_ending_with_a_cut_frame_is_kept_and_logged_not_dropped(
    db, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    # given: a sealed segment whose end is a frame cut short (a damaged length field)
    directory = tmp_path / "j"
    raws = [interim("inconnu", f"s{i}", 0) for i in range(12)]
    _journal(directory, raws, segment_bytes=400)
    files = segments(directory)
    damaged = files[0][1]
    with damaged.open("ab") as stream:
        stream.write(frame(interim("inconnu", "cut", 0))[:30])
    # when
    merged = JournalMerger(directory, batch=3).run(follow=False)
    # then every whole record is merged, and the damage is kept and said
    assert merged == len(raws) == AccountingSession.objects.count()
    assert damaged.with_name(damaged.name + ".corrupt").exists()
    assert "bad frame" in caplog.text


def test_a_position_past_every_segment_stops_the_merger_instead_of_deleting(db, tmp_path: Path):
    # given a journal emptied behind the merger's back: the writer starts again at segment 1
    directory = tmp_path / "j"
    _journal(directory, [interim("inconnu", "s0", 0)])
    merger = JournalMerger(directory)
    merger.run(follow=False)
    JournalPosition.objects.update(segment=7)
    # when / then
    with pytest.raises(JournalError, match="au-delà de ses segments"):
        JournalMerger(directory).merge_batch()
    assert segments(directory)  # nothing deleted


def test_the_lag_counts_what_is_not_merged(db, tmp_path: Path):
    directory = tmp_path / "j"
    _journal(directory, [interim("inconnu", f"s{i}", 0) for i in range(5)])
    merger = JournalMerger(directory, batch=2)
    lag = merger.lag()
    assert (lag.records, lag.oldest) == (5, START_AT + 1.5)
    assert lag.seconds(START_AT + 11.5) == 10.0
    merger.merge_batch()
    assert merger.lag().records == 3


def test_the_burst_rate_is_seen_at_once_and_judged_over_a_window(tmp_path: Path):
    # given: a journal, its growth looked at from t = 0
    writer = JournalWriter(tmp_path / "j")
    writer.open()
    growth = _Growth(tmp_path / "j")
    assert growth.rate(0.0) == 0.0
    # when: 1,000 records' worth is appended within a tenth of a second
    writer.append(bytes(_Growth.FRAME_BYTES * 1000))
    # then: seen at the next look, before the window ends
    assert growth.rate(0.1) == pytest.approx(10_000)
    # and still counted over the window once it is over, then nothing more: zero
    assert growth.rate(0.5) == pytest.approx(2_000)
    assert growth.rate(1.0) == 0.0
    writer.close()


def test_a_follower_waits_for_the_database_to_come_back(tmp_path: Path):
    # given: a merger whose database fails once, then works
    merger = JournalMerger(tmp_path / "j")
    outcomes: list[object] = [
        OperationalError("connexion perdue"),
        MergeBatch(3, True),
        MergeBatch(),
    ]

    def merge_batch() -> MergeBatch:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, MergeBatch)
        return outcome

    merger.merge_batch = merge_batch  # type: ignore[method-assign]
    asked = {"n": 0}

    def should_stop() -> bool:
        asked["n"] += 1
        return asked["n"] > 1

    # when: following, it is asked to stop once the journal is read
    merged = merger.run(follow=True, should_stop=should_stop, interval=0.001)
    # then: the failure did not end it, the batch after it was merged
    assert (merged, outcomes) == (3, [])
    # and without --follow the error is the caller's
    outcomes[:] = [OperationalError("connexion perdue")]
    with pytest.raises(OperationalError):
        merger.run(follow=False)


def test_a_merger_that_cannot_be_started_again_does_not_stop_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from raccord.network.journal import MergerChild

    class Dead:
        pid = 4242
        stdin = None

        def poll(self) -> int:
            return 1

    child = MergerChild(tmp_path / "j")
    child.process = Dead()  # type: ignore[assignment]
    starts: list[float] = []

    def no_fork() -> None:
        starts.append(time.monotonic())
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(child, "start", no_fork)
    # when the server's loop finds it dead, then comes back after the delay
    child.check(1000.0)
    child.check(1000.0 + MergerChild.RESTART_DELAYS[0])
    # then the failed start is logged and tried again later, the loop goes on
    assert len(starts) == 1
    child.check(1000.0 + MergerChild.RESTART_DELAYS[0] + 1)
    assert len(starts) == 1
    child.check(1000.0 + MergerChild.RESTART_DELAYS[0] + MergerChild.RESTART_DELAYS[-1])
    assert len(starts) == 2
