"""Shared fixtures: a small catalogue, addresses and a valid sign-up request.

Tests must never reach the network; the catalogue here mirrors the rulebook's examples."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis
import pytest

from raccord.catalog.models import CGVVersion, EquipmentModel, Offer, Option, Zone, ZoneOffer
from raccord.contracts.signup import SignupRequest
from raccord.eligibility.models import Address, Premises

# Property tests: no per-example time limit (a loaded 2-core machine pauses for longer than
# hypothesis's 200 ms), and on CI the same examples every run, so that a landing is never lost
# to a new random draw (run them locally to explore: each run there draws new lives).
hypothesis.settings.register_profile(
    "raccord", deadline=None, derandomize=os.environ.get("CI") == "true", print_blob=True
)
hypothesis.settings.load_profile("raccord")

PARIS = ZoneInfo("Europe/Paris")
# A French IBAN with a correct RIB key (bank 30006 → BIC AGRIFRPP).
VALID_IBAN = "FR7630006000011234567890189"


def paris(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Password hashing is deliberately slow; tests only need it to work."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _rate_limit_window_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiter counts in fixed windows of the clock: a test's requests that straddle
    a window's end would be counted from zero again and the 429 it expects would not come.
    Every test runs inside one window (tests of the windows themselves pass ``now``)."""
    monkeypatch.setattr(
        "raccord.core.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_030.0)
    )


@pytest.fixture
def operator_identity(db: None) -> Any:
    """The operator's legal identity complete (B9): the run's entry points refuse without."""
    from raccord.core.models import OperatorProfile

    profile = OperatorProfile.get()
    profile.legal_name = "Vallée Net SCIC SA"
    profile.address = "2 place de la Gare, 67000 Strasbourg"
    profile.siren = "912345675"
    profile.vat_number = "FR65912345675"
    profile.save()
    return profile


@dataclass
class Catalogue:
    thd30: Offer
    fibre: Offer
    tel: Option
    antenna: EquipmentModel
    alsace: Zone
    vosges_commune: Zone
    cgv: CGVVersion
    address: Address
    address_subsidised: Address
    address_equipped: Address
    address_uncovered: Address
    address_excluded: Address


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    antenna = EquipmentModel.objects.create(
        code="ANT", label="Antenne radio", non_return_fee=Decimal("150.00"), vat_rate=Decimal("0")
    )
    thd30 = Offer.objects.create(
        code="THD30",
        label="THD Radio 30",
        technology="radio",
        download_mbps=30,
        upload_mbps=5,
        monthly_price=Decimal("29.90"),
        setup_fee=Decimal("49.00"),
        commitment_months=12,
    )
    thd30.equipment.add(antenna)
    fibre = Offer.objects.create(
        code="FIBRE300",
        label="Fibre 300",
        technology="fibre",
        download_mbps=300,
        upload_mbps=100,
        monthly_price=Decimal("39.90"),
        setup_fee=Decimal("99.00"),
        commitment_months=24,
        subsidised_equipment=True,
        termination_fee=Decimal("30.00"),
    )
    tel = Option.objects.create(code="TEL", label="Téléphonie", monthly_price=Decimal("5.00"))
    tel.offers.add(thd30, fibre)
    alsace = Zone.objects.create(code="alsace", name="Alsace", departments=["67", "68"])
    ZoneOffer.objects.create(zone=alsace, offer=thd30)
    ZoneOffer.objects.create(zone=alsace, offer=fibre)
    vosges = Zone.objects.create(
        code="saint-die",
        name="Saint-Dié (RIP)",
        communes=["88413"],
        subsidy_authority="Conseil départemental des Vosges",
    )
    ZoneOffer.objects.create(
        zone=vosges,
        offer=thd30,
        monthly_price=Decimal("24.90"),
        setup_subsidy=Decimal("49.00"),
        download_mbps=50,
    )
    cgv = CGVVersion.objects.create(version="2026-01", effective_date=date(2026, 1, 1))

    def addr(ban_id: str, numero: int, voie: str, cp: str, insee: str, commune: str) -> Address:
        return Address.objects.create(
            ban_id=ban_id,
            numero=numero,
            nom_voie=voie,
            code_postal=cp,
            code_insee=insee,
            nom_commune=commune,
        )

    address = addr("67482_0010_00012", 12, "Rue des Écoles", "67000", "67482", "Strasbourg")
    subsidised = addr(
        "88413_0200_00003", 3, "Place du Marché", "88100", "88413", "Saint-Dié-des-Vosges"
    )
    equipped = addr("68224_0005_00007", 7, "Chemin du Moulin", "68000", "68224", "Colmar")
    Premises.objects.create(address=equipped, equipped=True, equipped_since=date(2024, 3, 1))
    uncovered = addr("75056_1000_00001", 1, "Rue de Rivoli", "75001", "75056", "Paris")
    excluded = addr("67482_0099_00001", 1, "Impasse Perdue", "67000", "67482", "Strasbourg")
    alsace.excluded_addresses = [excluded.ban_id]
    alsace.save()
    return Catalogue(
        thd30=thd30,
        fibre=fibre,
        tel=tel,
        antenna=antenna,
        alsace=alsace,
        vosges_commune=vosges,
        cgv=cgv,
        address=address,
        address_subsidised=subsidised,
        address_equipped=equipped,
        address_uncovered=uncovered,
        address_excluded=excluded,
    )


@pytest.fixture
def signup_request(catalogue: Catalogue) -> SignupRequest:
    return SignupRequest(
        address_id=catalogue.address.pk,
        offer_code="THD30",
        option_codes=["TEL"],
        civility="mme",
        first_name="Camille",
        last_name="Martin",
        email="camille.martin@example.org",
        phone="06 12 34 56 78",
        payment_method="sepa",
        iban=VALID_IBAN,
        account_holder="Camille Martin",
        installation_mode="kit",
        cgv_version_id=catalogue.cgv.pk,
        cgv_accepted=True,
        express_start=True,
        channel="online",
        signup_ip="192.0.2.10",
    )


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """Stored files (documents' PDFs) go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
