"""Address type-ahead: tolerant matching, ranking, limits and a constant number of queries."""

from __future__ import annotations

import pytest

from raccord.conftest import Catalogue
from raccord.eligibility.models import Address
from raccord.eligibility.selectors import address_search
from raccord.eligibility.services import address_index_missing, street_ensure


def make_street(
    voie: str,
    numbers: range | list[int],
    *,
    commune: str = "Strasbourg",
    insee: str = "67482",
    cp: str = "67000",
    rep: str = "",
) -> list[Address]:
    return [
        Address.objects.create(
            ban_id=f"{insee}_{abs(hash(voie)) % 10000:04d}_{n:05d}{'_' + rep if rep else ''}",
            numero=n,
            rep=rep,
            nom_voie=voie,
            code_postal=cp,
            code_insee=insee,
            nom_commune=commune,
        )
        for n in numbers
    ]


def labels(query: str, limit: int = 10) -> list[str]:
    return [address.label for address in address_search(query=query, limit=limit)]


@pytest.mark.parametrize(
    "query",
    [
        "Saint-Dié place marché 3",
        "saint die place marche 3",
        "SAINT-DIÉ-DES-VOSGES PLACE DU MARCHÉ",
        "3 pl du march saint-d",
        "88100 marché",
        "  place,  marché ; 3  ",
    ],
)
def test_search_ignores_accents_case_hyphens_and_punctuation(
    catalogue: Catalogue, query: str
) -> None:
    results = address_search(query=query)

    assert results[0] == catalogue.address_subsidised


def test_search_understands_apostrophes_and_ligatures(db: None) -> None:
    # given
    (eglise,) = make_street("Rue de l'Église", [4])
    (soeurs,) = make_street("Impasse des Sœurs", [2])

    # then
    assert address_search(query="4 rue de l eglise") == [eglise]
    assert address_search(query="4 rue de l'église") == [eglise]
    assert address_search(query="l’eglise") == [eglise]
    assert address_search(query="impasse des soeurs") == [soeurs]


def test_addresses_created_one_by_one_are_searchable(catalogue: Catalogue) -> None:
    # The catalogue fixture creates its addresses with Address.objects.create.
    assert address_search(query="12 rue des ecoles strasb")[0] == catalogue.address
    assert address_search(query="7 chemin du moulin colmar")[0] == catalogue.address_equipped


def test_an_edited_address_is_found_under_its_new_street(catalogue: Catalogue) -> None:
    # given
    address = catalogue.address
    address.nom_voie = "Rue du Maréchal-Foch"

    # when
    address.save(update_fields=["nom_voie"])

    # then
    assert address_search(query="12 marechal foch") == [address]
    assert catalogue.address not in address_search(query="12 rue des ecoles strasbourg")


def test_the_typed_house_number_comes_first(db: None) -> None:
    # given
    make_street("Rue des Écoles", range(1, 31))

    # when
    results = address_search(query="12 rue des ecoles strasb", limit=5)

    # then
    assert [a.numero for a in results] == [12, 1, 2, 3, 4]


def test_the_house_number_may_come_last_or_carry_a_repetition_index(db: None) -> None:
    # given
    make_street("Place du Marché", range(1, 10), commune="Obernai", insee="67348", cp="67210")
    make_street("Place du Marché", [3], commune="Obernai", insee="67348", cp="67210", rep="bis")

    # then
    assert [a.street_line for a in address_search(query="obernai place marche 3", limit=2)] == [
        "3 Place du Marché",
        "3 bis Place du Marché",
    ]
    assert address_search(query="3 bis place du marche obernai")[0].rep == "bis"
    assert address_search(query="3bis marche obernai")[0].rep == "bis"
    assert address_search(query="marche obernai 3 bis")[0].rep == "bis"


def test_numbers_inside_a_street_name_must_match_the_street(db: None) -> None:
    # given
    make_street("Rue du 8 Mai 1945", range(1, 8), commune="Mulhouse", insee="68224", cp="68100")
    make_street("Rue du 11 Novembre", range(1, 8), commune="Mulhouse", insee="68224", cp="68100")

    # when
    results = address_search(query="rue du 8 mai 1945 mulh 5")

    # then
    assert results[0].street_line == "5 Rue du 8 Mai 1945"
    assert {a.nom_voie for a in results} == {"Rue du 8 Mai 1945"}


def test_every_word_must_match_so_a_commune_word_filters(db: None) -> None:
    # given
    make_street("Rue des Écoles", range(1, 4))
    make_street("Rue des Écoles", range(1, 4), commune="Colmar", insee="68066", cp="68000")

    # when
    results = address_search(query="rue des ecoles colmar")

    # then
    assert len(results) == 3
    assert {a.nom_commune for a in results} == {"Colmar"}


def test_a_postal_code_filters_like_a_commune_and_insee_is_not_postal(db: None) -> None:
    # given
    make_street("Rue des Écoles", range(1, 4))
    make_street("Rue des Écoles", range(1, 4), commune="Colmar", insee="68066", cp="68000")
    make_street("Rue de l'École", range(1, 2), commune="Colmar", insee="68066", cp="68000")

    # then
    assert {a.nom_commune for a in address_search(query="67000 école")} == {"Strasbourg"}
    assert len(address_search(query="68000 ecole")) == 4


def test_street_name_matches_rank_before_commune_name_matches(db: None) -> None:
    # given: Colmar has a "Rue de Strasbourg", Strasbourg has its own streets
    make_street("Rue Pasteur", range(1, 4))
    (colmar,) = make_street("Rue de Strasbourg", [5], commune="Colmar", insee="68066", cp="68000")

    # when
    results = address_search(query="strasbourg")

    # then
    assert results[0] == colmar
    assert len(results) == 4


def test_a_street_starting_with_the_typed_word_ranks_first(db: None) -> None:
    make_street("Rue de la Gare", [1])
    make_street("Gare Basse", [1])

    assert labels("gare")[0].startswith("1 Gare Basse")


def test_a_street_matching_a_prefix_twice_is_listed_once(db: None) -> None:
    # given: "mar" starts both "marché" and "marville"
    make_street("Rue du Marché", [1, 2], commune="Marville", insee="55321", cp="55600")

    # when
    results = address_search(query="mar")

    # then
    assert [a.numero for a in results] == [1, 2]


def test_results_respect_the_limit(db: None) -> None:
    make_street("Rue des Vergers", range(1, 40))

    assert len(address_search(query="vergers", limit=7)) == 7
    assert len(address_search(query="vergers")) == 10
    assert address_search(query="vergers", limit=0) == []


@pytest.mark.parametrize("query", ["", "   ", "-'’,;", "12"])
def test_an_empty_query_or_a_lone_number_finds_nothing(catalogue: Catalogue, query: str) -> None:
    assert address_search(query=query) == []


def test_an_unknown_street_finds_nothing(catalogue: Catalogue) -> None:
    assert address_search(query="12 rue zorglub") == []


def test_a_search_is_two_queries_whatever_it_finds(
    catalogue: Catalogue, django_assert_max_num_queries: object
) -> None:
    # given
    make_street("Rue des Écoles", range(1, 50))
    make_street("Avenue des Écoliers", range(1, 50), commune="Colmar", insee="68066", cp="68000")

    # then
    for query in ["12 rue des ecoles strasb", "ecol", "Saint-Dié place marché 3", "zzz"]:
        with django_assert_max_num_queries(2):  # type: ignore[operator]
            address_search(query=query)


def test_street_ensure_is_idempotent(db: None) -> None:
    fields = {
        "code_insee": "67482",
        "code_postal": "67000",
        "nom_commune": "Strasbourg",
        "nom_voie": "Quai Saint-Nicolas",
    }

    assert street_ensure(**fields) == street_ensure(**fields)


def test_addresses_bulk_created_become_searchable_once_indexed(db: None) -> None:
    # given: bulk_create skips save(), so these addresses have no street yet
    Address.objects.bulk_create(
        Address(
            ban_id=f"67348_0300_{n:05d}",
            numero=n,
            nom_voie="Rue du Général-Gouraud",
            code_postal="67210",
            code_insee="67348",
            nom_commune="Obernai",
        )
        for n in (1, 2)
    )
    assert address_search(query="gouraud obernai") == []

    # when
    attached = address_index_missing()

    # then
    assert attached == 2
    assert [a.numero for a in address_search(query="gouraud obernai")] == [1, 2]
    assert address_index_missing() == 0
