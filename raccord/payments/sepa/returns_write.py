"""Returns files as banks send them, for the tests and the demo: a pain.002.001.03 payment
status report (rejects before settlement) or a camt.054 debit notification, 001.02 or 001.08
(returns after settlement), for given debits and reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from raccord.payments.sepa.returns_read import CAMT054_02, CAMT054_08, PAIN002


@dataclass(frozen=True)
class ReturnSpec:
    """One R-transaction to write: which debit (end-to-end id, amount, mandate, the original
    message and collection date) and why (reason code)."""

    end_to_end_id: str
    amount: Decimal
    reason_code: str
    mandate_id: str = ""
    original_message_id: str = ""
    original_payment_id: str = ""
    collection_date: date | None = None
    debtor_name: str = ""
    debtor_iban: str = ""


def return_specs_for_debits(debits: Sequence[Any], reason_code: str) -> list[ReturnSpec]:
    """Specs for ``Debit`` rows (their batch and mandate are read)."""
    return [
        ReturnSpec(
            end_to_end_id=d.end_to_end_id,
            amount=d.amount,
            reason_code=reason_code,
            mandate_id=d.mandate.reference,
            original_message_id=d.batch.message_id,
            original_payment_id=f"{d.batch.message_id}-{d.sequence_type}",
            collection_date=d.batch.debit_date,
            debtor_name=d.mandate.debtor_name,
            debtor_iban=d.mandate.iban,
        )
        for d in debits
    ]


def _sub(parent: Any, tag: str, text: str | None = None, **attrib: str) -> Any:
    element = etree.SubElement(parent, tag, **attrib)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def pain002_build(
    specs: Sequence[ReturnSpec],
    *,
    message_id: str,
    created_at: datetime,
    original_message_id: str,
    creditor_name: str = "Operateur",
) -> bytes:
    """A pain.002.001.03 status report rejecting ``specs`` (status RJCT, one reason each)."""
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{PAIN002}"
    root = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    report = _sub(root, "CstmrPmtStsRpt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(_sub(header, "InitgPty"), "Nm", creditor_name)
    group = _sub(report, "OrgnlGrpInfAndSts")
    _sub(group, "OrgnlMsgId", original_message_id)
    _sub(group, "OrgnlMsgNmId", "pain.008.001.02")
    _sub(group, "GrpSts", "PART")
    by_payment: dict[str, list[ReturnSpec]] = {}
    for spec in specs:
        by_payment.setdefault(spec.original_payment_id or original_message_id, []).append(spec)
    for number, (payment_id, items) in enumerate(by_payment.items(), start=1):
        payment = _sub(report, "OrgnlPmtInfAndSts")
        _sub(payment, "OrgnlPmtInfId", payment_id)
        _sub(payment, "PmtInfSts", "PART")
        for index, spec in enumerate(items, start=1):
            tx = _sub(payment, "TxInfAndSts")
            _sub(tx, "StsId", f"{message_id}-{number}-{index}"[:35])
            _sub(tx, "OrgnlEndToEndId", spec.end_to_end_id)
            _sub(tx, "TxSts", "RJCT")
            _sub(_sub(_sub(tx, "StsRsnInf"), "Rsn"), "Cd", spec.reason_code)
            ref = _sub(tx, "OrgnlTxRef")
            _sub(_sub(ref, "Amt"), "InstdAmt", _amount(spec.amount), Ccy="EUR")
            if spec.collection_date:
                _sub(ref, "ReqdColltnDt", spec.collection_date.isoformat())
            if spec.mandate_id:
                _sub(_sub(ref, "MndtRltdInf"), "MndtId", spec.mandate_id)
            if spec.debtor_name:
                _sub(_sub(ref, "Dbtr"), "Nm", spec.debtor_name)
            if spec.debtor_iban:
                _sub(_sub(_sub(ref, "DbtrAcct"), "Id"), "IBAN", spec.debtor_iban)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def camt054_build(
    specs: Sequence[ReturnSpec],
    *,
    version: str,
    message_id: str,
    created_at: datetime,
    booked_on: date,
    account_iban: str,
) -> bytes:
    """A camt.054 debit notification (001.02 or 001.08) with one booked entry per return
    (bank transaction code PMNT/RDDT/UPDD: unpaid direct debit)."""
    name = {"001.02": CAMT054_02, "001.08": CAMT054_08}[version]
    v08 = version == "001.08"
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{name}"
    root = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    notice = _sub(root, "BkToCstmrDbtCdtNtfctn")
    header = _sub(notice, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    body = _sub(notice, "Ntfctn")
    _sub(body, "Id", message_id)
    _sub(body, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(_sub(_sub(body, "Acct"), "Id"), "IBAN", account_iban)
    for spec in specs:
        entry = _sub(body, "Ntry")
        _sub(entry, "Amt", _amount(spec.amount), Ccy="EUR")
        _sub(entry, "CdtDbtInd", "DBIT")
        if v08:
            _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        else:
            _sub(entry, "Sts", "BOOK")
        _sub(_sub(entry, "BookgDt"), "Dt", booked_on.isoformat())
        _sub(_sub(entry, "ValDt"), "Dt", booked_on.isoformat())
        domain = _sub(_sub(entry, "BkTxCd"), "Domn")
        _sub(domain, "Cd", "PMNT")
        fmly = _sub(domain, "Fmly")
        _sub(fmly, "Cd", "RDDT")
        _sub(fmly, "SubFmlyCd", "UPDD")
        tx = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        refs = _sub(tx, "Refs")
        if spec.original_message_id:
            _sub(refs, "MsgId", spec.original_message_id)
        if spec.original_payment_id:
            _sub(refs, "PmtInfId", spec.original_payment_id)
        _sub(refs, "EndToEndId", spec.end_to_end_id)
        if spec.mandate_id:
            _sub(refs, "MndtId", spec.mandate_id)
        if v08:
            _sub(tx, "Amt", _amount(spec.amount), Ccy="EUR")
            _sub(tx, "CdtDbtInd", "DBIT")
        else:
            _sub(_sub(_sub(tx, "AmtDtls"), "TxAmt"), "Amt", _amount(spec.amount), Ccy="EUR")
        if spec.debtor_name or spec.debtor_iban:
            parties = _sub(tx, "RltdPties")
            if spec.debtor_name:
                debtor = _sub(parties, "Dbtr")
                _sub(_sub(debtor, "Pty") if v08 else debtor, "Nm", spec.debtor_name)
            if spec.debtor_iban:
                _sub(_sub(_sub(parties, "DbtrAcct"), "Id"), "IBAN", spec.debtor_iban)
        if spec.collection_date:
            _sub(_sub(tx, "RltdDts"), "IntrBkSttlmDt", spec.collection_date.isoformat())
        _sub(_sub(_sub(tx, "RtrInf"), "Rsn"), "Cd", spec.reason_code)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
