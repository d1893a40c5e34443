"""Is the network feeding Raccord? The state of each way accounting comes in, for the
back-office: every RADIUS journal (how much its merger still has to store, and since when) and
every FreeRADIUS ``radacct`` table read by ``raccord radius sync-radacct`` (its last pass).

A feed that stalls delays activations by first connection (C4, N2) and hides outages (N3): the
agents see it here before a subscriber calls. The merger and the sync write their state in the
database as they go (they may run on another host); this module only reads it, at ``at``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from raccord.network.models import JournalPosition, RadacctCursor

# Records waiting longer than this in a journal: the merge is behind (logged as a warning too).
LAG_WARN_SECONDS = 60.0
# No report from a merger, or no pass of a sync, for this long: it is probably not running.
SILENT_AFTER = timedelta(minutes=5)

OK = "ok"
LATE = "late"
SILENT = "silent"
FAILING = "failing"


@dataclass(frozen=True)
class FeedRow:
    kind: str  # "journal" or "radacct"
    name: str
    state: str  # OK, LATE, SILENT or FAILING
    verdict: str  # in French, for the agent
    records: int  # stored so far (journal) or rows read (radacct)
    last_seen: datetime | None  # the merger's last report, the sync's last pass
    waiting: int | None = None  # journal only: records not merged yet


def _ago(at: datetime, then: datetime) -> str:
    minutes = int((at - then).total_seconds() // 60)
    if minutes < 1:
        return _("il y a moins d'une minute")
    if minutes < 120:
        return _("il y a %(n)s min") % {"n": minutes}
    return _("il y a %(n)s h") % {"n": minutes // 60}


def _silence(at: datetime, seen: datetime | None, since: str, never: str) -> str:
    return since % {"ago": _ago(at, seen)} if seen is not None else never


def _journal_row(position: JournalPosition, at: datetime) -> FeedRow:
    seen = position.reported_at
    if seen is None or at - seen > SILENT_AFTER:
        state = SILENT
        verdict = _silence(
            at,
            seen,
            _(
                "Aucun bilan de la fusion depuis %(ago)s : vérifiez que « raccord radius serve » "
                "(ou « raccord radius merge --follow ») tourne."
            ),
            _("La fusion n'a encore rien signalé."),
        )
    elif (
        position.waiting_records
        and position.waiting_since is not None
        and (seen - position.waiting_since).total_seconds() > LAG_WARN_SECONDS
    ):
        state = LATE
        verdict = _(
            "En retard : %(n)s enregistrement(s) en attente, le plus ancien reçu %(ago)s. Les "
            "mises en service par première connexion attendent."
        ) % {"n": position.waiting_records, "ago": _ago(at, position.waiting_since)}
    else:
        state = OK
        verdict = _("À jour (dernier bilan %(ago)s).") % {"ago": _ago(at, seen)}
    return FeedRow(
        kind="journal",
        name=position.directory or position.journal,
        state=state,
        verdict=verdict,
        records=position.records,
        last_seen=seen,
        waiting=position.waiting_records,
    )


def _radacct_row(cursor: RadacctCursor, at: datetime) -> FeedRow:
    seen = cursor.checked_at
    if cursor.last_error:
        state = FAILING
        verdict = _("La dernière lecture a échoué : %(error)s") % {"error": cursor.last_error}
    elif seen is None or at - seen > SILENT_AFTER:
        state = SILENT
        verdict = _silence(
            at,
            seen,
            _(
                "Aucune lecture depuis %(ago)s : vérifiez que « raccord radius sync-radacct "
                "--follow » tourne."
            ),
            _("Aucune lecture terminée pour l'instant."),
        )
    else:
        state = OK
        verdict = _("À jour (dernière lecture %(ago)s).") % {"ago": _ago(at, seen)}
    return FeedRow(
        kind="radacct",
        name=cursor.source,
        state=state,
        verdict=verdict,
        records=cursor.rows_read,
        last_seen=seen,
    )


def feed_rows(at: datetime) -> list[FeedRow]:
    """Every journal and every radacct source Raccord has read, worst first."""
    rows = [_journal_row(p, at) for p in JournalPosition.objects.order_by("directory", "pk")]
    rows += [_radacct_row(c, at) for c in RadacctCursor.objects.order_by("source")]
    order = {FAILING: 0, SILENT: 1, LATE: 2, OK: 3}
    return sorted(rows, key=lambda row: order[row.state])
