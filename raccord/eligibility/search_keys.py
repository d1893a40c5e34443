"""Pure helpers that turn address text into search keys (no database access).

The type-ahead searches streets, not addresses: a street (one ``nom_voie`` in one commune with
one postal code) carries the normalised words of its name, of its commune, its postal code and
INSEE code as tokens. A national base has about 13 addresses per street, so the token table
stays an order of magnitude smaller than the address table, and the house number is matched
afterwards among the few addresses of the best streets.

Normalising means: lower case, accents removed, ligatures expanded, every character that is not
an ASCII letter or digit turned into a word break (hyphens, apostrophes, dots, slashes). The
result only holds ``[a-z0-9 ]``, so a token can never contain a LIKE wildcard.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Characters that NFKD does not decompose into ASCII letters.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")
# Longest token kept; longer words are cut (the prefix still matches what a person types).
TOKEN_MAX_LENGTH = 40


@lru_cache(maxsize=65536)
def search_normalize(text: str) -> str:
    """``"Saint-Dié-des-Vosges"`` → ``"saint die des vosges"``; ``"l'Église"`` → ``"l eglise"``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES).lower())
    # Accents go; any other character (typographic apostrophe, dash, dot) separates words.
    return " ".join(_NON_ALNUM.split(_COMBINING_MARKS.sub("", decomposed))).strip()


def search_words(text: str) -> list[str]:
    return [word[:TOKEN_MAX_LENGTH] for word in search_normalize(text).split()]


def street_identity(*, code_insee: str, code_postal: str, nom_commune: str, nom_voie: str) -> int:
    """A stable 63-bit id for a street, computed from what defines it.

    Being a pure function of the street's fields, the import can attach addresses to their street
    without asking the database for an id, and a street row never changes: different fields give
    a different street (the old one is removed once no address points to it)."""
    key = f"{code_insee}\x1f{code_postal}\x1f{nom_commune}\x1f{nom_voie}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


@dataclass(frozen=True)
class StreetKeys:
    street_id: int
    street_key: str
    commune_key: str
    search_text: str
    tokens: tuple[str, ...]


def street_keys(
    *, code_insee: str, code_postal: str, nom_commune: str, nom_voie: str
) -> StreetKeys:
    """Everything the search index stores for one street."""
    street_words = search_words(nom_voie)
    commune_words = search_words(nom_commune)
    codes = [code_postal.lower(), code_insee.lower()]
    tokens = tuple(dict.fromkeys([*street_words, *commune_words, *codes]))
    return StreetKeys(
        street_id=street_identity(
            code_insee=code_insee,
            code_postal=code_postal,
            nom_commune=nom_commune,
            nom_voie=nom_voie,
        ),
        street_key=" ".join(street_words)[:200],
        commune_key=" ".join(commune_words)[:200],
        # Leading and trailing spaces let "LIKE '% word%'" test "a token starts with word".
        search_text=f" {' '.join(tokens)} "[:500],
        tokens=tokens,
    )


# Words too frequent in street and commune names to drive the search (they still filter).
_COMMON_WORDS_TEXT = """
    a au aux d de des du en et l la le les s sur sous un une
    rue r av ave avenue bd boulevard bis ch chemin che pl place imp impasse all allee allees
    rte route quai cours square sq passage pass sentier sente voie lot lotissement residence res
    cite hameau lieu dit rond point faubourg fg grande grand ruelle montee promenade
    saint sainte st ste zone za zi parc domaine villa clos
"""
COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())
# Repetition indices and the stored values they may stand for ("12b" may be "b" or "bis").
REPETITION_WORDS: dict[str, tuple[str, ...]] = {
    "bis": ("bis", "b"),
    "ter": ("ter", "t"),
    "quater": ("quater", "q"),
    "quinquies": ("quinquies",),
}
_NUMBER_WITH_SUFFIX = re.compile(r"^(\d{1,4})(bis|ter|quater|quinquies|[a-z])?$")


@dataclass(frozen=True)
class ParsedQuery:
    """A type-ahead query split into the house number and the words that must match a street."""

    numero: int | None
    reps: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def driving_word(self) -> str:
        """The word expected to match the fewest streets, on its looks alone."""
        return max(self.words, key=word_rarity)


def word_rarity(word: str) -> tuple[bool, int, bool]:
    """How rare a word looks (greater is rarer): not a common street or linking word, long,
    letters rather than digits (a postal code matches a whole commune)."""
    return (word not in COMMON_WORDS, len(word), not word.isdigit())


def _rep_values(suffix: str) -> tuple[str, ...]:
    if suffix in REPETITION_WORDS:
        return REPETITION_WORDS[suffix]
    for full in REPETITION_WORDS:
        if full.startswith(suffix):
            return (suffix, full)
    return (suffix,)


def _house_number_at(raw: list[str]) -> int | None:
    """Where the house number is: first word, else last word(s), else the first number inside."""
    numeric = [i for i, word in enumerate(raw) if _NUMBER_WITH_SUFFIX.match(word)]
    if not numeric:
        return None
    if numeric[0] == 0:
        return 0
    last = len(raw) - 1
    if numeric[-1] == last:
        return last
    if numeric[-1] == last - 1 and raw[last] in REPETITION_WORDS:
        return last - 1
    # "rue du 22 novembre": the number may belong to the street name; taking it as the house
    # number only ranks that number first, while the street words still have to match.
    return numeric[0]


def query_parse(query: str) -> ParsedQuery:
    """``"12 bis rue des Écoles strasb"`` → numero 12, rep "bis", words rue/des/ecoles/strasb.

    The house number is a 1–4 digit word (``12``, ``12b``, ``12bis``) at the start of the query,
    else at its end ("Saint-Dié place marché 3"), else the first one inside; a repetition word
    right after it (``bis``, ``ter``…, or a single letter that is not the word being typed) is
    its suffix. Any other number is part of the street name ("rue du 8 mai 1945") and must
    match; five-digit words are postal or INSEE codes and match as tokens."""
    raw = search_words(query)
    at = _house_number_at(raw)
    numero: int | None = None
    suffix = ""
    skip: set[int] = set()
    if at is not None:
        match = _NUMBER_WITH_SUFFIX.match(raw[at])
        assert match is not None
        numero = int(match.group(1))
        suffix = match.group(2) or ""
        skip.add(at)
        following = raw[at + 1] if at + 1 < len(raw) else ""
        is_last = at + 2 >= len(raw)
        if not suffix and (
            following in REPETITION_WORDS
            or (len(following) == 1 and following.isalpha() and not is_last)
        ):
            suffix = following
            skip.add(at + 1)
    words = [word for index, word in enumerate(raw) if index not in skip]
    reps = _rep_values(suffix) if suffix else ()
    return ParsedQuery(numero=numero, reps=reps, words=tuple(dict.fromkeys(words)))
