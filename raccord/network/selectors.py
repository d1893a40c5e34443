"""Reads for the network pages: daily usage, sessions, the line's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from raccord.contracts.models import Contract
from raccord.network.models import AccountingSession, DailyUsage, Outage

PARIS = ZoneInfo("Europe/Paris")
USAGE_DAYS = 30
UNITS = (("To", 10**12), ("Go", 10**9), ("Mo", 10**6), ("ko", 10**3))


def volume(octets: int, unit: tuple[str, int] | None = None) -> str:
    """A volume in French decimal units (1,5 Go)."""
    if octets == 0:
        return "0"
    name, size = unit or unit_for(octets)
    value = octets / size
    return f"{number_format(value, 1 if value < 10 and size > 1 else 0)} {name}"


def unit_for(octets: int) -> tuple[str, int]:
    for name, size in UNITS:
        if octets >= size:
            return name, size
    return "o", 1


@dataclass
class UsageDay:
    day: date
    input_octets: int = 0
    output_octets: int = 0

    @property
    def total(self) -> int:
        return self.input_octets + self.output_octets


@dataclass
class UsageSeries:
    contract: Contract
    days: list[UsageDay] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def received(self) -> int:
        return sum(day.output_octets for day in self.days)

    @property
    def sent(self) -> int:
        return sum(day.input_octets for day in self.days)

    @property
    def peak(self) -> int:
        return max((day.total for day in self.days), default=0)


def usage_series(
    *, contracts: Iterable[Contract], until: date, days: int = USAGE_DAYS
) -> list[UsageSeries]:
    """The last ``days`` days up to ``until`` of each contract, missing days at zero; one
    query for all the contracts."""
    contracts = list(contracts)
    first = until - timedelta(days=days - 1)
    series = {
        c.pk: UsageSeries(
            contract=c, days=[UsageDay(first + timedelta(days=i)) for i in range(days)]
        )
        for c in contracts
    }
    if not contracts:
        return []
    for contract_id, day, inp, out in DailyUsage.objects.filter(
        contract_id__in=list(series), day__gte=first, day__lte=until
    ).values_list("contract_id", "day", "input_octets", "output_octets"):
        slot = series[contract_id].days[(day - first).days]
        slot.input_octets, slot.output_octets = max(inp, 0), max(out, 0)
    return [series[c.pk] for c in contracts]


def contract_sessions(*, contract: Contract) -> QuerySet[AccountingSession]:
    return AccountingSession.objects.filter(contract=contract).order_by("-started_at", "-id")


def last_sessions(*, contracts: Iterable[Contract]) -> dict[int, AccountingSession]:
    """The latest session of each contract (one query per contract, on the contract index:
    a customer has a handful of lines)."""
    result = {}
    for contract in contracts:
        session = contract_sessions(contract=contract).first()
        if session is not None:
            result[contract.pk] = session
    return result


def outages_of(*, contract: Contract) -> QuerySet[Outage]:
    return Outage.objects.filter(contract=contract).order_by("-started_at")


@dataclass(frozen=True)
class LineState:
    label: str
    tone: str  # badge class suffix: "info", "warning"
    detail: str = ""


def line_state(contract: Contract, *, session: AccountingSession | None, at: datetime) -> LineState:
    """The line as the network sees it: suspended for non-payment, connected, or not."""
    if contract.suspended_on is not None:
        detail = _("depuis le %(day)s") % {"day": f"{contract.suspended_on:%d/%m/%Y}"}
        if contract.suspension_reason:
            detail += f" – {contract.suspension_reason}"
        return LineState(_("ligne suspendue (accès restreint)"), "warning", detail)
    if contract.activation_date is None:
        return LineState(_("jamais connectée"), "info")
    if session is None:
        return LineState(_("aucune session reçue"), "info")
    if session.stopped_at is None:
        since = session.started_at.astimezone(PARIS)
        return LineState(
            _("connectée"), "info", _("depuis le %(at)s") % {"at": f"{since:%d/%m/%Y %H:%M}"}
        )
    ended = session.stopped_at.astimezone(PARIS)
    return LineState(
        _("déconnectée"), "warning", _("depuis le %(at)s") % {"at": f"{ended:%d/%m/%Y %H:%M}"}
    )
