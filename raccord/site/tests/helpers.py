"""Helpers to drive the sign-up funnel with the Django test client, as a browser would."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from raccord.conftest import VALID_IBAN, Catalogue

STEP_POSTS: dict[str, dict[str, Any]] = {
    "offre": {"offer_code": "THD30", "option_codes": ["TEL"]},
    "coordonnees": {
        "civility": "mme",
        "first_name": "Camille",
        "last_name": "Martin",
        "email": "camille.martin@example.org",
        "phone": "06 12 34 56 78",
        "birth_date": "1985-07-14",
    },
    "adresses": {
        "installation_complement": "Bâtiment B, 2e étage",
        "delivery_same_as_installation": "1",
    },
    "paiement": {"payment_method": "sepa", "iban": VALID_IBAN, "account_holder": "Camille Martin"},
    "installation": {"installation_mode": "kit"},
}
STEP_ORDER = ["offre", "coordonnees", "adresses", "paiement", "installation", "recapitulatif"]


def step_url(step: str) -> str:
    return reverse("site:signup_step", kwargs={"step": step})


class FunnelWalker:
    """Drives the sign-up funnel with the Django test client, as a browser would."""

    def __init__(self, client: Client, catalogue: Catalogue) -> None:
        self.client = client
        self.catalogue = catalogue

    def start(self, *, address_id: int | None = None, offer_code: str = "THD30") -> Any:
        return self.client.post(
            reverse("site:signup_start"),
            {"address_id": address_id or self.catalogue.address.pk, "offer_code": offer_code},
        )

    def post(self, step: str, data: dict[str, Any] | None = None, **changes: Any) -> Any:
        payload = dict(STEP_POSTS.get(step, {}) if data is None else data)
        payload.update(changes)
        return self.client.post(step_url(step), payload)

    def walk_to(
        self, last: str, *, overrides: dict[str, dict[str, Any]] | None = None, **start: Any
    ) -> None:
        """Start and complete every step before ``last``; asserts each one is accepted."""
        overrides = overrides or {}
        response = self.start(**start)
        assert response.status_code == 302
        for step in STEP_ORDER[: STEP_ORDER.index(last)]:
            response = self.post(step, **overrides.get(step, {}))
            assert response.status_code == 302, (step, errors_of(response))
            assert response.url == step_url(STEP_ORDER[STEP_ORDER.index(step) + 1])

    def submit(self, **fields: Any) -> Any:
        data = {"cgv_accepted": "1", "cgv_version_id": self.catalogue.cgv.pk, "action": "next"}
        data.update(fields)
        return self.client.post(step_url("recapitulatif"), data)


def errors_of(response: Any) -> str:
    content = response.content.decode() if hasattr(response, "content") else ""
    start = content.find('class="error-summary"')
    return content[start : start + 1500] if start >= 0 else content[:500]
