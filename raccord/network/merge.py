"""The order-free merge of accounting records into sessions (N1), in memory.

Each session field is a minimum or a maximum over its records (see ``AccountingSession``), and
the daily usage is derived from each session's per-day highest counters, so a repeated or late
record changes nothing that its absence would not have left the same. Times are integer
microseconds since the epoch while merging: exact and cheap to compare."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

# Acct-Status-Type values (RFC 2866 section 5.1).
START, STOP, INTERIM, ACCOUNTING_ON, ACCOUNTING_OFF = 1, 2, 3, 7, 8
SESSION_STATUSES = frozenset({START, STOP, INTERIM})
RELOAD_STATUSES = frozenset({ACCOUNTING_ON, ACCOUNTING_OFF})


@dataclass(slots=True)
class AccountingRecord:
    """One accounting record, from a RADIUS packet or a radacct row. ``at`` is when the NAS
    says it happened (Event-Timestamp, or reception minus Acct-Delay-Time); ``started_at`` is
    given when the source knows the session's start (radacct), else it is derived."""

    status: int
    nas: str
    at: datetime
    session_id: str = ""
    login: str = ""
    session_time: int = 0
    input_octets: int = 0
    output_octets: int = 0
    started_at: datetime | None = None
    terminate_cause: str = ""
    framed_ip: str = ""
    calling_station: str = ""


def session_key(nas: str, session_id: str) -> str:
    return f"{nas}|{session_id}"


def paris_day(moment: datetime) -> int:
    """The Paris calendar day of ``moment`` as the integer YYYYMMDD (cheap to sort and store)."""
    local = moment.astimezone(PARIS)
    return local.year * 10000 + local.month * 100 + local.day


def day_of(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def usage_days_parse(text: str) -> dict[int, tuple[int, int]]:
    days: dict[int, tuple[int, int]] = {}
    if text:
        for item in text.split(","):
            day, inp, out = item.split(":")
            days[int(day)] = (int(inp), int(out))
    return days


def usage_days_format(days: dict[int, tuple[int, int]]) -> str:
    return ",".join(f"{day}:{inp}:{out}" for day, (inp, out) in sorted(days.items()))


def usage_contributions(days: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """What a session adds to each day: the rise of its running highest counters that day."""
    result: dict[int, tuple[int, int]] = {}
    top_in = top_out = 0
    for day in sorted(days):
        inp, out = days[day]
        new_in, new_out = max(top_in, inp), max(top_out, out)
        if new_in != top_in or new_out != top_out:
            result[day] = (new_in - top_in, new_out - top_out)
        top_in, top_out = new_in, new_out
    return result


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
_days_by_hour: dict[int, int] = {}


def to_us(moment: datetime) -> int:
    """A moment as integer microseconds since the epoch: exact, cheap to compare."""
    if moment.tzinfo is None:  # SQLite gives Django's naive UTC
        return (moment - _EPOCH_NAIVE) // _MICRO
    return (moment - EPOCH) // _MICRO


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def day_us(value: int) -> int:
    """``paris_day`` of a moment in microseconds, cached per hour (offsets change on hours)."""
    hour = value // _HOUR_US
    day = _days_by_hour.get(hour)
    if day is None:
        if len(_days_by_hour) > 100_000:
            _days_by_hour.clear()
        day = _days_by_hour[hour] = paris_day(from_us(hour * _HOUR_US))
    return day


class SessionState:
    """A session row in memory while a batch is merged; times in microseconds."""

    __slots__ = (
        "calling",
        "cause",
        "closed_by_reload",
        "contract_id",
        "days",
        "days_text",
        "dirty",
        "framed_ip",
        "id",
        "input",
        "key",
        "last",
        "login",
        "nas",
        "old_days",
        "output",
        "session_id",
        "session_time",
        "started",
        "stopped",
    )

    key: str
    nas: str
    session_id: str
    login: str
    contract_id: int | None
    started: int
    last: int
    stopped: int | None
    closed_by_reload: bool
    input: int
    output: int
    session_time: int
    cause: str
    framed_ip: str
    calling: str
    days: dict[int, tuple[int, int]]
    days_text: str

    def __init__(self) -> None:
        self.id: int | None = None
        self.dirty = False
        self.old_days: dict[int, tuple[int, int]] | None = None

    def touch_days(self) -> dict[int, tuple[int, int]]:
        if self.old_days is None:
            self.old_days = dict(self.days)
        return self.days

    def days_stored(self) -> str:
        """``usage_days`` to write: formatted again only when the days changed."""
        return self.days_text if self.old_days is None else usage_days_format(self.days)


class TimedRecord:
    """A record's times in microseconds, computed once."""

    __slots__ = ("at", "record", "start")

    def __init__(self, record: AccountingRecord) -> None:
        self.record = record
        self.at = to_us(record.at)
        if record.started_at is not None:
            self.start = to_us(record.started_at)
        else:
            self.start = self.at - record.session_time * 1_000_000


def session_new(item: TimedRecord, key: str, contract_id: int | None) -> SessionState:
    record = item.record
    s = SessionState()
    s.key = key
    s.nas = record.nas
    s.session_id = record.session_id
    s.login = record.login
    s.contract_id = contract_id
    s.started = item.start
    s.last = item.at
    s.stopped = item.at if record.status == STOP else None
    s.closed_by_reload = False
    s.input = record.input_octets
    s.output = record.output_octets
    s.session_time = record.session_time
    s.cause = record.terminate_cause if record.status == STOP else ""
    s.framed_ip = record.framed_ip
    s.calling = record.calling_station
    s.days = {}
    s.days_text = ""
    s.old_days = {}
    if record.input_octets or record.output_octets:
        s.days[day_us(item.at)] = (record.input_octets, record.output_octets)
    s.dirty = True
    return s


def session_merge(s: SessionState, item: TimedRecord) -> None:
    record = item.record
    if item.start < s.started:
        s.started = item.start
        s.dirty = True
    inp, out, st = record.input_octets, record.output_octets, record.session_time
    if st > s.session_time or inp > s.input or out > s.output:
        # The record that brings progress dates the session's last sign of life.
        if item.at > s.last:
            s.last = item.at
        s.session_time = max(s.session_time, st)
        s.input = max(s.input, inp)
        s.output = max(s.output, out)
        s.dirty = True
    if record.status == STOP and (s.stopped is None or s.closed_by_reload or item.at < s.stopped):
        s.stopped = item.at
        s.closed_by_reload = False
        s.cause = record.terminate_cause
        s.dirty = True
    if not s.framed_ip and record.framed_ip:
        s.framed_ip = record.framed_ip
        s.dirty = True
    if not s.calling and record.calling_station:
        s.calling = record.calling_station
        s.dirty = True
    if inp or out:
        day = day_us(item.at)
        current = s.days.get(day)
        if current is None or inp > current[0] or out > current[1]:
            s.touch_days()[day] = (
                (inp, out) if current is None else (max(inp, current[0]), max(out, current[1]))
            )
            s.dirty = True


def session_reload_close(s: SessionState, reloads: list[int]) -> None:
    """A session without Stop ends at the first reboot of its NAS after its last record."""
    if s.stopped is not None and not s.closed_by_reload:
        return
    index = bisect_left(reloads, max(s.last, s.started))
    end = reloads[index] if index < len(reloads) else None
    if end != s.stopped:
        s.stopped = end
        s.closed_by_reload = end is not None
        s.cause = "NAS-Reboot" if end is not None else ""
        s.dirty = True
