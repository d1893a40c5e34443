"""The daily jobs of the network app, called by ``raccord.contracts.daily.daily_run`` after the
contract jobs. Each is idempotent and driven by the date it is given."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from raccord.core.events import Actor

if TYPE_CHECKING:
    from raccord.contracts.daily import DailyReport


def network_daily_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    return None
