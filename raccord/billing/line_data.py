"""Reading the JSON ``data`` of document lines (keys listed in notes/billing-contract.md).

Line data is JSON written by several services over the years: a missing or malformed key must
degrade what is shown, never break a page; every reader returns None (or « ») for it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def read_decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None


def read_int(data: Mapping[str, Any], key: str) -> int | None:
    value = read_decimal(data, key)
    return int(value) if value is not None and value == value.to_integral_value() else None


def read_date(data: Mapping[str, Any], key: str) -> date | None:
    raw = data.get(key)
    if not raw or not isinstance(raw, str):
        return None
    try:
        if "T" in raw or " " in raw.strip():
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is not None:
                moment = moment.astimezone(PARIS)
            return moment.date()
        return date.fromisoformat(raw)
    except ValueError:
        return None


def read_text(data: Mapping[str, Any], key: str) -> str:
    raw = data.get(key)
    return str(raw).strip() if raw not in (None, "") else ""


class SetupFeeSubsidy(NamedTuple):
    """A set-up fee lowered by a local authority's subsidy (C1), all VAT-inclusive."""

    fee: Decimal
    subsidy: Decimal
    authority: str  # « » when the run had no name for it


def setup_fee_subsidy(*, data: Mapping[str, Any], amount: Decimal) -> SetupFeeSubsidy | None:
    """The fee, the subsidy and who pays it, as the billing run stores them on a set-up fee line
    (``setup_fee``, ``subsidy``, ``authority``); None when there is no subsidy, or when the
    stored figures cannot be trusted: a fee or a subsidy that does not read as a finite amount,
    or a fee less the subsidy that is not the line's amount. What the line says and what its
    Factur-X copy says then both fall back to the amount alone."""
    fee, subsidy = read_decimal(data, "setup_fee"), read_decimal(data, "subsidy")
    if fee is None or subsidy is None or not (fee.is_finite() and subsidy.is_finite()):
        return None
    try:
        if subsidy <= 0 or fee - subsidy != amount:
            return None
    except ArithmeticError:  # figures beyond what a Decimal holds
        return None
    return SetupFeeSubsidy(fee, subsidy, read_text(data, "authority"))
