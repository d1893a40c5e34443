"""Whether the accounting feeds keep up, for the back-office: the merger publishes what its
journal still holds, the radacct sync its last pass or its failure, and the network feed page
tells the agents which one is behind or silent (C4, N2, N3 wait on them)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from raccord.backoffice.services import agent_create
from raccord.network.feed import FAILING, LATE, OK, SILENT, feed_rows
from raccord.network.journal_merge import JournalMerger
from raccord.network.models import JournalPosition, RadacctCursor
from raccord.network.radacct import radacct_follow
from raccord.network.tests.test_journal import START_AT, _journal, interim

AT = datetime(2027, 1, 12, 20, 0, tzinfo=UTC)


def _position(name: str, *, reported: timedelta | None, waiting: int = 0, since: int = 0):
    return JournalPosition.objects.create(
        journal=name,
        directory=f"/var/lib/raccord/{name}",
        records=1000,
        reported_at=AT - reported if reported is not None else None,
        waiting_records=waiting,
        waiting_since=AT - reported - timedelta(seconds=since) if reported is not None else None,
    )


def test_the_merger_publishes_what_its_journal_still_holds_then_that_it_caught_up(
    db, tmp_path: Path
):
    # given: 5 records journalled at START_AT + 1.5, a merger whose clock says 90 s later
    directory = tmp_path / "j"
    _journal(directory, [interim("inconnu", f"s{i}", 0) for i in range(5)])
    merger = JournalMerger(directory, batch=2, clock=lambda: START_AT + 91.5)
    # when: one batch is merged and the lag published
    merger.merge_batch()
    merger.lag_publish(merger.lag())
    # then: the row says 3 waiting since their reception, reported at the merger's time
    row = JournalPosition.objects.get()
    assert (row.waiting_records, row.waiting_since, row.reported_at) == (
        3,
        datetime.fromtimestamp(START_AT + 1.5, UTC),
        datetime.fromtimestamp(START_AT + 91.5, UTC),
    )
    assert row.waiting_bytes > 0
    # and the page's verdict at that moment is "late" (90 s > the 60 s threshold)
    (feed,) = feed_rows(datetime.fromtimestamp(START_AT + 100, UTC))
    assert feed.state == LATE and feed.waiting == 3
    # when: the merger runs to the end, it publishes once more: nothing waits
    assert merger.run(follow=False) == 3
    row.refresh_from_db()
    assert (row.waiting_records, row.waiting_bytes, row.waiting_since) == (0, 0, None)
    (feed,) = feed_rows(datetime.fromtimestamp(START_AT + 100, UTC))
    assert feed.state == OK


def test_a_merge_behind_is_logged_as_a_warning(db, tmp_path: Path, caplog):
    directory = tmp_path / "j"
    _journal(directory, [interim("inconnu", "s", 0)])
    late = JournalMerger(directory, clock=lambda: START_AT + 120)
    with caplog.at_level(logging.INFO, logger="raccord.network.journal_merge"):
        late._report(0, late.lag())
        JournalMerger(directory, clock=lambda: START_AT + 30)._report(0, late.lag())
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO]


def test_each_feed_gets_its_verdict_worst_first(db):
    _position("fresh", reported=timedelta(seconds=5))
    _position("behind", reported=timedelta(seconds=5), waiting=42, since=61)
    _position("gone", reported=timedelta(minutes=6))
    _position("never", reported=None)
    RadacctCursor.objects.create(source="radius-db/radius#radacct", checked_at=AT)
    RadacctCursor.objects.create(source="old/radius#radacct", checked_at=AT - timedelta(hours=3))
    RadacctCursor.objects.create(
        source="down/radius#radacct", checked_at=AT, last_error="connection refused"
    )
    rows = feed_rows(AT)
    states = {row.name.removeprefix("/var/lib/raccord/"): row.state for row in rows}
    assert states == {
        "fresh": OK,
        "behind": LATE,
        "gone": SILENT,
        "never": SILENT,
        "radius-db/radius#radacct": OK,
        "old/radius#radacct": SILENT,
        "down/radius#radacct": FAILING,
    }
    # worst first: what needs a look is at the top of the page
    assert [row.state for row in rows] == [FAILING, SILENT, SILENT, SILENT, LATE, OK, OK]
    by_name = {row.name: row for row in rows}
    assert "il y a 6 min" in by_name["/var/lib/raccord/gone"].verdict
    assert "42 enregistrement(s) en attente" in by_name["/var/lib/raccord/behind"].verdict
    assert "connection refused" in by_name["down/radius#radacct"].verdict


def test_the_feed_page_is_for_agents_and_shows_each_source(db, client: Client, monkeypatch):
    monkeypatch.setattr("raccord.network.clock.now", lambda: AT)
    _position("behind", reported=timedelta(seconds=5), waiting=42, since=61)
    url = reverse("backoffice:network_feed")
    # a visitor is sent to the agents' login
    assert client.get(url).status_code == 302
    client.force_login(agent_create(email="a@raccord.test", role="agent", password="x" * 12))
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-feed-state="late"' in html
    assert "/var/lib/raccord/behind" in html and "En retard" in html


def test_a_radacct_source_that_cannot_be_reached_is_recorded_as_failing(db):
    dsn = "postgresql://radius:s3cret@127.0.0.1:1/radius?connect_timeout=2"
    with pytest.raises(psycopg.OperationalError):
        radacct_follow(dsn=dsn)
    cursor = RadacctCursor.objects.get()
    assert cursor.source == "127.0.0.1:1/radius#radacct"
    assert cursor.last_error and "s3cret" not in cursor.last_error
    (row,) = feed_rows(AT)
    assert row.state == FAILING


def test_radius_status_tells_what_is_left_and_writes_nothing(db, tmp_path: Path):
    directory = tmp_path / "j"
    _journal(directory, [interim("inconnu", f"s{i}", 0) for i in range(2)])
    out = StringIO()
    call_command("radius", "status", "--journal", str(directory), stdout=out)
    assert "Reste à fusionner : 2 enregistrement(s)" in out.getvalue()
    assert not JournalPosition.objects.exists()  # a status is not a merger
    JournalMerger(directory).run(follow=False)
    out = StringIO()
    call_command("radius", "status", "--journal", str(directory), stdout=out)
    assert "Reste à fusionner : 0 enregistrement(s)" in out.getvalue()
