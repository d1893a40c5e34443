"""The pain.001 writer (B6 refunds): ISO 20022 SEPA credit transfers, versions 001.001.03 and
001.001.09, streamed with ``lxml.etree.xmlfile``, and its validation against the official XSDs
shipped with ``sepaxml``.

The group header announces the number of transactions and their sum before the transactions:
the caller passes them (one SQL aggregate), the writer streams the transactions and checks at
the end that what it wrote matches. Nothing in the file depends on the clock: the creation time
is the batch's date at midnight, so writing a batch again gives the same bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

from lxml import etree

from raccord.payments.sepa.schemas import SCHEMA_DIR
from raccord.payments.sepa.text import sepa_text

PAIN001_VERSIONS = ("001.001.03", "001.001.09")


def pain001_namespace(version: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:pain.{version}"


def pain001_schema_path(version: str) -> Path:
    if version not in PAIN001_VERSIONS:
        raise ValueError(f"unsupported pain.001 version {version!r}")
    return SCHEMA_DIR / f"pain.{version}.xsd"


def sepa_latin(text: str, max_length: int) -> str:
    """``text`` in the EPC's Latin character set, cut to ``max_length`` (the debit file's rule)."""
    return sepa_text(text, max_length)


@dataclass(frozen=True)
class Debtor:
    """The operator's account the refunds are paid from."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class Transfer:
    end_to_end_id: str  # the credit note's number
    amount: Decimal
    creditor_name: str
    creditor_iban: str
    creditor_bic: str
    remittance: str


class Pain001Mismatch(RuntimeError):
    """The transactions streamed differ from the figures announced in the header."""


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        element.text = text
    return element


def _agent(parent: etree._Element, tag: str, bic: str, version: str) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BIC" if version == "001.001.03" else "BICFI", bic)
    else:
        _sub(_sub(institution, "Othr"), "Id", "NOTPROVIDED")


def pain001_write(
    stream: IO[bytes],
    *,
    version: str,
    message_id: str,
    created_on: date,
    execution_date: date,
    debtor: Debtor,
    count: int,
    total: Decimal,
    transfers: Iterable[Transfer],
) -> None:
    """Write one pain.001 message with one payment group of ``count`` transfers summing to
    ``total`` (raises ``Pain001Mismatch`` if the stream differs)."""
    if version not in PAIN001_VERSIONS:
        raise ValueError(f"unsupported pain.001 version {version!r}")
    namespace = pain001_namespace(version)
    created = f"{created_on.isoformat()}T00:00:00"
    with etree.xmlfile(stream, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("Document", nsmap={None: namespace}), xf.element("CstmrCdtTrfInitn"):
            header = etree.Element("GrpHdr")
            _sub(header, "MsgId", message_id)
            _sub(header, "CreDtTm", created)
            _sub(header, "NbOfTxs", str(count))
            _sub(header, "CtrlSum", f"{total:.2f}")
            _sub(_sub(header, "InitgPty"), "Nm", sepa_latin(debtor.name, 70))
            xf.write(header)
            with xf.element("PmtInf"):
                info = etree.Element("PmtInf")
                _sub(info, "PmtInfId", f"{message_id}-1"[:35])
                _sub(info, "PmtMtd", "TRF")
                _sub(info, "BtchBookg", "true")
                _sub(info, "NbOfTxs", str(count))
                _sub(info, "CtrlSum", f"{total:.2f}")
                _sub(_sub(_sub(info, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
                if version == "001.001.03":
                    _sub(info, "ReqdExctnDt", execution_date.isoformat())
                else:
                    _sub(_sub(info, "ReqdExctnDt"), "Dt", execution_date.isoformat())
                _sub(_sub(info, "Dbtr"), "Nm", sepa_latin(debtor.name, 70))
                _sub(_sub(_sub(info, "DbtrAcct"), "Id"), "IBAN", debtor.iban)
                _agent(info, "DbtrAgt", debtor.bic, version)
                _sub(info, "ChrgBr", "SLEV")
                for child in info:
                    xf.write(child)
                written, cents = 0, 0
                for transfer in transfers:
                    tx = etree.Element("CdtTrfTxInf")
                    _sub(_sub(tx, "PmtId"), "EndToEndId", sepa_latin(transfer.end_to_end_id, 35))
                    _sub(_sub(tx, "Amt"), "InstdAmt", f"{transfer.amount:.2f}", Ccy="EUR")
                    if transfer.creditor_bic:
                        _agent(tx, "CdtrAgt", transfer.creditor_bic, version)
                    _sub(_sub(tx, "Cdtr"), "Nm", sepa_latin(transfer.creditor_name, 70))
                    _sub(_sub(_sub(tx, "CdtrAcct"), "Id"), "IBAN", transfer.creditor_iban)
                    _sub(_sub(tx, "RmtInf"), "Ustrd", sepa_latin(transfer.remittance, 140))
                    xf.write(tx)
                    written += 1
                    cents += int(transfer.amount * 100)
                if written != count or cents != int(total * 100):
                    raise Pain001Mismatch(
                        f"announced {count} transfers for {total}, wrote {written} for "
                        f"{Decimal(cents) / 100}"
                    )


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    transactions: int
    error: str = ""
    line: int | None = None


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def pain001_validate(path: str | Path, *, version: str) -> ValidationResult:
    """Validate a pain.001 file against its XSD while parsing it (flat memory)."""
    schema = _SCHEMAS.get(version)
    if schema is None:
        schema = _SCHEMAS[version] = etree.XMLSchema(etree.parse(str(pain001_schema_path(version))))
    tag = f"{{{pain001_namespace(version)}}}CdtTrfTxInf"
    count = 0
    try:
        for _event, element in etree.iterparse(
            str(path), events=("end",), schema=schema, resolve_entities=False, no_network=True
        ):
            if element.tag == tag:
                count += 1
                element.clear(keep_tail=True)
    except etree.XMLSyntaxError as error:
        return ValidationResult(False, count, str(error.msg), error.lineno)
    return ValidationResult(True, count)
