"""The simulator never plays on a database that is not its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from raccord.simulator import sandbox
from raccord.simulator.engine import NotEmptyDatabase, simulate


@pytest.mark.django_db
def test_the_child_refuses_any_database_but_its_throw_away_file(
    monkeypatch, tmp_path: Path
) -> None:
    # given a child process told to play on a file that is not the database it is connected to
    monkeypatch.setenv(sandbox.CHILD_DATABASE, str(tmp_path / "simulation.sqlite3"))

    # when it prepares its database, then it refuses before touching anything
    with pytest.raises(RuntimeError, match="throw-away"):
        sandbox.child_database_prepare()


def test_the_child_environment_reaches_no_broker_mail_server_or_operator_database(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://raccord@db/raccord")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://broker")
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.org")
    env = sandbox.child_env(database=tmp_path / "s.sqlite3", template=None, workdir=tmp_path)
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert "CELERY_BROKER_URL" not in env and "EMAIL_HOST" not in env
    assert env["EMAIL_BACKEND"].endswith("locmem.EmailBackend")
    assert env["RACCORD_DATA_DIR"] == str(tmp_path)


def test_the_template_key_follows_the_migration_files() -> None:
    assert sandbox.migrations_key() == sandbox.migrations_key()
    assert len(sandbox.migrations_key()) == 16


@pytest.mark.django_db
def test_simulate_refuses_a_database_that_already_has_customers(scenario: dict[str, Any]) -> None:
    # given a database where a subscriber already lives (here: a first simulation)
    simulate(scenario)

    # when another scenario is played on it, then it is refused: the daily jobs and the run
    # would act on every contract they find
    with pytest.raises(NotEmptyDatabase):
        simulate(scenario)
