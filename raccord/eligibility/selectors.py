"""Reads for the eligibility test: address type-ahead search."""

from __future__ import annotations

from typing import Any

from django.db import connection

from raccord.eligibility.models import Address, Street, StreetToken
from raccord.eligibility.search_keys import ParsedQuery, query_parse, word_rarity

# Streets are read from the token index of the query's rarest word, the other words filtering
# them. Each word's matches are counted up to PROBE_CAP (one query): under the cap the rarest
# word's streets are all read, so the search is exhaustive. When every word is over the cap
# ("rue d", "chemin") the query is too broad for the order to matter to someone still typing:
# only BROAD_SCAN entries are read, which bounds the work whatever the size of the base.
PROBE_CAP = 5000
BROAD_SCAN = 1000
# Streets matching every word that the ranking orders.
CANDIDATE_STREETS = 500
# Words whose frequency is probed (the rarest-looking ones of a long query).
PROBED_WORDS = 6


def _prefix_condition(word: str, column: str = "token") -> tuple[str, list[str]]:
    """``column`` starts with ``word``, in the form the token index serves on this database:
    ``LIKE 'w%'`` on PostgreSQL's pattern-ops index, ``>= 'w' AND < 'w{'`` on SQLite, whose
    LIKE cannot use a binary index. Tokens only hold [a-z0-9] and "{" sorts right after "z"."""
    if connection.vendor == "postgresql":
        return f"{column} LIKE %s", [word + "%"]
    return f"{column} >= %s AND {column} < %s", [word, word + "{"]


def _driving_word(words: tuple[str, ...]) -> tuple[str, int]:
    """The word that matches the fewest street tokens, and that count (capped at PROBE_CAP).

    A count of 0 means no street can match the query."""
    # Ties (typically several words at the cap) go to the word that looks rarest; one-letter
    # words are nearly always at the cap, so they are only counted when nothing else was typed.
    ranked = sorted(words, key=word_rarity, reverse=True)
    probed = [word for word in ranked if len(word) > 1][:PROBED_WORDS] or ranked[:1]
    token_table = connection.ops.quote_name(StreetToken._meta.db_table)
    counts, params = [], []
    for index, word in enumerate(probed):
        condition, condition_params = _prefix_condition(word)
        counts.append(
            f"(SELECT COUNT(*) FROM (SELECT 1 FROM {token_table} "  # noqa: S608
            f"WHERE {condition} LIMIT {PROBE_CAP}) w{index})"
        )
        params += condition_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(counts)}", params)
        row = cursor.fetchone()
    count, _position, word = min(
        (count, position, word)
        for position, (word, count) in enumerate(zip(probed, row, strict=True))
    )
    return word, count


def _address_search_sql(
    parsed: ParsedQuery, driving: str, scan: int, limit: int
) -> tuple[str, list[Any]]:
    """One SQL statement: the best streets for ``parsed`` from the token index, then their
    addresses, the typed house number first.

    The ``driving`` word is looked up by prefix in the token index; every other word must start
    a word of the street's ``search_text``."""
    quote = connection.ops.quote_name
    token_table = quote(StreetToken._meta.db_table)
    street_table = quote(Street._meta.db_table)
    address_table = quote(Address._meta.db_table)
    prefix_condition, prefix_params = _prefix_condition(driving)
    params: list[Any] = list(prefix_params)
    filters = ""
    for word in parsed.words:
        if word != driving:
            filters += " AND s.search_text LIKE %s"
            params.append(f"% {word}%")
    # Street ranking: words found in the street name (street matches before commune matches),
    # words typed in full, a street name starting with a typed word, words found in the commune,
    # a commune name starting with a typed word, then the shortest names.
    street_hits, exact_hits, commune_hits, street_starts, commune_starts = [], [], [], [], []
    rank_params: dict[str, list[str]] = {
        "street": [],
        "exact": [],
        "starts": [],
        "commune": [],
        "commune_starts": [],
    }
    for word in parsed.words:
        street_hits.append("CASE WHEN (' ' || c.street_key) LIKE %s THEN 1 ELSE 0 END")
        rank_params["street"].append(f"% {word}%")
        exact_hits.append("CASE WHEN c.search_text LIKE %s THEN 1 ELSE 0 END")
        rank_params["exact"].append(f"% {word} %")
        street_starts.append("c.street_key LIKE %s")
        rank_params["starts"].append(f"{word}%")
        commune_hits.append("CASE WHEN (' ' || c.commune_key) LIKE %s THEN 1 ELSE 0 END")
        rank_params["commune"].append(f"% {word}%")
        commune_starts.append("c.commune_key LIKE %s")
        rank_params["commune_starts"].append(f"{word}%")
    street_order = (
        f"({' + '.join(street_hits)}) DESC, ({' + '.join(exact_hits)}) DESC, "
        f"CASE WHEN {' OR '.join(street_starts)} THEN 0 ELSE 1 END, "
        f"({' + '.join(commune_hits)}) DESC, "
        f"CASE WHEN {' OR '.join(commune_starts)} THEN 0 ELSE 1 END, "
        "LENGTH(c.street_key), LENGTH(c.commune_key), c.street_key, c.commune_key, c.id"
    )
    # Placeholders in the order they appear in the statement: ranking, driving word, filters.
    params = [value for group in rank_params.values() for value in group] + params
    number_rank = ""
    if parsed.numero is not None:
        # The typed number first: with the typed repetition index, then without one, then the
        # other indices of that number; every other number after.
        reps = parsed.reps or ("",)
        number_rank = (
            f"CASE WHEN a.numero = %s AND LOWER(a.rep) IN ({', '.join(['%s'] * len(reps))}) "
            "THEN 0 WHEN a.numero = %s AND a.rep = '' THEN 1 WHEN a.numero = %s THEN 2 ELSE 3 END, "
        )
        params += [parsed.numero, *reps, parsed.numero, parsed.numero]
    columns = ", ".join(f"a.{quote(field.column)}" for field in Address._meta.concrete_fields)
    street_limit = max(limit * 3, 30)
    sql = (
        f"SELECT {columns} FROM {address_table} a JOIN ("  # noqa: S608
        f"SELECT c.id, ROW_NUMBER() OVER (ORDER BY {street_order}) AS street_rank FROM ("
        # DISTINCT: the driving prefix may match two words of one street ("mar": "marché" in
        # "Marville").
        f"SELECT DISTINCT s.id, s.street_key, s.commune_key, s.search_text FROM ("
        f"SELECT street_id FROM {token_table} WHERE {prefix_condition} LIMIT {int(scan)}) t "
        f"JOIN {street_table} s ON s.id = t.street_id WHERE 1 = 1{filters} "
        f"LIMIT {CANDIDATE_STREETS}) c "
        f"ORDER BY street_rank LIMIT {street_limit}) best ON a.street_id = best.id "
        f"ORDER BY {number_rank}best.street_rank, "
        "CASE WHEN a.numero IS NULL THEN 0 ELSE 1 END, a.numero, a.rep, a.id "
        f"LIMIT {int(limit)}"
    )
    return sql, params


def address_search(*, query: str, limit: int = 10) -> list[Address]:
    """Addresses matching a typed query (street, number, commune), best first.

    Tolerant to accents, case, hyphens and apostrophes; every word must start a word of the
    street name, the commune name or the postal/INSEE code, in any order; the first number is the
    house number (``12``, ``12 bis``, ``12b``). Ranking: the exact house number first, then the
    best streets (street-name matches before commune matches), then by number. At most two
    queries whatever the size of the base: capped counts of each word in the token index pick
    the rarest one, then one statement reads its streets, ranks them and joins their addresses."""
    parsed = query_parse(query)
    if not parsed.words or limit <= 0:
        return []
    driving, count = _driving_word(parsed.words)
    if count == 0:
        return []
    scan = PROBE_CAP if count < PROBE_CAP else BROAD_SCAN
    sql, params = _address_search_sql(parsed, driving, scan, limit)
    return list(Address.objects.raw(sql, params))


def address_get(*, address_id: int) -> Address | None:
    return Address.objects.filter(pk=address_id).first()
