"""The real accounting server, driven by FreeRADIUS's ``radclient`` over loopback."""

from __future__ import annotations

import socket
from datetime import date

import pytest
from django.db import connection
from pyrad.packet import AcctPacket, PacketError

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.network.accounting import PARTITIONS, partition_of
from raccord.network.models import AccountingSession, DailyUsage, NasClient
from raccord.network.radius_nas import nas_table_load
from raccord.network.radius_packets import (
    MalformedPacket,
    _wanted_table,
    accounting_response,
    radius_dictionary,
    record_from_attributes,
    record_from_packet,
    request_attributes,
    request_authentic,
    response_to,
)
from raccord.network.tests.conftest import (
    RADCLIENT,
    SECRET,
    RunningServer,
    eventually,
    packet,
    radclient,
)

pytestmark = pytest.mark.skipif(RADCLIENT is None, reason="radclient n'est pas installé")

START_AT = int(paris(2027, 1, 12, 20, 15).timestamp())


def _start(login: str, session: str = "sess-1", **extra: object) -> str:
    return packet(
        User_Name=login,
        Acct_Status_Type="Start",
        Acct_Session_Id=session,
        NAS_IP_Address="192.0.2.1",
        Event_Timestamp=START_AT,
        **extra,
    )


def _interim(login: str, at: int, seconds: int, received: int, sent: int, **extra: object) -> str:
    return packet(
        User_Name=login,
        Acct_Status_Type="Interim-Update",
        Acct_Session_Id="sess-1",
        NAS_IP_Address="192.0.2.1",
        Event_Timestamp=at,
        Acct_Session_Time=seconds,
        Acct_Output_Octets=received,
        Acct_Input_Octets=sent,
        **extra,
    )


def _stop(login: str) -> str:
    """The Stop an hour after the Start: 9 MB received, 400 kB sent."""
    return packet(
        User_Name=login,
        Acct_Status_Type="Stop",
        Acct_Session_Id="sess-1",
        NAS_IP_Address="192.0.2.1",
        Event_Timestamp=START_AT + 3600,
        Acct_Session_Time=3600,
        Acct_Output_Octets=9_000_000,
        Acct_Input_Octets=400_000,
        Acct_Terminate_Cause=1,  # User-Request
    )


def _sessions() -> list[tuple]:
    return list(
        AccountingSession.objects.order_by("key").values_list(
            "key", "started_at", "last_record_at", "stopped_at", "input_octets", "output_octets"
        )
    )


def test_start_activates_interim_counts_stop_closes__C4_N2(radius_server, make_line):
    # given: equipment received on 8 January, the line never connected
    line = make_line(received=date(2027, 1, 8))
    assert line.status == Contract.Status.EQUIPMENT_RECEIVED
    # when: the NAS sends the Start
    result = radclient(radius_server.port, _start(line.network_login))
    # then: answered, stored, and the contract is active from that day
    assert result.answered == 1, result.output
    line.refresh_from_db()
    assert line.status == Contract.Status.ACTIVE
    assert line.activation_date == date(2027, 1, 12)
    assert Event.objects.filter(verb="contract.activated", subject_id=line.pk).count() == 1

    # when: an interim 45 minutes later, then the stop
    at = START_AT + 2700
    assert (
        radclient(
            radius_server.port, _interim(line.network_login, at, 2700, 7_000_000, 300_000)
        ).answered
        == 1
    )
    usage = DailyUsage.objects.get(contract=line)
    assert (usage.day, usage.output_octets, usage.input_octets) == (
        date(2027, 1, 12),
        7_000_000,
        300_000,
    )
    assert radclient(radius_server.port, _stop(line.network_login)).answered == 1
    # then
    session = AccountingSession.objects.get()
    assert session.contract_id == line.pk
    assert session.started_at == paris(2027, 1, 12, 20, 15)
    assert session.stopped_at == paris(2027, 1, 12, 21, 15)
    assert session.terminate_cause == "User-Request"
    usage.refresh_from_db()
    assert (usage.output_octets, usage.input_octets) == (9_000_000, 400_000)


def test_duplicates_change_nothing__N1(radius_server, make_line):
    # given
    line = make_line(received=date(2027, 1, 8))
    interim = _interim(line.network_login, START_AT + 600, 600, 5000, 100)
    radclient(radius_server.port, _start(line.network_login), interim)
    before = _sessions()
    usage_before = list(DailyUsage.objects.values_list("day", "input_octets", "output_octets"))
    # when: each packet sent three times more
    result = radclient(radius_server.port, _start(line.network_login), interim, count=3)
    # then: all answered, nothing changed, still one activation
    assert result.answered == 6, result.output
    assert _sessions() == before
    assert list(DailyUsage.objects.values_list("day", "input_octets", "output_octets")) == (
        usage_before
    )
    assert Event.objects.filter(verb="contract.activated").count() == 1


def test_gigawords_make_64_bit_counters(radius_server, make_line):
    line = make_line(received=date(2027, 1, 8))
    result = radclient(
        radius_server.port,
        _interim(
            line.network_login,
            START_AT + 600,
            600,
            12,
            0,
            Acct_Output_Gigawords=3,
            Acct_Input_Gigawords=1,
        ),
    )
    assert result.answered == 1
    session = AccountingSession.objects.get()
    assert session.output_octets == 3 * 2**32 + 12
    assert session.input_octets == 2**32


def test_a_wrong_secret_gets_no_answer_and_no_record(radius_server, make_line):
    line = make_line(received=date(2027, 1, 8))
    result = radclient(
        radius_server.port, _start(line.network_login), secret="not-the-secret", timeout=0.5
    )
    assert result.answered == 0
    assert "No reply" in result.output
    assert not AccountingSession.objects.exists()
    line.refresh_from_db()
    assert line.activation_date is None
    stats = radius_server.server.stats
    assert eventually(lambda: stats.dropped == {"bad authenticator (wrong secret?)": 1}), (
        stats.dropped
    )


def test_garbage_and_malformed_attributes_are_dropped_and_the_server_goes_on(
    radius_server, make_line
):
    # given
    line = make_line(received=date(2027, 1, 8))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # when: noise, a truncated header, an attribute longer than the packet
    sock.sendto(b"\x00" * 3, ("127.0.0.1", radius_server.port))
    sock.sendto(
        b"\x04\x01\x00\x30" + b"\x00" * 16 + b"\x01\x40abc", ("127.0.0.1", radius_server.port)
    )
    # a well-signed packet whose Acct-Session-Time is 2 octets instead of 4
    result_bad = radclient(
        radius_server.port,
        packet(
            User_Name=line.network_login,
            Acct_Status_Type="Start",
            Acct_Session_Id="x",
            **{"Attr-46": "0x0001"},
        ),
        timeout=0.5,
    )
    sock.close()
    # then: no answer to those, and a good packet still goes through
    assert result_bad.answered == 0
    assert radclient(radius_server.port, _start(line.network_login)).answered == 1
    assert AccountingSession.objects.count() == 1
    dropped = radius_server.server.stats.dropped
    assert dropped.get("malformed packet", 0) == 2
    assert dropped.get("malformed attribute", 0) == 1


def test_accounting_off_closes_the_nas_sessions(radius_server, make_line):
    line = make_line(received=date(2027, 1, 8))
    radclient(radius_server.port, _start(line.network_login))
    off = packet(
        Acct_Status_Type="Accounting-Off",
        NAS_IP_Address="192.0.2.1",
        Event_Timestamp=START_AT + 7200,
    )
    assert radclient(radius_server.port, off).answered == 1
    session = AccountingSession.objects.get()
    assert session.stopped_at == paris(2027, 1, 12, 22, 15)
    assert session.terminate_cause == "NAS-Reboot"


def test_nas_clients_from_the_database_and_unknown_nas_dropped(transactional_db, make_line):
    # given: one NAS configured for loopback with its own secret, no default secret
    NasClient.objects.create(name="bng-1", network="127.0.0.0/8", secret="secret-du-bng")
    line = make_line(received=date(2027, 1, 8))
    running = RunningServer(nas=nas_table_load(None), default_secret=None)
    try:
        # when / then: its secret works, the command-line one does not
        assert radclient(running.port, _start(line.network_login), secret="secret-du-bng").answered
        assert not radclient(
            running.port, _start(line.network_login, "s2"), secret=SECRET, timeout=0.5
        ).answered
    finally:
        running.stop()
    NasClient.objects.all().delete()
    nobody = RunningServer(nas=nas_table_load(None), default_secret=None)
    try:
        assert not radclient(
            nobody.port, _start(line.network_login, "s3"), secret="secret-du-bng", timeout=0.5
        ).answered
        stats = nobody.server.stats
        assert eventually(lambda: stats.dropped == {"unknown NAS": 1}), stats.dropped
    finally:
        nobody.stop()
    assert AccountingSession.objects.count() == 1


def test_sessions_go_down_both_lanes_and_the_line_is_activated_once__C4_N2(
    radius_server, make_line
):
    # given: a line awaiting activation, two sessions whose keys fall in different partitions
    line = make_line(received=date(2027, 1, 8))
    ids = {partition_of(f"192.0.2.1|sess-{i}"): f"sess-{i}" for i in range(20)}
    assert len(ids) == PARTITIONS
    # when
    result = radclient(
        radius_server.port,
        *(_start(line.network_login, session) for session in ids.values()),
    )
    # then: both stored (by two lanes on PostgreSQL), one activation
    assert result.answered == PARTITIONS, result.output
    lanes = len(radius_server.server._lanes)
    assert lanes == (PARTITIONS if connection.vendor == "postgresql" else 1)
    assert AccountingSession.objects.filter(contract=line).count() == PARTITIONS
    assert Event.objects.filter(verb="contract.activated", subject_id=line.pk).count() == 1


def _signed(secret: bytes, **attributes: object) -> bytes:
    request = AcctPacket(id=7, secret=secret, dict=radius_dictionary())
    for name, value in attributes.items():
        request.AddAttribute(name.replace("_", "-"), value)
    return bytes(request.RequestPacket())


def test_plain_decoding_reads_what_pyrad_reads():
    # given: a signed Interim-Update with the attributes Raccord reads, and more
    secret = b"s3cret"
    data = _signed(
        secret,
        User_Name="rc00000001",
        Acct_Status_Type=3,  # Interim-Update
        Acct_Session_Id="abc",
        NAS_IP_Address="192.0.2.9",
        Event_Timestamp=START_AT,
        Acct_Session_Time=600,
        Acct_Input_Octets=7,
        Acct_Output_Octets=9,
        Acct_Output_Gigawords=2,
        Framed_IP_Address="10.0.0.2",
        Calling_Station_Id="aa-bb",
        Acct_Terminate_Cause=1,  # User-Request
    )
    wanted = _wanted_table(radius_dictionary())
    # when
    raw, attributes = request_attributes(data + b"pad")
    plain = record_from_attributes(attributes, source="x", received=0, wanted=wanted)
    packet_ = AcctPacket(secret=secret, dict=radius_dictionary(), packet=data)
    # then: the same record and answer as through pyrad's packet
    assert raw == data
    assert request_authentic(raw, secret) and not request_authentic(raw, b"other")
    assert plain == record_from_packet(packet_, source="x", received=0, wanted=wanted)
    assert plain.output_octets == (2 << 32) + 9
    assert response_to(raw[1], raw[4:20], secret) == accounting_response(packet_, secret)


@pytest.mark.parametrize(
    "data",
    [
        b"\x04\x01\x00",  # header cut
        b"\x04\x01\x00\x30" + bytes(16),  # Length beyond the data
        b"\x04\x01\x00\x17" + bytes(16) + b"\x01\x01\x00",  # attribute of length 1
        b"\x04\x01\x00\x15" + bytes(16) + b"\x01",  # attribute header cut
    ],
)
def test_plain_decoding_refuses_what_pyrad_refuses(data):
    with pytest.raises(MalformedPacket):
        request_attributes(data)
    with pytest.raises(PacketError):
        AcctPacket(secret=b"s", dict=radius_dictionary(), packet=data)


@pytest.mark.parametrize("attribute", ["User_Name", "Acct_Session_Id", "Calling_Station_Id"])
def test_a_nul_character_in_a_text_attribute_is_a_malformed_attribute(attribute):
    """No database stores it: acknowledged, it would hold back every record after it."""
    values: dict[str, object] = {
        "User_Name": "rc00000001",
        "Acct_Status_Type": 1,
        "Acct_Session_Id": "abc",
        "Calling_Station_Id": "aa-bb",
    }
    values[attribute] = f"{values[attribute]}\x00x"
    _raw, attributes = request_attributes(_signed(b"s3cret", **values))
    with pytest.raises(MalformedPacket, match="caractère nul"):
        record_from_attributes(
            attributes, source="x", received=0, wanted=_wanted_table(radius_dictionary())
        )
