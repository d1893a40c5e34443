"""The portal's clock: the one place its views read the time (STYLE habit 4).

Views call ``clock.now()`` and pass the result to the services, so tests can move time (link
expiry, throttling windows) by replacing this single function."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
