"""Text as SEPA accepts it: the EPC's Latin character set (a-z A-Z 0-9 / - ? : ( ) . , ' +
space). French banks reject other characters or garble them, so accents are removed (é → e),
ligatures spelled out (œ → oe) and anything else becomes a space."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ALLOWED = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
_SPECIAL = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "&": "+", "’": "'", "_": "-"}
)


@lru_cache(maxsize=65536)
def _latin(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    out = []
    for char in text:
        if unicodedata.combining(char):
            continue
        out.append(char if _ALLOWED.fullmatch(char) else " ")
    return " ".join("".join(out).split())


def sepa_text(text: str, max_length: int) -> str:
    """``text`` in the SEPA character set, cut to ``max_length``. Fast when already clean."""
    if not _ALLOWED.fullmatch(text):
        text = _latin(text)
    return text[:max_length].strip() or "-"
