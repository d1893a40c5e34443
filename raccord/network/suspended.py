"""The suspended lines (P6), exported for FreeRADIUS's authorisation so that the NAS puts them
in a walled garden (see docs/network.md).

Two forms: a ``users`` file (rlm_files) with a reply per suspended login, or, for FreeRADIUS
with the SQL module, a group in ``radusergroup`` whose ``radgroupreply`` gives the walled
garden's Filter-Id (and pool). Both are rebuilt whole from the contracts each time, so an
export is idempotent and a reactivated line simply disappears from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from raccord.contracts.models import Contract
from raccord.contracts.suspension import SUSPENDABLE

WALLED_GARDEN_GROUP = "raccord-suspendu"
WALLED_GARDEN_FILTER = "walled-garden"


@dataclass(frozen=True)
class SuspendedLine:
    login: str
    reference: str
    suspended_on: date
    reason: str


def suspended_lines() -> list[SuspendedLine]:
    rows = (
        Contract.objects.filter(suspended_on__isnull=False, status__in=list(SUSPENDABLE))
        .order_by("network_login")
        .values_list("network_login", "reference", "suspended_on", "suspension_reason")
    )
    return [
        SuspendedLine(login=login, reference=reference, suspended_on=on, reason=reason)
        for login, reference, on, reason in rows
        if on is not None
    ]


def _quoted(value: str) -> str:
    """A double-quoted FreeRADIUS string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reply_items(filter_id: str, pool: str) -> list[tuple[str, str]]:
    items = [("Filter-Id", filter_id)]
    if pool:
        items.append(("Framed-Pool", pool))
    return items


def suspended_users_file(*, filter_id: str = WALLED_GARDEN_FILTER, pool: str = "") -> str:
    """Entries for ``mods-config/files/authorize``: each suspended login gets the walled
    garden's reply and falls through to its normal entries (authentication is unchanged)."""
    lines = [
        "# Lignes suspendues pour impayé : jardin clos (généré par raccord radius export-suspended)",
        "",
    ]
    for line in suspended_lines():
        lines.append(f"# {line.reference} suspendue le {line.suspended_on:%d/%m/%Y}")
        lines.append(_quoted(line.login))
        items = [f"\t{name} := {_quoted(value)}" for name, value in _reply_items(filter_id, pool)]
        items.append("\tFall-Through = Yes")
        lines.append(",\n".join(items))
        lines.append("")
    return "\n".join(lines) + "\n"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def suspended_sql(
    *, group: str = WALLED_GARDEN_GROUP, filter_id: str = WALLED_GARDEN_FILTER, pool: str = ""
) -> str:
    """One transaction for FreeRADIUS's SQL schema: the group's members and its reply. Every
    value goes through ``_sql_literal`` (quotes doubled)."""
    g = _sql_literal(group)
    statements = [
        "BEGIN;",
        f"DELETE FROM radusergroup WHERE groupname = {g};",  # noqa: S608
        f"DELETE FROM radgroupreply WHERE groupname = {g};",  # noqa: S608
    ]
    for name, value in [*_reply_items(filter_id, pool), ("Fall-Through", "No")]:
        statements.append(
            "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES "  # noqa: S608
            f"({g}, {_sql_literal(name)}, ':=', {_sql_literal(value)});"
        )
    for line in suspended_lines():
        statements.append(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES "  # noqa: S608
            f"({_sql_literal(line.login)}, {g}, 0);"
        )
    statements.append("COMMIT;")
    return "\n".join(statements) + "\n"


def suspended_apply(
    *,
    dsn: str,
    group: str = WALLED_GARDEN_GROUP,
    filter_id: str = WALLED_GARDEN_FILTER,
    pool: str = "",
) -> int:
    """Write the group into FreeRADIUS's database in one transaction. Returns the number of
    suspended lines."""
    lines = suspended_lines()
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute("DELETE FROM radusergroup WHERE groupname = %s", [group])
        conn.execute("DELETE FROM radgroupreply WHERE groupname = %s", [group])
        for name, value in [*_reply_items(filter_id, pool), ("Fall-Through", "No")]:
            conn.execute(
                "INSERT INTO radgroupreply (groupname, attribute, op, value) "
                "VALUES (%s, %s, ':=', %s)",
                [group, name, value],
            )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO radusergroup (username, groupname, priority) VALUES (%s, %s, 0)",
                [(line.login, group) for line in lines],
            )
    return len(lines)
