"""Outages found in the sessions by the daily job (N3)."""

from __future__ import annotations

from datetime import date

import pytest

from raccord.conftest import paris
from raccord.contracts.daily import daily_run
from raccord.contracts.models import Contract
from raccord.contracts.suspension import contract_suspend
from raccord.network.accounting import INTERIM, START, STOP
from raccord.network.models import Outage
from raccord.network.outages import outages_detect
from raccord.network.tests.conftest import SYSTEM, record


@pytest.fixture
def line(make_line) -> Contract:
    return make_line(received=date(2027, 5, 2), activated=date(2027, 5, 3))


def _session(store, line, name, start, end=None, last=None) -> None:
    records = [record(START, login=line.network_login, at=start, session=name)]
    if last is not None:
        seconds = int((last - start).total_seconds())
        records.append(
            record(INTERIM, login=line.network_login, at=last, session=name, session_time=seconds)
        )
    if end is not None:
        seconds = int((end - start).total_seconds())
        records.append(
            record(STOP, login=line.network_login, at=end, session=name, session_time=seconds)
        )
    store.store(records)


def test_a_hole_of_49_hours_between_sessions_is_an_outage__N3(line, store):
    # given: a session until 1 June 10:00, the next one on 3 June at 11:00
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    _session(store, line, "b", paris(2027, 6, 3, 11), paris(2027, 6, 3, 23))
    # when
    report = outages_detect(on=date(2027, 6, 4))
    # then
    outage = Outage.objects.get()
    assert (outage.contract_id, outage.started_at, outage.ended_at) == (
        line.pk,
        paris(2027, 6, 1, 10),
        paris(2027, 6, 3, 11),
    )
    assert outage.detected_on == date(2027, 6, 4)
    assert report == [f"{line.reference} : coupure depuis le 01/06/2027 10:00 (terminée)"]


def test_a_hole_of_exactly_48_hours_is_not_an_outage__N3(line, store):
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    _session(store, line, "b", paris(2027, 6, 3, 10), paris(2027, 6, 3, 23))
    assert outages_detect(on=date(2027, 6, 4)) == []
    assert not Outage.objects.exists()


def test_an_ongoing_outage_is_kept_open_then_ended_by_the_next_session__N3(line, store):
    # given: nothing since 1 June 10:00
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    # when: the job of 3 June sees 38 hours, the one of 4 June 62 hours
    assert outages_detect(on=date(2027, 6, 3)) == []
    outages_detect(on=date(2027, 6, 4))
    # then
    outage = Outage.objects.get()
    assert outage.started_at == paris(2027, 6, 1, 10) and outage.ended_at is None
    # when: the line comes back on the 4th at 8:00, the job of the 5th closes it
    _session(store, line, "b", paris(2027, 6, 4, 8), None, last=paris(2027, 6, 4, 23))
    report = outages_detect(on=date(2027, 6, 5))
    outage.refresh_from_db()
    assert outage.ended_at == paris(2027, 6, 4, 8)
    assert report == [f"{line.reference} : coupure du 01/06/2027 10:00 terminée"]
    # and running the same day again changes nothing
    assert outages_detect(on=date(2027, 6, 5)) == []
    assert Outage.objects.count() == 1


def test_an_open_session_with_recent_records_covers_the_line(line, store):
    _session(store, line, "a", paris(2027, 5, 20, 8), None, last=paris(2027, 6, 3, 23, 50))
    assert outages_detect(on=date(2027, 6, 4)) == []


def test_records_arriving_late_remove_the_outage__N1(line, store):
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    _session(store, line, "c", paris(2027, 6, 3, 11), paris(2027, 6, 3, 12))
    outages_detect(on=date(2027, 6, 4))
    assert Outage.objects.count() == 1
    # when: the NAS delivers late a session that covered the hole
    _session(store, line, "b", paris(2027, 6, 1, 10, 5), paris(2027, 6, 3, 11))
    outages_detect(on=date(2027, 6, 5))
    # then
    assert not Outage.objects.exists()


def test_suspended_and_never_connected_lines_are_not_scanned(line, make_line, store):
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    contract_suspend(contract=line, on=date(2027, 6, 1), reason="impayé", actor=SYSTEM)
    make_line(received=date(2027, 5, 2), activated=date(2027, 5, 3))  # no session at all
    assert outages_detect(on=date(2027, 6, 10)) == []


def test_the_gap_never_starts_before_the_activation_day(make_line, store):
    # given: a session that started the day before the (fallback) activation
    line = make_line(received=date(2027, 4, 1), activated=date(2027, 5, 1))
    _session(store, line, "a", paris(2027, 4, 29, 8), paris(2027, 4, 29, 9))
    outages_detect(on=date(2027, 5, 5))
    assert Outage.objects.get().started_at == paris(2027, 5, 1, 0)


def test_the_daily_job_reports_the_outages_under_network__N3(line, store):
    _session(store, line, "a", paris(2027, 5, 30, 8), paris(2027, 6, 1, 10))
    report = daily_run(on=date(2027, 6, 4))
    assert report.other["network"] == [
        f"{line.reference} : coupure depuis le 01/06/2027 10:00 (en cours)"
    ]
    assert daily_run(on=date(2027, 6, 4)).other.get("network") is None
