"""Masking of bank details: an IBAN is never shown or logged in clear."""

from __future__ import annotations

import re

# Country code, two check digits, then 10-30 alphanumerics possibly grouped by spaces.
IBAN_RE = re.compile(r"\b([A-Z]{2}\d{2})((?:[ ]?[A-Z0-9]){10,30})\b")


def iban_mask(iban: str) -> str:
    """Keep the country, the check digits and the last 4 characters: FR76 **** **** 0189."""
    compact = "".join(iban.split())
    if len(compact) < 8:
        return "****"
    return f"{compact[:4]} **** **** {compact[-4:]}"


def mask_ibans_in_text(text: str) -> str:
    return IBAN_RE.sub(lambda m: iban_mask(m.group(1) + m.group(2)), text)
