"""The demo address base: deterministic, committed as generated, and importable without error."""

from __future__ import annotations

from pathlib import Path

import pytest

from raccord.conftest import paris
from raccord.eligibility.demo_addresses import COMMUNES, DEMO_BAN_PATH, demo_addresses_csv
from raccord.eligibility.models import Address
from raccord.eligibility.selectors import address_search
from raccord.eligibility.services import address_import


def test_the_committed_demo_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    # given
    regenerated = tmp_path / "demo-ban.csv"

    # when
    rows = demo_addresses_csv(regenerated)

    # then: regenerate with `python -m raccord.eligibility.demo_addresses` if this fails
    assert regenerated.read_bytes() == DEMO_BAN_PATH.read_bytes()
    assert 2000 <= rows <= 5000
    assert DEMO_BAN_PATH.stat().st_size < 1_000_000


@pytest.mark.django_db
def test_the_demo_file_imports_without_a_rejected_row() -> None:
    # when
    with DEMO_BAN_PATH.open(encoding="utf-8", newline="") as stream:
        job = address_import(
            stream=stream, file_name=DEMO_BAN_PATH.name, started_at=paris(2026, 1, 1)
        )

    # then
    assert job.rows_rejected == 0
    assert job.rows_created == Address.objects.count() == job.rows_read
    assert set(Address.objects.values_list("code_insee", flat=True)) == {
        commune.code_insee for commune in COMMUNES
    }
    assert Address.objects.filter(rep="bis").exists()
    assert Address.objects.filter(rep="ter").exists()
    assert Address.objects.filter(nom_voie__contains="'").exists()
    assert Address.objects.filter(nom_voie__contains="-").exists()
    assert Address.objects.filter(nom_voie__contains="É").exists()
    # The examples given to the demo: one covered by department, one by commune, one outside.
    assert address_search(query="12 rue des ecoles strasb")[0].ban_id == "67482_0010_00012"
    assert address_search(query="Saint-Dié place marché 3")[0].ban_id == "88413_0020_00003"
    assert address_search(query="nancy place stanislas 1")[0].code_insee == "54395"
