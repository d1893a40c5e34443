"""A minimal valid scenario that each check test breaks in one place."""

from __future__ import annotations

import copy
from typing import Any

import pytest

VALID_IBAN = "FR7630006000011234567890189"

MINIMAL: dict[str, Any] = {
    "catalog": {
        "offers": [
            {
                "code": "THD30",
                "label": "THD Radio 30",
                "monthly_price": "29.90",
                "setup_fee": "49.00",
                "commitment_months": 12,
                "vat_rate": "0.20",
            }
        ],
        "options": [{"code": "TEL", "label": "Téléphonie", "monthly_price": "5.00"}],
        "equipment": [{"model": "ANT", "label": "Antenne", "non_return_fee": "150.00"}],
    },
    "subscriber": {"payment_method": "sepa", "iban": VALID_IBAN},
    "events": [
        {"date": "2027-01-05", "type": "signup", "offer": "THD30", "options": ["TEL"]},
        {"date": "2027-01-12", "type": "equipment_received", "equipment": ["ANT"]},
        {"date": "2027-01-20", "type": "first_connection"},
    ],
    "until": "2027-02-28",
}


@pytest.fixture
def scenario() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)
