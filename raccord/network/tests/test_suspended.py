"""The suspended lines exported for FreeRADIUS's authorisation (walled garden)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from raccord.contracts.suspension import contract_reactivate, contract_suspend
from raccord.network.suspended import suspended_apply, suspended_sql, suspended_users_file
from raccord.network.tests.conftest import SYSTEM


@pytest.fixture
def lines(make_line):
    suspended = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    contract_suspend(contract=suspended, on=date(2027, 3, 20), reason="impayé", actor=SYSTEM)
    active = make_line(received=date(2027, 1, 8), activated=date(2027, 1, 10))
    return suspended, active


def test_the_users_file_puts_only_suspended_logins_in_the_walled_garden__P6(lines):
    suspended, active = lines
    text = suspended_users_file(filter_id="jardin-clos", pool="pool-jardin")
    assert f'"{suspended.network_login}"\n\tFilter-Id := "jardin-clos",\n' in text
    assert '\tFramed-Pool := "pool-jardin",\n\tFall-Through = Yes' in text
    assert active.network_login not in text
    # reactivated: out of the file
    contract_reactivate(contract=suspended, on=date(2027, 3, 25), actor=SYSTEM)
    assert suspended.network_login not in suspended_users_file()


def test_the_sql_export_rebuilds_the_radius_group(lines):
    suspended, active = lines
    sql = suspended_sql(group="raccord-suspendu")
    assert sql.startswith("BEGIN;\nDELETE FROM radusergroup WHERE groupname = 'raccord-suspendu';")
    assert (
        "INSERT INTO radusergroup (username, groupname, priority) VALUES "  # noqa: S608
        f"('{suspended.network_login}', 'raccord-suspendu', 0);"
    ) in sql
    assert "('raccord-suspendu', 'Filter-Id', ':=', 'walled-garden');" in sql
    assert "('raccord-suspendu', 'Fall-Through', ':=', 'No');" in sql
    assert active.network_login not in sql
    assert sql.rstrip().endswith("COMMIT;")


def test_the_command_writes_the_users_file(lines, tmp_path):
    target = tmp_path / "suspendus"
    call_command("radius", "export-suspended", "--output", str(target), stdout=StringIO())
    assert lines[0].network_login in target.read_text(encoding="utf-8")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="FreeRADIUS schema on PostgreSQL")
def test_the_group_is_applied_in_the_freeradius_database(lines, transactional_db):
    from raccord.network.tests.test_radacct import freeradius_dsn, freeradius_schema

    suspended, _active = lines
    with freeradius_schema() as conn:
        count = suspended_apply(dsn=freeradius_dsn())
        assert count == 1
        assert conn.execute("SELECT username, groupname FROM radusergroup").fetchall() == [
            (suspended.network_login, "raccord-suspendu")
        ]
        # again: same content, no duplicate
        suspended_apply(dsn=freeradius_dsn())
        assert conn.execute("SELECT count(*) FROM radgroupreply").fetchone() == (2,)
