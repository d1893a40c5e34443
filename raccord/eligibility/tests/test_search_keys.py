"""Normalisation and query parsing behind the type-ahead (pure functions, no database)."""

from __future__ import annotations

import pytest

from raccord.eligibility.search_keys import (
    query_parse,
    search_normalize,
    street_identity,
    street_keys,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Dié-des-Vosges", "saint die des vosges"),
        ("Rue de l'Église", "rue de l eglise"),
        ("Rue de l’Église", "rue de l eglise"),
        ("Impasse des Sœurs", "impasse des soeurs"),
        ("Grand'Rue", "grand rue"),
        ("  Quai  St.-Nicolas ", "quai st nicolas"),
        ("Rue du 8 Mai 1945", "rue du 8 mai 1945"),
        ("Straße", "strasse"),
    ],
)
def test_normalised_text_is_lower_ascii_words(text: str, expected: str) -> None:
    assert search_normalize(text) == expected


@pytest.mark.parametrize(
    ("query", "numero", "reps", "words"),
    [
        ("12 rue des ecoles strasb", 12, (), ("rue", "des", "ecoles", "strasb")),
        ("Saint-Dié place marché 3", 3, (), ("saint", "die", "place", "marche")),
        ("67000 école", None, (), ("67000", "ecole")),
        ("12 bis rue des Écoles", 12, ("bis", "b"), ("rue", "des", "ecoles")),
        ("12b ecoles", 12, ("b", "bis"), ("ecoles",)),
        ("marche obernai 3 ter", 3, ("ter", "t"), ("marche", "obernai")),
        ("rue du 8 mai 1945 mulh 5", 5, (), ("rue", "du", "8", "mai", "1945", "mulh")),
        ("12 b", 12, (), ("b",)),  # "b" being typed: the start of "boulevard"
        ("12 b rue", 12, ("b", "bis"), ("rue",)),
        ("rue du 22 novembre", 22, (), ("rue", "du", "novembre")),
    ],
)
def test_query_parse_finds_the_house_number_and_the_street_words(
    query: str, numero: int | None, reps: tuple[str, ...], words: tuple[str, ...]
) -> None:
    parsed = query_parse(query)

    assert (parsed.numero, parsed.reps, parsed.words) == (numero, reps, words)


def test_the_rarest_word_drives_the_search() -> None:
    assert query_parse("12 rue des ecoles").driving_word == "ecoles"
    assert query_parse("rue de la gare strasbourg").driving_word == "strasbourg"
    assert query_parse("67000 ecole").driving_word == "ecole"


def test_street_keys_hold_street_commune_and_both_codes() -> None:
    keys = street_keys(
        code_insee="2A004", code_postal="20000", nom_commune="Ajaccio", nom_voie="Cours Napoléon"
    )

    assert keys.tokens == ("cours", "napoleon", "ajaccio", "20000", "2a004")
    assert keys.search_text == " cours napoleon ajaccio 20000 2a004 "
    assert keys.street_key == "cours napoleon"
    assert keys.commune_key == "ajaccio"


def test_street_identity_is_stable_and_depends_on_every_field() -> None:
    fields = {
        "code_insee": "67482",
        "code_postal": "67000",
        "nom_commune": "Strasbourg",
        "nom_voie": "Rue des Écoles",
    }
    ids = {street_identity(**fields)}
    for name in fields:
        ids.add(street_identity(**{**fields, name: fields[name] + "x"}))

    assert len(ids) == 5
    assert street_identity(**fields) == street_identity(**dict(fields))
    assert 0 < street_identity(**fields) < 2**63
