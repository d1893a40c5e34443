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
    """N3: the outages found in the sessions up to ``on`` 00:00, then, if the policy says so,
    the gestures they open (S1), in the report under ``other["network"]``."""
    from raccord.network.outages import outages_detect

    try:
        lines = outages_detect(on=on)
    except Exception as error:  # one job in error must not hold back the others
        logger.exception("network daily job failed on %s", on)
        report.errors.append(f"réseau : détection des coupures impossible ({error})")
        return
    if lines:
        report.other.setdefault("network", []).extend(lines)
    # S1 by policy: after the outages are known (an outage ended yesterday opens its gesture).
    from raccord.network.gestures import gestures_automatic

    try:
        granted = gestures_automatic(on=on)
    except Exception as error:
        logger.exception("automatic gestures failed on %s", on)
        report.errors.append(f"réseau : gestes commerciaux automatiques impossibles ({error})")
        return
    if granted:
        report.other.setdefault("network", []).extend(granted)
