"""Every scenario of ``raccord/simulator/scenarios/`` played through the real services and
compared with its expected output, whose amounts were worked out by hand from the rulebook
(the arithmetic is in each scenario's ``_why``). The rule ids are in the file names."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from raccord.simulator.engine import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NAMES = sorted(
    p.name.removesuffix(".json")
    for p in SCENARIOS.glob("*.json")
    if not p.name.endswith(".expected.json")
)
# Scenarios where the engine disagrees with the rulebook: the expected file keeps the rule's
# answer; strict, so that the fix turns the test into an XPASS failure until this entry goes.
ENGINE_DISCREPANCIES: dict[str, str] = {}


def _pretty(data: object) -> list[str]:
    return json.dumps(data, ensure_ascii=False, indent=2).splitlines(keepends=True)


def test_every_scenario_has_its_expected_output() -> None:
    assert NAMES, "no scenario found"
    for name in NAMES:
        assert (SCENARIOS / f"{name}.expected.json").is_file(), f"{name}: no expected output"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(reason=ENGINE_DISCREPANCIES[name], strict=True),
        )
        if name in ENGINE_DISCREPANCIES
        else name
        for name in NAMES
    ],
)
def test_scenario_plays_as_worked_out_by_hand(name: str) -> None:
    # given a scenario and the output worked out by hand
    scenario = json.loads((SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))

    # when it is played through the real services
    got = simulate(scenario)

    # then the engine gives exactly that
    if got != expected:
        diff = "".join(
            difflib.unified_diff(
                _pretty(expected), _pretty(got), f"{name}.expected.json", "simulated"
            )
        )
        pytest.fail(f"{name} differs from its expected output:\n{diff}", pytrace=False)
