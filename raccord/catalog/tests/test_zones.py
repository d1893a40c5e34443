"""Zone coverage (C1): communes, departments and address-level exceptions."""

import pytest

from raccord.catalog.models import Zone, department_of


@pytest.mark.parametrize(
    ("insee", "department"), [("67482", "67"), ("2A004", "2A"), ("97411", "974"), ("01053", "01")]
)
def test_department_of_a_commune(insee, department):
    assert department_of(insee) == department


def test_departments_match_exactly_not_by_prefix__C1():
    zone = Zone(code="z", name="Z", departments=["6", "97", "67"])
    assert zone.covers(insee_code="67482", ban_id="")
    assert not zone.covers(insee_code="68066", ban_id="")  # "6" is not a department
    assert not zone.covers(insee_code="97411", ban_id="")  # "97" is not one either


def test_address_exceptions_win_over_communes__C1():
    zone = Zone(
        code="z", name="Z", communes=["67482"], excluded_addresses=["a1"], included_addresses=["b2"]
    )
    assert not zone.covers(insee_code="67482", ban_id="a1")
    assert zone.covers(insee_code="54395", ban_id="b2")
    assert zone.covers(insee_code="67482", ban_id="other")
