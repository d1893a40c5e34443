"""BAN import: streaming upsert job, bad rows with their line numbers, re-runs change nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from raccord.conftest import paris
from raccord.core.errors import DomainError
from raccord.eligibility import ban_import
from raccord.eligibility.ban import BAN_COLUMNS
from raccord.eligibility.models import Address, AddressImport, Street, StreetToken
from raccord.eligibility.selectors import address_search
from raccord.eligibility.services import address_import

HEADER = ";".join(BAN_COLUMNS)
STARTED = paris(2026, 11, 2, 3, 0)


def ban_row(
    ban_id: str = "67482_0010_00012",
    *,
    numero: str = "12",
    rep: str = "",
    voie: str = "Rue des Écoles",
    cp: str = "67000",
    insee: str = "67482",
    commune: str = "Strasbourg",
    lon: str = "7.737028",
    lat: str = "48.573515",
) -> str:
    fields = dict.fromkeys(BAN_COLUMNS, "")
    fields.update(
        id=ban_id,
        id_fantoir=ban_id[:10],
        numero=numero,
        rep=rep,
        nom_voie=voie,
        code_postal=cp,
        code_insee=insee,
        nom_commune=commune,
        lon=lon,
        lat=lat,
        type_position="entrée",
        source_position="commune",
    )
    return ";".join(fields[name] for name in BAN_COLUMNS)


def csv_text(*rows: str, header: str = HEADER) -> io.StringIO:
    return io.StringIO("\n".join([header, *rows]) + "\n")


def run(stream: io.StringIO, **kwargs: int) -> AddressImport:
    return address_import(stream=stream, file_name="adresses-67.csv", started_at=STARTED, **kwargs)


@pytest.mark.django_db
def test_good_rows_go_in_and_bad_rows_are_reported_with_their_line_number() -> None:
    # given: the header is line 1, so the rows below are lines 2 to 10
    stream = csv_text(
        ban_row("67482_0010_00001", numero="1"),
        ban_row("67482_0010_00002", numero="2") + ";extra",
        ban_row("67482_0010_00003", numero="3", voie=""),
        ban_row("67482_0010_00004", numero="4", cp="6700"),
        ban_row("67482_0010_00005", numero="5", insee="6748A"),
        ban_row("67482_0010_00006", numero="6a"),
        ban_row("67482_0010_00007", numero="7", lon="est"),
        ban_row("67482_0010_00008", numero="8", lat="95.2"),
        ban_row("67482_0010_00009", numero="9", rep="bis"),
    )

    # when
    job = run(stream)

    # then
    assert (job.rows_read, job.rows_created, job.rows_updated, job.rows_rejected) == (9, 2, 0, 7)
    assert [error["line"] for error in job.errors] == [3, 4, 5, 6, 7, 8, 9]
    messages = {error["line"]: error["message"] for error in job.errors}
    assert "24 colonnes au lieu de 23" in messages[3]
    assert "voie manquant" in messages[4]
    assert "code postal « 6700 »" in messages[5]
    assert "code INSEE « 6748A »" in messages[6]
    assert "numéro « 6a »" in messages[7]
    assert "longitude « est »" in messages[8]
    assert "latitude « 95.2 » hors limites" in messages[9]
    assert set(Address.objects.values_list("ban_id", flat=True)) == {
        "67482_0010_00001",
        "67482_0010_00009",
    }
    stored = Address.objects.get(ban_id="67482_0010_00009")
    assert (stored.numero, stored.rep, stored.lon, stored.lat) == (9, "bis", 7.737028, 48.573515)
    assert job.finished_at is not None and job.finished_at >= STARTED
    assert AddressImport.objects.get() == job


@pytest.mark.django_db
def test_rerunning_the_same_file_changes_nothing_and_reports_zero_created() -> None:
    # given
    rows = [ban_row(f"67482_0010_{n:05d}", numero=str(n)) for n in range(1, 8)]
    first = run(csv_text(*rows), batch_size=3)
    before = list(Address.objects.order_by("ban_id").values())
    streets_before = list(Street.objects.values_list("id", flat=True))

    # when
    second = run(csv_text(*rows), batch_size=3)

    # then
    assert (first.rows_created, first.rows_updated) == (7, 0)
    assert (second.rows_read, second.rows_created, second.rows_updated) == (7, 0, 0)
    assert list(Address.objects.order_by("ban_id").values()) == before
    assert list(Street.objects.values_list("id", flat=True)) == streets_before
    assert AddressImport.objects.count() == 2


@pytest.mark.django_db
def test_a_changed_row_is_updated_and_its_old_street_leaves_the_index() -> None:
    # given
    run(csv_text(ban_row("67482_0010_00001", numero="1", voie="Rue des Ecoles")))
    old_street = Address.objects.get().street_id
    assert old_street is not None

    # when: the commune renamed the street
    job = run(csv_text(ban_row("67482_0010_00001", numero="1", voie="Rue Marie-Curie")))

    # then
    assert (job.rows_created, job.rows_updated) == (0, 1)
    address = Address.objects.get()
    assert address.nom_voie == "Rue Marie-Curie"
    assert address.street_id != old_street
    assert not Street.objects.filter(pk=old_street).exists()
    assert not StreetToken.objects.filter(street_id=old_street).exists()
    assert address_search(query="1 rue marie curie strasbourg") == [address]
    assert address_search(query="1 rue des ecoles strasbourg") == []


@pytest.mark.django_db
def test_a_wrong_header_is_refused_and_nothing_is_written() -> None:
    # given: a file exported with commas and a header missing columns
    stream = csv_text(ban_row(), header="id;numero;nom_voie;code_postal;code_insee;nom_commune")

    # when / then
    with pytest.raises(DomainError) as error:
        run(stream)
    assert "colonnes manquantes" in error.value.message
    assert "id_fantoir" in error.value.message
    assert not Address.objects.exists()
    assert not AddressImport.objects.exists()


@pytest.mark.django_db
def test_a_file_without_header_is_refused_and_nothing_is_written() -> None:
    # given: the first line is already an address
    stream = io.StringIO(ban_row() + "\n" + ban_row("67482_0010_00013", numero="13") + "\n")

    # when / then
    with pytest.raises(DomainError):
        run(stream)
    with pytest.raises(DomainError, match="vide"):
        run(io.StringIO(""))
    assert not Address.objects.exists()
    assert not AddressImport.objects.exists()


@pytest.mark.django_db
def test_a_header_with_a_byte_order_mark_is_accepted() -> None:
    job = run(io.StringIO("\ufeff" + HEADER + "\n" + ban_row() + "\n"))

    assert job.rows_created == 1


@pytest.mark.django_db
def test_corsican_insee_code_is_accepted_but_not_as_a_postal_code() -> None:
    # given: Ajaccio is INSEE 2A004, postal code 20000
    stream = csv_text(
        ban_row("2A004_0100_00001", numero="1", insee="2A004", cp="20000", commune="Ajaccio"),
        ban_row("2A004_0100_00002", numero="2", insee="2A004", cp="2A004", commune="Ajaccio"),
        ban_row("2A004_0100_00003", numero="3", insee="2C004", cp="20000", commune="Ajaccio"),
    )

    # when
    job = run(stream)

    # then
    assert job.rows_created == 1
    assert [(e["line"], e["message"].split(" «")[0]) for e in job.errors] == [
        (3, "code postal"),
        (4, "code INSEE"),
    ]
    ajaccio = Address.objects.get()
    assert (ajaccio.code_insee, ajaccio.code_postal, ajaccio.department) == ("2A004", "20000", "2A")


@pytest.mark.django_db
def test_insee_code_and_postal_code_are_kept_apart() -> None:
    # given: Strasbourg's INSEE code (67482) is not one of its postal codes (67000, 67100…)
    job = run(csv_text(ban_row(insee="67482", cp="67100")))

    # then
    address = Address.objects.get()
    assert job.rows_created == 1
    assert (address.code_insee, address.code_postal) == ("67482", "67100")
    assert address_search(query="67100 ecoles") == [address]
    assert address_search(query="67482 ecoles") == [address]


@pytest.mark.django_db
def test_a_duplicated_id_in_a_batch_is_reported_against_its_first_line() -> None:
    job = run(csv_text(ban_row(), ban_row(voie="Rue des Ecoles bis")))

    assert (job.rows_created, job.rows_rejected) == (1, 1)
    assert job.errors == [
        {"line": 3, "message": "identifiant BAN 67482_0010_00012 en double (déjà ligne 2)"}
    ]


@pytest.mark.django_db
def test_the_job_keeps_only_the_first_errors_but_counts_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    monkeypatch.setattr(ban_import, "ERRORS_KEPT", 3)
    rows = [ban_row(f"67482_0010_{n:05d}", cp="x") for n in range(5)]

    # when
    job = run(csv_text(*rows))

    # then
    assert job.rows_rejected == 5
    assert [error["line"] for error in job.errors] == [2, 3, 4]


@pytest.mark.django_db
def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file() -> None:
    job = run(csv_text("", ban_row(), "", ban_row("67482_0010_00013", cp="1")))

    assert (job.rows_read, job.rows_created) == (2, 1)
    assert job.errors[0]["line"] == 5


@pytest.mark.django_db
def test_imported_addresses_are_searchable() -> None:
    run(
        csv_text(
            ban_row("88413_0020_00003", numero="3", voie="Place du Marché", cp="88100")
            .replace("67482", "88413")
            .replace("Strasbourg", "Saint-Dié-des-Vosges")
        )
    )

    results = address_search(query="Saint-Dié place marché 3")

    assert [address.ban_id for address in results] == ["88413_0020_00003"]


@pytest.mark.django_db
def test_the_command_prints_the_summary_and_the_first_bad_rows(tmp_path: Path) -> None:
    # given
    path = tmp_path / "adresses-67.csv"
    path.write_text(
        "\n".join([HEADER, ban_row(), ban_row("67482_0010_00013", numero="treize")]) + "\n",
        encoding="utf-8",
    )
    out = io.StringIO()

    # when: the command answers to both spellings
    call_command("import-addresses", str(path), stdout=out)
    call_command("import_addresses", str(path), stdout=io.StringIO())

    # then
    text = out.getvalue()
    assert "2 lignes lues, 1 créées, 0 mises à jour, 1 refusées" in text
    assert "lignes/s" in text
    assert "ligne 3 : numéro « treize »" in text


@pytest.mark.django_db
def test_the_command_refuses_a_wrong_header_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,numero,nom_voie\n1,2,Rue\n", encoding="utf-8")

    with pytest.raises(CommandError, match="En-tête BAN invalide"):
        call_command("import_addresses", str(path))
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_addresses", str(tmp_path / "absent.csv"))
    assert not Address.objects.exists()


@pytest.mark.django_db
def test_undecodable_bytes_reject_their_row_only(tmp_path: Path) -> None:
    # given: one row in Latin-1 inside a UTF-8 file
    path = tmp_path / "mixed.csv"
    good = ban_row().encode()
    bad = ban_row("67482_0010_00013", voie="Rue de l'Église").encode("latin-1")
    path.write_bytes(HEADER.encode() + b"\n" + good + b"\n" + bad + b"\n")
    out = io.StringIO()

    # when
    call_command("import_addresses", str(path), stdout=out)

    # then
    assert "1 créées" in out.getvalue()
    assert "ligne 3 : caractères illisibles" in out.getvalue()
