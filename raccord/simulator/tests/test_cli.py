"""``raccord simulate`` as an agent runs it: a child process on a throw-away database, JSON on
stdout and exit 0; exit 2 with a message on stderr and nothing on stdout for a scenario that
cannot be played (SIMULATOR.md)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from raccord.simulator.tests.conftest import MINIMAL

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
RACCORD = Path(sys.executable).with_name("raccord")


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One migrated template for the whole session: only the first run migrates.
    return tmp_path_factory.mktemp("simulator-cache")


@pytest.fixture
def run(tmp_path: Path, template_cache: Path):
    operator_db = tmp_path / "operator.sqlite3"

    def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            # The operator's database: the simulator must never open (or create) it.
            "DATABASE_URL": f"sqlite:///{operator_db}",
            "RACCORD_DATA_DIR": str(tmp_path / "data"),
            "RACCORD_SIMULATOR_CACHE": str(template_cache),
        }
        command = [str(RACCORD)] if RACCORD.exists() else [sys.executable, "-m", "raccord.manage"]
        return subprocess.run(
            [*command, "simulate", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    _run.operator_db = operator_db  # type: ignore[attr-defined]
    return _run


def _expected(name: str) -> Any:
    return json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))


def test_a_scenario_file_prints_its_result_as_json_and_exits_0(run, template_cache) -> None:
    # given the worked example of the first invoice (B2)
    name = "b2_first_invoice__B2_M3"

    # when an agent runs the command
    done = run(str(SCENARIOS / f"{name}.json"))

    # then stdout is exactly the result worked out by hand, on a database of its own
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout) == _expected(name)
    assert not run.operator_db.exists()
    assert list(template_cache.glob("template-*.sqlite3")), "the migrated template is kept"


def test_the_scenario_can_come_from_stdin(run) -> None:
    name = "c4_fallback_activation__C4"
    done = run("-", stdin=(SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == _expected(name)


def test_a_rule_refusal_is_reported_in_the_result_not_as_an_invalid_scenario__C6(run) -> None:
    done = run(str(SCENARIOS / "c6_withdrawal_too_late__C6.json"))
    assert done.returncode == 0, done.stderr
    errors = json.loads(done.stdout)["errors"]
    assert [(e["date"], e["event"]) for e in errors] == [("2027-01-20", "withdrawal")]
    assert "19/01/2027" in errors[0]["message"]


def _broken(change) -> str:
    scenario = copy.deepcopy(MINIMAL)
    change(scenario)
    return json.dumps(scenario)


INVALID = {
    "unknown offer": (
        _broken(lambda s: s["events"][0].update(offer="THD99")),
        "offre inconnue « THD99 »",
    ),
    "event out of order": (
        _broken(lambda s: s["events"][2].update(date="2027-01-01")),
        "hors d'ordre",
    ),
    "bad IBAN": (
        _broken(lambda s: s["subscriber"].update(iban="FR7630006000011234567890100")),
        "IBAN n'est pas valide",
    ),
    "unknown field": (
        _broken(lambda s: s["events"][1].update(colour="blue")),
        "champ inconnu « colour »",
    ),
    "unknown event type": (
        _broken(lambda s: s["events"].append({"date": "2027-02-01", "type": "teleport"})),
        "type d'événement inconnu « teleport »",
    ),
    "not JSON": ("{'catalog': ", "JSON invalide"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_scenario_exits_2_with_a_message_and_prints_nothing(run, case: str) -> None:
    text, message = INVALID[case]
    done = run("-", stdin=text)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert done.stderr.startswith("Scénario invalide")


def test_a_missing_file_exits_2(run, tmp_path: Path) -> None:
    done = run(str(tmp_path / "absent.json"))
    assert (done.returncode, done.stdout) == (2, "")
    assert "absent.json" in done.stderr


def test_three_years_run_in_a_few_seconds(run) -> None:
    # Not a timing assertion (machines differ): the figure is printed for the report.
    name = "three_years_plain__B1_B2_C7"
    run(str(SCENARIOS / "b2_first_invoice__B2_M3.json"))  # the template exists from here on
    started = time.perf_counter()
    done = run(str(SCENARIOS / f"{name}.json"))
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == _expected(name)
    print(f"\nraccord simulate, 3 years, 35 invoices: {elapsed:.2f} s")
