"""The official XSDs shipped with ``sepaxml`` and a streaming validator.

Validation runs while the file is parsed (``iterparse`` with the schema) and each transaction
is dropped once read, so a file of a million debits is validated with flat memory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sepaxml
from lxml import etree

SCHEMA_DIR = Path(sepaxml.__file__).resolve().parent / "schemas"
PAIN008_VERSIONS = ("001.02", "001.08")


def pain008_namespace(version: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:pain.008.{version}"


def pain008_schema_path(version: str) -> Path:
    if version not in PAIN008_VERSIONS:
        raise ValueError(f"unsupported pain.008 version {version!r}")
    return SCHEMA_DIR / f"pain.008.{version}.xsd"


@lru_cache(maxsize=8)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def pain008_schema(version: str) -> etree.XMLSchema:
    return _schema(str(pain008_schema_path(version)))


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    transactions: int
    error: str = ""
    line: int | None = None


def _safe_parser_args() -> dict[str, object]:
    # Files come from outside: no entity expansion, no network access.
    return {"resolve_entities": False, "no_network": True, "huge_tree": True}


def pain008_validate(path: str | Path, *, version: str) -> ValidationResult:
    """Validate a pain.008 file against its XSD, streaming. Returns the first error with its
    line, or the number of transactions read."""
    schema = pain008_schema(version)
    tag = f"{{{pain008_namespace(version)}}}DrctDbtTxInf"
    count = 0
    try:
        for _event, element in etree.iterparse(
            str(path), events=("end",), schema=schema, **_safe_parser_args()
        ):
            if element.tag == tag:
                count += 1
                # Drop what was read: memory stays flat whatever the size of the file.
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except etree.XMLSyntaxError as error:
        # Streaming schema validation gives no line: the error is in the transaction after
        # the last one read whole (or in the headers), found by a second, plain pass.
        line = error.lineno or _transaction_line(path, tag, count + 1)
        return ValidationResult(False, count, str(error.msg), line)
    return ValidationResult(True, count)


def _transaction_line(path: str | Path, tag: str, number: int) -> int | None:
    seen = 0
    last_line = None
    try:
        for _event, element in etree.iterparse(str(path), events=("start",), **_safe_parser_args()):
            last_line = element.sourceline
            if element.tag == tag:
                seen += 1
                if seen == number:
                    return last_line
    except etree.XMLSyntaxError as error:
        return error.lineno or last_line
    return last_line
