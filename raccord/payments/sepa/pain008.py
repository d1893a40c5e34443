"""The pain.008 writer (P2): ISO 20022 SEPA Core direct debits, versions 001.02 and 001.08,
streamed with ``lxml.etree.xmlfile``.

The group header carries the number of transactions and their control sum before the
transactions themselves, so the caller computes them first (one SQL aggregate) and passes them
with each payment group; the writer then streams the transactions of each group and checks at
the end that what it wrote matches what the headers announced.

Speed: one ``DrctDbtTxInf`` subtree is built once per file and refilled for every transaction
(its leaves' ``text`` set, then written), instead of building seven-level subtrees a million
times. Elements are written without their namespace: they inherit the default namespace
declared on ``Document``, and no ``xmlns`` is repeated on every transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from lxml import etree

from raccord.payments.sepa.schemas import PAIN008_VERSIONS, pain008_namespace
from raccord.payments.sepa.text import sepa_text

PARIS = ZoneInfo("Europe/Paris")
NOT_PROVIDED = "NOTPROVIDED"

# (end-to-end id, amount as "12.30", mandate reference, mandate signature date "YYYY-MM-DD",
#  debtor BIC or "", debtor name, debtor IBAN, remittance text)
Transaction = tuple[str, str, str, str, str, str, str, str]


class BinaryOutput(Protocol):
    def write(self, data: bytes, /) -> int: ...


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    creditor_id: str  # ICS, identifiant créancier SEPA


@dataclass(frozen=True)
class PaymentGroup:
    """One ``PmtInf``: the transactions of one sequence type, with their announced figures."""

    payment_id: str
    sequence_type: str  # FRST | RCUR
    collection_date: date
    count: int
    total: Decimal


class Pain008Mismatch(RuntimeError):
    """The transactions streamed differ from the figures announced in the headers."""


def _cents(amount: str) -> int:
    units, _dot, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def _amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


class _Template:
    """A ``DrctDbtTxInf`` subtree refilled for each transaction."""

    def __init__(self, *, version: str, with_bic: bool) -> None:
        sub = etree.SubElement
        self.root = root = etree.Element("DrctDbtTxInf")
        self.e2e = sub(sub(root, "PmtId"), "EndToEndId")
        self.amount = sub(root, "InstdAmt", Ccy="EUR")
        mandate = sub(sub(root, "DrctDbtTx"), "MndtRltdInf")
        self.mandate_id = sub(mandate, "MndtId")
        self.signed_on = sub(mandate, "DtOfSgntr")
        institution = sub(sub(root, "DbtrAgt"), "FinInstnId")
        if with_bic:
            self.bic: Any = sub(institution, "BIC" if version == "001.02" else "BICFI")
        else:
            sub(sub(institution, "Othr"), "Id").text = NOT_PROVIDED
            self.bic = None
        self.name = sub(sub(root, "Dbtr"), "Nm")
        self.iban = sub(sub(sub(root, "DbtrAcct"), "Id"), "IBAN")
        self.remittance = sub(sub(root, "RmtInf"), "Ustrd")
        root.tail = "\n"


def _leaf(xf: Any, tag: str, text: str, **attrib: str) -> None:
    element = etree.Element(tag, **attrib)
    element.text = text
    xf.write(element)


def _financial_institution(xf: Any, *, version: str, bic: str) -> None:
    with xf.element("FinInstnId"):
        if bic:
            _leaf(xf, "BIC" if version == "001.02" else "BICFI", bic)
        else:
            with xf.element("Othr"):
                _leaf(xf, "Id", NOT_PROVIDED)


def _creditor_scheme(xf: Any, creditor_id: str) -> None:
    with xf.element("Othr"):
        _leaf(xf, "Id", creditor_id)
        with xf.element("SchmeNm"):
            _leaf(xf, "Prtry", "SEPA")


def pain008_write(
    output: BinaryOutput,
    *,
    version: str,
    message_id: str,
    created_at: datetime,
    creditor: Creditor,
    groups: Sequence[tuple[PaymentGroup, Iterable[Transaction]]],
) -> int:
    """Stream a pain.008 message to ``output``; returns the number of transactions written.

    ``created_at`` is the message's creation time (``CreDtTm``): given by the caller, so the
    same inputs always give the same bytes."""
    if version not in PAIN008_VERSIONS:
        raise ValueError(f"unsupported pain.008 version {version!r}")
    namespace = pain008_namespace(version)
    count = sum(group.count for group, _rows in groups)
    total = sum((group.total for group, _rows in groups), start=Decimal(0))
    created = created_at.astimezone(PARIS).replace(microsecond=0).isoformat()
    creditor_name = sepa_text(creditor.name, 70)
    templates = {
        True: _Template(version=version, with_bic=True),
        False: _Template(version=version, with_bic=False),
    }
    written = 0
    with etree.xmlfile(output, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{namespace}}}Document", nsmap={None: namespace}):
            xf.write("\n")
            with xf.element("CstmrDrctDbtInitn"):
                xf.write("\n")
                with xf.element("GrpHdr"):
                    _leaf(xf, "MsgId", message_id)
                    _leaf(xf, "CreDtTm", created)
                    _leaf(xf, "NbOfTxs", str(count))
                    _leaf(xf, "CtrlSum", _amount_text(total))
                    with xf.element("InitgPty"):
                        _leaf(xf, "Nm", creditor_name)
                xf.write("\n")
                for group, rows in groups:
                    written += _payment_group(
                        xf,
                        version=version,
                        group=group,
                        rows=rows,
                        creditor=creditor,
                        creditor_name=creditor_name,
                        templates=templates,
                    )
    if written != count:
        raise Pain008Mismatch(f"{written} transactions written, {count} announced")
    return written


def _payment_group(
    xf: Any,
    *,
    version: str,
    group: PaymentGroup,
    rows: Iterable[Transaction],
    creditor: Creditor,
    creditor_name: str,
    templates: dict[bool, _Template],
) -> int:
    with xf.element("PmtInf"):
        _leaf(xf, "PmtInfId", group.payment_id)
        _leaf(xf, "PmtMtd", "DD")
        _leaf(xf, "BtchBookg", "true")
        _leaf(xf, "NbOfTxs", str(group.count))
        _leaf(xf, "CtrlSum", _amount_text(group.total))
        with xf.element("PmtTpInf"):
            with xf.element("SvcLvl"):
                _leaf(xf, "Cd", "SEPA")
            with xf.element("LclInstrm"):
                _leaf(xf, "Cd", "CORE")
            _leaf(xf, "SeqTp", group.sequence_type)
        _leaf(xf, "ReqdColltnDt", group.collection_date.isoformat())
        with xf.element("Cdtr"):
            _leaf(xf, "Nm", creditor_name)
        with xf.element("CdtrAcct"), xf.element("Id"):
            _leaf(xf, "IBAN", creditor.iban)
        with xf.element("CdtrAgt"):
            _financial_institution(xf, version=version, bic=creditor.bic)
        _leaf(xf, "ChrgBr", "SLEV")
        with xf.element("CdtrSchmeId"), xf.element("Id"), xf.element("PrvtId"):
            _creditor_scheme(xf, creditor.creditor_id)
        xf.write("\n")
        written = cents = 0
        for e2e, amount, mandate_id, signed_on, bic, name, iban, remittance in rows:
            template = templates[bool(bic)]
            template.e2e.text = e2e
            template.amount.text = amount
            template.mandate_id.text = mandate_id
            template.signed_on.text = signed_on
            if bic:
                template.bic.text = bic
            template.name.text = sepa_text(name, 70)
            template.iban.text = iban
            template.remittance.text = remittance
            xf.write(template.root)
            written += 1
            cents += _cents(amount)
    if written != group.count or cents != _cents(_amount_text(group.total)):
        raise Pain008Mismatch(
            f"{group.payment_id}: {written} transactions for {cents / 100:.2f}, "
            f"{group.count} for {group.total} announced"
        )
    return written
