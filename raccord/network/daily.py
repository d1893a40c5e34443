"""The daily jobs of the network app, called by ``raccord.contracts.daily.daily_run`` after the
contract jobs. Each is idempotent and driven by the date it is given."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from raccord.core.events import Actor

if TYPE_CHECKING:
    from raccord.contracts.daily import DailyReport

logger = logging.getLogger(__name__)


def network_daily_run(*, on: date, report: DailyReport, actor: Actor) -> None:
    """N3: the outages found in the sessions up to ``on`` 00:00, in the report under
    ``other["network"]``."""
    from raccord.network.outages import outages_detect

    try:
        lines = outages_detect(on=on)
    except Exception as error:  # one job in error must not hold back the others
        logger.exception("network daily job failed on %s", on)
        report.errors.append(f"réseau : détection des coupures impossible ({error})")
        return
    if lines:
        report.other.setdefault("network", []).extend(lines)
