"""The daily jobs of the payments app, called by ``raccord.contracts.daily.daily_run`` after the
contract jobs. Each is idempotent and driven by the date it is given."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from raccord.core.events import Actor
from raccord.payments.dunning import dunning_daily_run
from raccord.payments.mandates import mandates_daily_run
from raccord.payments.refunds import refunds_prepare

if TYPE_CHECKING:
    from raccord.contracts.daily import DailyReport


def payments_daily_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    report.other["mandates"] = mandates_daily_run(on=on, actor=actor)
    report.other["dunning"] = dunning_daily_run(on=on, actor=actor)
    # B6: credit notes issued are offset against unpaid invoices, the rest queued for refund.
    report.other["refunds"] = [
        refund.document.number for refund in refunds_prepare(on=on, actor=actor)
    ]
