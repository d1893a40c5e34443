"""The pain.008 writer on its own (P2): schema validity of both versions, the same bytes for the
same inputs, headers that announce what follows, text in the SEPA character set."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from raccord.payments.sepa.pain008 import (
    Creditor,
    Pain008Mismatch,
    PaymentGroup,
    pain008_write,
)
from raccord.payments.sepa.schemas import pain008_namespace, pain008_schema, pain008_validate
from raccord.payments.sepa.text import sepa_text

PARIS = ZoneInfo("Europe/Paris")
CREDITOR = Creditor(
    name="Vallées Connectées SAS",
    iban="FR7610278060610001020480101",
    bic="CMCIFR2A",
    creditor_id="FR12ZZZ123456",
)
AT = datetime(2027, 3, 3, 10, 15, 30, 123456, tzinfo=PARIS)


def _rows(amounts: list[str], *, bic: str = "AGRIFRPP") -> list[tuple[str, ...]]:
    return [
        (
            f"F2027-{i:06d}",
            amount,
            f"RUM-C{i:07d}-{i:06d}",
            "2026-01-05",
            bic if i % 2 else "",
            "Hélène Dupré-Lœwy & fils",
            "FR7630006000011234567890189",
            f"Facture F2027-{i:06d}",
        )
        for i, amount in enumerate(amounts, start=1)
    ]


def _write(version: str, groups: list[tuple[PaymentGroup, list[tuple[str, ...]]]]) -> bytes:
    out = io.BytesIO()
    pain008_write(
        out,
        version=version,
        message_id="PRLV-20270305-1",
        created_at=AT,
        creditor=CREDITOR,
        groups=groups,  # type: ignore[arg-type]
    )
    return out.getvalue()


def _groups(frst: list[str], rcur: list[str]) -> list[tuple[PaymentGroup, list[tuple[str, ...]]]]:
    groups = []
    for seq, amounts in (("FRST", frst), ("RCUR", rcur)):
        if amounts:
            total = sum((Decimal(a) for a in amounts), start=Decimal(0))
            groups.append(
                (
                    PaymentGroup(
                        f"PRLV-20270305-1-{seq}", seq, date(2027, 3, 5), len(amounts), total
                    ),
                    _rows(amounts),
                )
            )
    return groups


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_file_is_valid_against_the_official_schema__P2(version):
    content = _write(version, _groups(["49.00", "34.90"], ["34.90", "0.01", "1234.56"]))
    tree = etree.fromstring(content)
    schema = pain008_schema(version)
    assert schema.validate(tree), schema.error_log
    assert tree.tag == f"{{{pain008_namespace(version)}}}Document"
    ns = {"p": pain008_namespace(version)}
    # BIC element name differs between versions; a missing BIC says NOTPROVIDED
    bic_tag = "BIC" if version == "001.02" else "BICFI"
    assert tree.xpath(f"//p:DbtrAgt/p:FinInstnId/p:{bic_tag}/text()", namespaces=ns)
    assert "NOTPROVIDED" in tree.xpath("//p:DbtrAgt//p:Othr/p:Id/text()", namespaces=ns)
    assert tree.xpath("//p:CdtrSchmeId//p:Othr/p:Id/text()", namespaces=ns) == [
        "FR12ZZZ123456",
        "FR12ZZZ123456",
    ]


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_headers_announce_the_transactions_that_follow__P2(version):
    frst, rcur = ["49.00", "34.90"], ["34.90", "0.01", "1234.56"]
    tree = etree.fromstring(_write(version, _groups(frst, rcur)))
    ns = {"p": pain008_namespace(version)}
    amounts = tree.xpath("//p:DrctDbtTxInf/p:InstdAmt/text()", namespaces=ns)
    assert amounts == frst + rcur
    assert tree.xpath("string(//p:GrpHdr/p:NbOfTxs)", namespaces=ns) == "5"
    assert tree.xpath("string(//p:GrpHdr/p:CtrlSum)", namespaces=ns) == "1353.37"
    infos = tree.xpath("//p:PmtInf", namespaces=ns)
    assert [i.xpath("string(p:PmtTpInf/p:SeqTp)", namespaces=ns) for i in infos] == [
        "FRST",
        "RCUR",
    ]
    assert [i.xpath("string(p:CtrlSum)", namespaces=ns) for i in infos] == ["83.90", "1269.47"]
    assert [i.xpath("count(p:DrctDbtTxInf)", namespaces=ns) for i in infos] == [2.0, 3.0]
    assert tree.xpath("string(//p:GrpHdr/p:CreDtTm)", namespaces=ns) == "2027-03-03T10:15:30+01:00"


def test_same_inputs_give_the_same_bytes__P2():
    first = _write("001.02", _groups(["49.00"], ["34.90", "12.00"]))
    second = _write("001.02", _groups(["49.00"], ["34.90", "12.00"]))
    assert first == second
    assert first != _write("001.08", _groups(["49.00"], ["34.90", "12.00"]))


def test_a_group_that_differs_from_its_announced_figures_is_refused__P2():
    group = PaymentGroup("X-RCUR", "RCUR", date(2027, 3, 5), 2, Decimal("69.80"))
    with pytest.raises(Pain008Mismatch):
        _write("001.02", [(group, _rows(["34.90", "34.91"]))])
    with pytest.raises(Pain008Mismatch):
        _write("001.02", [(group, _rows(["34.90"]))])


def test_names_are_written_in_the_sepa_character_set__P2():
    tree = etree.fromstring(_write("001.02", _groups([], ["34.90"])))
    ns = {"p": pain008_namespace("001.02")}
    assert tree.xpath("string(//p:Dbtr/p:Nm)", namespaces=ns) == "Helene Dupre-Loewy + fils"
    assert tree.xpath("string(//p:Cdtr/p:Nm)", namespaces=ns) == "Vallees Connectees SAS"
    assert sepa_text("Zoë «Ça» 42 €", 70) == "Zoe Ca 42"
    assert sepa_text("Camille Martin", 8) == "Camille"
    assert sepa_text("€€", 70) == "-"


def test_streaming_validator_reports_the_first_error_with_its_line__P2(tmp_path):
    content = _write("001.02", _groups([], ["34.90", "12.00"]))
    good = tmp_path / "good.xml"
    good.write_bytes(content)
    assert pain008_validate(good, version="001.02").valid
    assert pain008_validate(good, version="001.02").transactions == 2
    # an amount with three decimals is not an amount in euros
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content.replace(b">12.00<", b">12.0x<"))
    result = pain008_validate(bad, version="001.02")
    assert not result.valid
    broken = bad.read_bytes().split(b"\n")
    assert result.line == next(i for i, line in enumerate(broken, 1) if b"12.0x" in line)
    assert "InstdAmt" in result.error
    # a 001.02 file is not a 001.08 one
    assert not pain008_validate(good, version="001.08").valid
