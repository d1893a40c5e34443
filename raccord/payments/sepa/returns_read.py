"""Readers of bank returns (P6): R-transactions in pain.002.001.03 (payment status report:
rejects before settlement) and camt.054.001.02 / 001.08 (debit notifications: returns and
refunds after settlement).

Both are read streaming (``iterparse``) and each entry is yielded with its position (1-based
among the file's transaction entries) and its line, so that a malformed entry is reported
precisely while the others go in. Elements are matched by local name: banks disagree on
optional elements, never on these names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from lxml import etree

from raccord.core.errors import DomainError

PAIN002 = "pain.002.001.03"
CAMT054_02 = "camt.054.001.02"
CAMT054_08 = "camt.054.001.08"
FORMATS = {
    f"urn:iso:std:iso:20022:tech:xsd:{name}": name for name in (PAIN002, CAMT054_02, CAMT054_08)
}
_REASON = re.compile(r"[A-Z0-9]{4}")


@dataclass(frozen=True)
class ReturnEntry:
    """One transaction entry of a returns file. ``error`` is set when it cannot be used;
    ``is_return`` is False for an entry that is not an R-transaction (an accepted status, a
    plain credit): those are skipped, not reported."""

    position: int
    line: int | None
    is_return: bool
    end_to_end_id: str = ""
    reason_code: str = ""
    amount: Decimal | None = None
    original_message_id: str = ""
    collection_date: date | None = None
    booked_on: date | None = None
    error: str = ""


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Any, *path: str) -> Any:
    """The first descendant along ``path`` of local names, or None."""
    current = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if _local(c) == name), None)
    return current


def _text(element: Any, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _amount(raw: str) -> Decimal | None:
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"montant illisible « {raw} »") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"montant invalide « {raw} »")
    return value.quantize(Decimal("0.01"))


def _date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ValueError(f"date illisible « {raw} »") from None


def _reason(code: str) -> str:
    code = code.strip().upper()
    if not _REASON.fullmatch(code):
        raise ValueError(
            f"code motif absent ou invalide « {code} »" if code else "code motif absent"
        )
    return code


def returns_format(source: str | Path | IO[bytes]) -> str:
    """The format of a returns file from its root namespace; a French error otherwise."""
    try:
        for _event, element in etree.iterparse(
            source, events=("start",), resolve_entities=False, no_network=True
        ):
            namespace = element.tag.split("}", 1)[0].lstrip("{") if "}" in element.tag else ""
            name = FORMATS.get(namespace)
            if name is None:
                raise DomainError(
                    "Ce fichier n'est pas un relevé de rejets pris en charge (pain.002.001.03, "
                    f"camt.054.001.02 ou camt.054.001.08) : espace de noms « {namespace} ».",
                    field="file",
                )
            return name
    except etree.XMLSyntaxError as error:
        raise DomainError(
            f"Fichier XML illisible (ligne {error.lineno}) : {error.msg}", field="file"
        ) from None
    raise DomainError("Le fichier est vide.", field="file")


def returns_read(source: str | Path | IO[bytes], *, file_format: str) -> Iterator[ReturnEntry]:
    """The entries of a returns file, in file order. Raises ``DomainError`` when the XML itself
    is broken (the whole file is refused: nothing is imported from a truncated file)."""
    if file_format == PAIN002:
        wanted = {"TxInfAndSts", "OrgnlGrpInfAndSts", "OrgnlPmtInfAndSts"}
    elif file_format in (CAMT054_02, CAMT054_08):
        wanted = {"TxDtls", "Ntry"}
    else:
        raise ValueError(f"unknown returns format {file_format!r}")
    position = 0
    group_message_id = ""
    seen_transactions = False
    try:
        for _event, element in etree.iterparse(
            source, events=("end",), resolve_entities=False, no_network=True, huge_tree=True
        ):
            name = _local(element)
            if name not in wanted:
                continue
            if name == "OrgnlGrpInfAndSts":
                group_message_id = _text(element, "OrgnlMsgId")
                if _text(element, "GrpSts") == "RJCT":
                    yield _whole_rejection(element, "du fichier", group_message_id)
                continue
            if name == "OrgnlPmtInfAndSts":
                if _text(element, "PmtInfSts") == "RJCT" and not seen_transactions:
                    yield _whole_rejection(element, "du lot", group_message_id)
                seen_transactions = False
                element.clear()
                continue
            if name == "Ntry":
                element.clear()
                continue
            position += 1
            seen_transactions = True
            if name == "TxInfAndSts":
                yield _pain002_entry(element, position, group_message_id)
            else:
                yield _camt054_entry(element, position)
    except etree.XMLSyntaxError as error:
        raise DomainError(
            f"Fichier XML illisible (ligne {error.lineno}) : {error.msg}. Rien n'a été importé.",
            field="file",
        ) from None


def _whole_rejection(element: Any, what: str, message_id: str) -> ReturnEntry:
    reason = _text(element, "StsRsnInf", "Rsn", "Cd") or "?"
    return ReturnEntry(
        position=0,
        line=element.sourceline,
        is_return=False,
        original_message_id=message_id,
        reason_code=reason,
        error=(
            f"Rejet global {what} {message_id} par la banque (motif {reason}) : aucun "
            "prélèvement n'est marqué rejeté automatiquement, vérifiez auprès de la banque."
        ),
    )


def _pain002_entry(element: Any, position: int, message_id: str) -> ReturnEntry:
    line = element.sourceline
    status = _text(element, "TxSts")
    if status not in ("RJCT",):
        return ReturnEntry(position=position, line=line, is_return=False)
    e2e = _text(element, "OrgnlEndToEndId")
    reference = _child(element, "OrgnlTxRef")
    try:
        if not e2e:
            raise ValueError("référence de bout en bout (OrgnlEndToEndId) absente")
        amount = None
        collection = None
        if reference is not None:
            amount = _amount(_text(reference, "Amt", "InstdAmt"))
            collection = _date(_text(reference, "ReqdColltnDt"))
        return ReturnEntry(
            position=position,
            line=line,
            is_return=True,
            end_to_end_id=e2e,
            reason_code=_reason(_text(element, "StsRsnInf", "Rsn", "Cd")),
            amount=amount,
            original_message_id=message_id,
            collection_date=collection,
        )
    except ValueError as error:
        return ReturnEntry(
            position=position, line=line, is_return=True, end_to_end_id=e2e, error=str(error)
        )
    finally:
        element.clear()


def _camt054_entry(element: Any, position: int) -> ReturnEntry:
    line = element.sourceline
    returned = _child(element, "RtrInf")
    if returned is None:
        element.clear()
        return ReturnEntry(position=position, line=line, is_return=False)
    refs = _child(element, "Refs")
    e2e = _text(refs, "EndToEndId") if refs is not None else ""
    entry = element.getparent().getparent() if element.getparent() is not None else None
    try:
        if not e2e or e2e == "NOTPROVIDED":
            raise ValueError("référence de bout en bout (EndToEndId) absente")
        # 001.08 has the amount on the transaction; 001.02 in AmtDtls; else the entry's.
        raw = _text(element, "Amt") or _text(element, "AmtDtls", "TxAmt", "Amt")
        if not raw and entry is not None:
            raw = _text(entry, "Amt")
        booked = _text(entry, "BookgDt", "Dt") if entry is not None else ""
        return ReturnEntry(
            position=position,
            line=line,
            is_return=True,
            end_to_end_id=e2e,
            reason_code=_reason(_text(returned, "Rsn", "Cd")),
            amount=_amount(raw),
            original_message_id=_text(refs, "MsgId") if refs is not None else "",
            booked_on=_date(booked),
        )
    except ValueError as error:
        return ReturnEntry(
            position=position, line=line, is_return=True, end_to_end_id=e2e, error=str(error)
        )
    finally:
        element.clear()
