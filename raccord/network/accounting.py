"""Storing accounting records: the one function both ways in call (the RADIUS server and the
radacct sync), N1 and N2.

A batch of records is stored in one transaction, set-based: one query reads the sessions the
batch touches, the merge happens in memory (``raccord.network.merge``: order-free, so a repeated
or late record changes nothing that its absence would not have left the same), then the new
and changed sessions and the daily usage are written together (``accounting_sql``: one COPY and
one statement on PostgreSQL).

The first record of a login whose contract awaits activation activates it (C4, N2) through the
contract service, once: the store keeps the logins it has seen active and never asks again.

One store may serve several writer threads at once (the server's lanes, each with its own
connection, each on its own partitions of the session keys): a batch works on the caches as
they were when it began, and ``forget`` replaces them rather than emptying them under it."""

from __future__ import annotations

import logging
import time as monotonic
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from threading import Lock

from django.db import connection, transaction

from raccord.contracts.models import Contract
from raccord.contracts.services import AWAITING_ACTIVATION, contract_activate
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.network.accounting_sql import (
    PARTITIONS,
    activation_lock,
    chunks,
    partition_of,
    reloads_record,
    sessions_insert,
    sessions_read,
    sessions_update,
    usage_add,
    write_pg,
)
from raccord.network.merge import (
    ACCOUNTING_OFF,
    ACCOUNTING_ON,
    INTERIM,
    RELOAD_STATUSES,
    SESSION_STATUSES,
    START,
    STOP,
    AccountingRecord,
    SessionState,
    TimedRecord,
    day_of,
    day_us,
    session_key,
    session_merge,
    session_new,
    session_reload_close,
    to_us,
    usage_contributions,
)
from raccord.network.models import NasReload

__all__ = [
    "ACCOUNTING_OFF",
    "ACCOUNTING_ON",
    "INTERIM",
    "PARTITIONS",
    "RELOAD_STATUSES",
    "SESSION_STATUSES",
    "START",
    "STOP",
    "AccountingRecord",
    "AccountingStore",
    "StoreResult",
    "partition_of",
    "usage_contributions",
]

logger = logging.getLogger(__name__)

# A login without contract is looked up again after this many seconds (it may be signed up).
UNKNOWN_LOGIN_RETRY_S = 60.0


@dataclass
class StoreResult:
    records: int = 0
    sessions_created: int = 0
    sessions_updated: int = 0
    activated: list[str] = field(default_factory=list)


# --- the store -----------------------------------------------------------------------------


class _Caches:
    """Which contract each login belongs to, the logins awaiting activation, NAS reboots."""

    def __init__(self) -> None:
        self.contract_of: dict[str, int | None] = {}
        self.unknown_until: dict[str, float] = {}
        self.awaiting: set[str] = set()
        self.reloads: dict[str, list[int]] = {}


class AccountingStore:
    """Stores batches of records. One instance per process: it caches which contract each
    login belongs to, which logins are known to be active (never activated again), and the
    NAS reboots."""

    def __init__(self, *, actor: Actor | None = None) -> None:
        self.actor = actor or Actor.system("Serveur RADIUS")
        self._caches = _Caches()
        # Held only to claim a login's activation (two lanes may see its first records).
        self._claim = Lock()

    # Logins → contracts, at most one query per batch, only for logins never seen before.
    @staticmethod
    def _contracts_resolve(caches: _Caches, logins: set[str]) -> None:
        now = monotonic.monotonic()
        contract_of, unknown_until = caches.contract_of, caches.unknown_until
        missing = [
            login
            for login in logins
            if login not in contract_of or unknown_until.get(login, now + 1) <= now
        ]
        if not missing:
            return
        awaiting = [str(s) for s in AWAITING_ACTIVATION]
        found: dict[str, tuple[int, bool]] = {}
        for chunk in chunks(missing):
            rows = Contract.objects.filter(network_login__in=list(chunk)).values_list(
                "network_login", "pk", "status", "activation_date"
            )
            for login, pk, status, activation_date in rows:
                found[login] = (pk, activation_date is None and status in awaiting)
        for login in missing:
            if login in found:
                pk, waits = found[login]
                contract_of[login] = pk
                unknown_until.pop(login, None)
                if waits:
                    caches.awaiting.add(login)
            else:
                contract_of[login] = None
                unknown_until[login] = now + UNKNOWN_LOGIN_RETRY_S

    @staticmethod
    def _reloads_load(caches: _Caches, nas_addresses: set[str]) -> None:
        missing = [nas for nas in nas_addresses if nas not in caches.reloads]
        if not missing:
            return
        found: dict[str, list[int]] = {nas: [] for nas in missing}
        for nas, at in NasReload.objects.filter(nas_address__in=missing).values_list(
            "nas_address", "at"
        ):
            found[nas].append(to_us(at))
        for nas, times in found.items():
            # Published sorted and whole: another lane may read it at once.
            caches.reloads.setdefault(nas, sorted(times))

    def forget(self) -> None:
        """Drop the caches (after the database was rolled back, e.g. a failed batch). A batch
        running in another thread keeps the ones it began with."""
        self._caches = _Caches()

    def store(self, records: Sequence[AccountingRecord]) -> StoreResult:
        result = StoreResult(records=len(records))
        if not records:
            return result
        try:
            with transaction.atomic():
                self._store(records, result)
        except Exception:
            self.forget()
            raise
        return result

    def _store(self, records: Sequence[AccountingRecord], result: StoreResult) -> None:
        caches = self._caches
        session_records: list[tuple[str, TimedRecord]] = []
        reloads: list[tuple[str, int]] = []
        logins: set[str] = set()
        nas_seen: set[str] = set()
        for record in records:
            if record.status in RELOAD_STATUSES:
                reloads.append((record.nas, to_us(record.at)))
                nas_seen.add(record.nas)
            elif record.status in SESSION_STATUSES and record.session_id:
                session_records.append(
                    (session_key(record.nas, record.session_id), TimedRecord(record))
                )
                logins.add(record.login)
                nas_seen.add(record.nas)
        pg = connection.vendor == "postgresql"
        keys = list({key for key, _r in session_records})
        # A reboot closes sessions of every partition.
        partitions = range(PARTITIONS) if reloads else {partition_of(key) for key in keys}
        with connection.cursor() as cursor:
            # Reads that need no lock first: contracts of new logins, reboots of new NAS.
            self._contracts_resolve(caches, logins)
            self._reloads_load(caches, nas_seen)
            for nas, at in reloads:
                times = caches.reloads[nas]
                index = bisect_left(times, at)
                if index == len(times) or times[index] != at:
                    times.insert(index, at)
            sessions = sessions_read(cursor, keys, pg, sorted(partitions))
            created: list[SessionState] = []
            first_start: dict[str, int] = {}
            awaiting = caches.awaiting
            contract_of = caches.contract_of
            for key, item in session_records:
                s = sessions.get(key)
                if s is None:
                    s = session_new(item, key, contract_of.get(item.record.login))
                    sessions[key] = s
                    created.append(s)
                else:
                    session_merge(s, item)
                login = item.record.login
                if login in awaiting and (
                    login not in first_start or item.start < first_start[login]
                ):
                    first_start[login] = item.start
            usage: dict[tuple[int, int], list[int]] = {}
            updated: list[SessionState] = []
            for s in sessions.values():
                reload_times = caches.reloads.get(s.nas)
                if reload_times:
                    session_reload_close(s, reload_times)
                if not s.dirty:
                    continue
                if s.id is not None:
                    updated.append(s)
                if s.contract_id is not None and s.old_days is not None:
                    self._usage_diff(usage, s)
            if pg:
                write_pg(cursor, created + updated, usage)
            else:
                sessions_insert(cursor, created)
                sessions_update(cursor, updated)
                usage_add(cursor, usage)
            if reloads:
                reloads_record(cursor, reloads, pg)
            result.sessions_created = len(created)
            result.sessions_updated = len(updated)
            # In contract order, one batch at a time (the activation lock): whatever two lanes
            # activate, they lock the contracts in no order that could cross.
            claimed = sorted(
                (contract_id, login, start)
                for login, start in first_start.items()
                if (contract_id := self._activation_claim(caches, login)) is not None
            )
            if claimed and pg:
                activation_lock(cursor)
        for contract_id, login, start in claimed:
            self._activate(contract_id, login, start, result)

    def _activation_claim(self, caches: _Caches, login: str) -> int | None:
        """The contract this batch activates for ``login``, if no other batch claimed it: the
        login leaves the awaiting set whatever the service answers."""
        with self._claim:
            if login not in caches.awaiting:
                return None
            caches.awaiting.discard(login)
        return caches.contract_of.get(login)

    @staticmethod
    def _usage_diff(usage: dict[tuple[int, int], list[int]], s: SessionState) -> None:
        assert s.old_days is not None and s.contract_id is not None
        days, old = s.days, s.old_days
        if len(days) == 1 and len(old) <= 1 and old.keys() <= days.keys():
            # The usual session, within one day: what it adds is its rise on that day.
            ((day, (a_in, a_out)),) = days.items()
            b_in, b_out = old.get(day, (0, 0))
            total = usage.setdefault((s.contract_id, day), [0, 0])
            total[0] += a_in - b_in
            total[1] += a_out - b_out
            return
        before = usage_contributions(old)
        after = usage_contributions(days)
        for day in before.keys() | after.keys():
            b_in, b_out = before.get(day, (0, 0))
            a_in, a_out = after.get(day, (0, 0))
            if a_in != b_in or a_out != b_out:
                total = usage.setdefault((s.contract_id, day), [0, 0])
                total[0] += a_in - b_in
                total[1] += a_out - b_out

    def _activate(self, contract_id: int, login: str, start: int, result: StoreResult) -> None:
        """N2/C4: the first record of a login activates its contract, on the Paris day the
        session started. Exactly once: the service locks the contract and ignores one already
        active."""
        on = day_of(day_us(start))
        try:
            contract = contract_activate(
                contract=Contract(pk=contract_id), on=on, source="radius", actor=self.actor
            )
        except DomainError as error:
            logger.warning(
                "activation refused login=%s contract=%s on=%s: %s",
                login,
                contract_id,
                on,
                error.message,
            )
            return
        if contract.activation_date is not None:
            result.activated.append(contract.reference)
