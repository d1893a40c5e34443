"""RADIUS Accounting-Requests (RFC 2866) read into accounting records, and their answers.

The server (``radius_server``) decodes and checks each packet with these functions before it
journals or stores it; the merger (``journal_merge``) decodes the journal's raw packets again
with the same ones, so that both read a packet the same way."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyrad import tools
from pyrad.dictionary import Dictionary
from pyrad.packet import AccountingResponse, AcctPacket

from raccord.network.accounting import SESSION_STATUSES, AccountingRecord

DICTIONARY_PATH = Path(__file__).resolve().parent / "data" / "dictionary.raccord"
PROXY_STATE = 33

_dictionary: Dictionary | None = None


def radius_dictionary() -> Dictionary:
    global _dictionary
    if _dictionary is None:
        _dictionary = Dictionary(str(DICTIONARY_PATH))
    return _dictionary


class MalformedPacket(ValueError):
    pass


_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "string": tools.DecodeString,
    "integer": tools.DecodeInteger,
    "date": tools.DecodeDate,
    # A NAS sends its address in every packet: formatted once (ipaddress is slow at it).
    "ipaddr": lru_cache(maxsize=4096)(tools.DecodeAddress),
    "ipv6addr": lru_cache(maxsize=4096)(tools.DecodeIPv6Address),
    "octets": tools.DecodeOctets,
}

_FIELDS = {
    "Acct-Status-Type": "status",
    "User-Name": "login",
    "Acct-Session-Id": "session_id",
    "NAS-IP-Address": "nas_ip",
    "NAS-IPv6-Address": "nas_ipv6",
    "Acct-Delay-Time": "delay",
    "Event-Timestamp": "event",
    "Acct-Session-Time": "session_time",
    "Acct-Input-Octets": "input_octets",
    "Acct-Output-Octets": "output_octets",
    "Acct-Input-Gigawords": "input_gigawords",
    "Acct-Output-Gigawords": "output_gigawords",
    "Acct-Terminate-Cause": "terminate_cause",
    "Framed-IP-Address": "framed_ip",
    "Calling-Station-Id": "calling_station",
}

# attribute code → (record field, pyrad decoder of its dictionary type, its VALUE names)
Wanted = dict[int, tuple[str, Callable[[bytes], Any], Any]]


def _wanted_table(dictionary: Dictionary) -> Wanted:
    table: Wanted = {}
    for name, field_name in _FIELDS.items():
        attribute = dictionary.attributes[name]
        values = attribute.values if len(attribute.values) else None
        table[attribute.code] = (field_name, _DECODERS[attribute.type], values)
    return table


_ZERO_AUTHENTICATOR = bytes(16)


def request_attributes(data: bytes) -> tuple[bytes, dict[int, bytes]]:
    """An Accounting-Request's raw packet (cut to its Length, RFC 2865 section 3) and the
    first value of each attribute: the checks pyrad's decoding makes, without building its
    packet object (a third of the server's time per request went there). Vendor attributes
    are skipped, Raccord reads none."""
    if len(data) < 20:
        raise MalformedPacket("Packet header is corrupt")
    length = (data[2] << 8) | data[3]
    if length < 20 or len(data) < length:
        raise MalformedPacket("Packet has invalid length")
    if length > 8192:
        raise MalformedPacket(f"Packet length is too long ({length})")
    raw = data[:length]
    attributes: dict[int, bytes] = {}
    position = 20
    while position < length:
        if position + 2 > length:
            raise MalformedPacket("Attribute header is corrupt")
        code, size = raw[position], raw[position + 1]
        if size < 2:
            raise MalformedPacket(f"Attribute length is too small ({size})")
        if code not in attributes:
            attributes[code] = raw[position + 2 : position + size]
        position += size
    return raw, attributes


def request_authentic(raw: bytes, secret: bytes) -> bool:
    """RFC 2866 section 3: MD5 of the packet with a zero authenticator, then the secret."""
    digest = hashlib.md5(raw[:4] + _ZERO_AUTHENTICATOR + raw[20:] + secret).digest()  # noqa: S324 - RFC 2866
    return hmac.compare_digest(digest, raw[4:20])


def response_to(identifier: int, authenticator: bytes, secret: bytes) -> bytes:
    """An Accounting-Response without attributes (RFC 2866 section 3)."""
    header = struct.pack("!BBH", AccountingResponse, identifier, 20)
    return header + hashlib.md5(header + authenticator + secret).digest()  # noqa: S324 - RFC 2866


def record_from_packet(
    packet: AcctPacket, *, source: str, received: float, wanted: Wanted
) -> AccountingRecord:
    """The record an Accounting-Request decoded by pyrad carries."""
    first = {code: raw[0] for code, raw in OrderedDict.items(packet) if code in wanted}
    return record_from_attributes(first, source=source, received=received, wanted=wanted)


def record_from_attributes(
    attributes: dict[int, bytes], *, source: str, received: float, wanted: Wanted
) -> AccountingRecord:
    """The record of an Accounting-Request's attributes (their first raw value each): only
    the ones Raccord reads are decoded, with pyrad's decoder for their dictionary type."""
    values: dict[str, Any] = {}
    for code, value in attributes.items():
        spec = wanted.get(code)
        if spec is None:
            continue
        name, decode, names = spec
        try:
            if names is not None and names.HasBackward(value):
                values[name] = names.GetBackward(value)
            else:
                values[name] = decode(value)
        except (struct.error, ValueError, TypeError) as error:
            raise MalformedPacket(f"attribut {code} illisible") from error
    status = values.get("status")
    if not isinstance(status, int):
        raise MalformedPacket("Acct-Status-Type absent")
    session_id = values.get("session_id", "")
    login = values.get("login", "")
    if not isinstance(session_id, str) or not isinstance(login, str):
        raise MalformedPacket("identifiant non textuel")
    if status in SESSION_STATUSES and not session_id:
        raise MalformedPacket("Acct-Session-Id absent")
    event = values.get("event")
    moment = float(event) if event else received - values.get("delay", 0)
    nas = values.get("nas_ip") or values.get("nas_ipv6") or source
    cause = values.get("terminate_cause", "")
    calling = values.get("calling_station", "")
    if not isinstance(calling, str):
        calling = calling.decode("utf-8", "replace")
    if "\x00" in session_id or "\x00" in login or "\x00" in calling:
        # No database stores it in a text column (PostgreSQL refuses it): an acknowledged
        # record that can never be stored would hold back every record after it.
        raise MalformedPacket("caractère nul dans un attribut texte")
    return AccountingRecord(
        status=status,
        nas=nas,
        at=datetime.fromtimestamp(moment, UTC),
        session_id=session_id,
        login=login,
        session_time=values.get("session_time", 0),
        input_octets=(values.get("input_gigawords", 0) << 32) + values.get("input_octets", 0),
        output_octets=(values.get("output_gigawords", 0) << 32) + values.get("output_octets", 0),
        terminate_cause=cause if isinstance(cause, str) else str(cause),
        framed_ip=values.get("framed_ip", ""),
        calling_station=calling,
    )


def accounting_response(packet: AcctPacket, secret: bytes) -> bytes:
    """The Accounting-Response to ``packet`` (RFC 2866 section 3). Without Proxy-State to
    echo it has no attribute: its authenticator is computed directly."""
    if OrderedDict.__contains__(packet, PROXY_STATE):
        reply = packet.CreateReply()
        return bytes(reply.ReplyPacket())
    return response_to(packet.id, packet.authenticator, secret)
