"""What a reception lends decides what must come back (S2): a reception that lends nothing
(``"equipment": []``) leaves nothing to return and no non-return fee, whatever the offer's
catalogue equipment; without the key, the offer's equipment is lent."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from raccord.simulator.engine import simulate
from raccord.simulator.tests.conftest import MINIMAL

pytestmark = pytest.mark.django_db


def _terminated_without_returning(equipment: list[str] | None) -> dict[str, Any]:
    scenario = copy.deepcopy(MINIMAL)
    reception = scenario["events"][1]
    if equipment is None:
        del reception["equipment"]
    else:
        reception["equipment"] = equipment
    # the subscriber leaves in March and never sends anything back
    scenario["events"].append(
        {"date": "2027-03-10", "type": "termination_request", "requested_date": None}
    )
    scenario["until"] = "2027-07-31"
    return scenario


def _fees(result: dict[str, Any]) -> list[tuple[str, Decimal]]:
    return [
        (line["product"], Decimal(line["amount"]))
        for document in result["documents"]
        for line in document["lines"]
        if line["kind"] == "non_return_fee"
    ]


@pytest.mark.parametrize("equipment", [["ANT"], None])
def test_lent_equipment_not_returned_is_charged__S2(equipment: list[str] | None) -> None:
    # the antenna named on the reception, or lent by default with the offer
    result = simulate(_terminated_without_returning(equipment))
    assert _fees(result) == [("ANT", Decimal(MINIMAL["catalog"]["equipment"][0]["non_return_fee"]))]


def test_a_reception_that_lends_nothing_leaves_nothing_to_return__S2() -> None:
    result = simulate(_terminated_without_returning([]))
    assert result["status"] == "terminated"
    assert _fees(result) == []
    assert "errors" not in result
