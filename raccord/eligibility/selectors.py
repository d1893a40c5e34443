"""Reads for the eligibility test: address type-ahead search."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Lower

from raccord.eligibility.models import Address, Street, StreetToken
from raccord.eligibility.search_keys import ParsedQuery, query_parse

# Street candidates the ranking looks at: streets matching every word, read in index order from
# the rarest word. Bounds the work of very broad queries ("rue", "r") whose exact order matters
# little to someone still typing.
CANDIDATE_STREETS = 2000
# Token entries read for the rarest word before the other words filter them.
DRIVING_SCAN = 20000


def _street_ranking_sql(parsed: ParsedQuery, limit: int) -> tuple[str, list[Any]]:
    """SQL returning the ids of the best streets for ``parsed``, best first.

    The rarest word is looked up by prefix in the token index (a range scan: ``LIKE 'w%'`` on
    PostgreSQL's pattern-ops index, ``>= 'w' AND < 'w{'`` on SQLite, whose LIKE cannot use a
    binary index); every other word must start a word of the street's ``search_text``."""
    quote = connection.ops.quote_name
    token_table = quote(StreetToken._meta.db_table)
    street_table = quote(Street._meta.db_table)
    driving = parsed.driving_word
    params: list[Any] = []
    if connection.vendor == "postgresql":
        prefix_condition = "token LIKE %s"
        params.append(driving + "%")
    else:
        # Tokens only hold [a-z0-9]; "{" sorts right after "z", so the range is the prefix set.
        prefix_condition = "token >= %s AND token < %s"
        params.extend([driving, driving + "{"])
    filters = []
    for word in parsed.words:
        if word != driving:
            filters.append("s.search_text LIKE %s")
            params.append(f"% {word}%")
    where = "".join(f" AND {condition}" for condition in filters)
    candidates = (
        f"SELECT s.id, s.street_key, s.commune_key, s.search_text "  # noqa: S608
        f"FROM (SELECT street_id FROM {token_table} WHERE {prefix_condition} LIMIT {DRIVING_SCAN}) t "
        f"JOIN {street_table} s ON s.id = t.street_id WHERE 1 = 1{where} "
        f"LIMIT {CANDIDATE_STREETS}"
    )
    # Ranking: words found in the street name (street matches before commune matches), words
    # typed in full, a street name that starts with a typed word, words found in the commune,
    # then the shortest (closest) street name.
    street_hits = []
    exact_hits = []
    commune_hits = []
    starts = []
    rank_params: list[Any] = []
    for word in parsed.words:
        street_hits.append("CASE WHEN (' ' || c.street_key) LIKE %s THEN 1 ELSE 0 END")
        rank_params.append(f"% {word}%")
    for word in parsed.words:
        exact_hits.append("CASE WHEN c.search_text LIKE %s THEN 1 ELSE 0 END")
        rank_params.append(f"% {word} %")
    for word in parsed.words:
        starts.append("c.street_key LIKE %s")
        rank_params.append(f"{word}%")
    for word in parsed.words:
        commune_hits.append("CASE WHEN (' ' || c.commune_key) LIKE %s THEN 1 ELSE 0 END")
        rank_params.append(f"% {word}%")
    sql = (
        f"SELECT c.id FROM ({candidates}) c ORDER BY "  # noqa: S608
        f"({' + '.join(street_hits)}) DESC, "
        f"({' + '.join(exact_hits)}) DESC, "
        f"CASE WHEN {' OR '.join(starts)} THEN 0 ELSE 1 END, "
        f"({' + '.join(commune_hits)}) DESC, "
        f"LENGTH(c.street_key), c.street_key, c.commune_key, c.id "
        f"LIMIT {int(limit)}"
    )
    return sql, params + rank_params


def address_search(*, query: str, limit: int = 10) -> list[Address]:
    """Addresses matching a typed query (street, number, commune), best first.

    Tolerant to accents, case, hyphens and apostrophes; every word must start a word of the
    street name, the commune name or the postal/INSEE code, in any order; the first number is the
    house number (``12``, ``12 bis``, ``12b``). Ranking: the exact house number first, then the
    best streets (street-name matches before commune matches), then by number. Two queries
    whatever the size of the base: the best streets from the token index, then their addresses."""
    parsed = query_parse(query)
    if not parsed.words or limit <= 0:
        return []
    street_limit = max(limit * 3, 30)
    sql, params = _street_ranking_sql(parsed, street_limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        street_ids = list(dict.fromkeys(row[0] for row in cursor.fetchall()))
    if not street_ids:
        return []
    street_rank = Case(
        *[When(street_id=street_id, then=Value(rank)) for rank, street_id in enumerate(street_ids)],
        output_field=IntegerField(),
    )
    ordering: list[Any] = []
    qs = Address.objects.filter(street_id__in=street_ids)
    if parsed.numero is not None:
        # The typed number first: with the typed repetition index, then without one, then the
        # other indices of that number; every other number after.
        numero = parsed.numero
        qs = qs.alias(rep_lower=Lower("rep")).annotate(
            number_rank=Case(
                When(numero=numero, rep_lower__in=parsed.reps or ("",), then=Value(0)),
                When(numero=numero, rep="", then=Value(1)),
                When(numero=numero, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        ordering.append("number_rank")
    qs = qs.annotate(street_rank=street_rank)
    ordering += ["street_rank", F("numero").asc(nulls_first=True), "rep", "pk"]
    return list(qs.order_by(*ordering)[:limit])


def address_get(*, address_id: int) -> Address | None:
    return Address.objects.filter(pk=address_id).first()
