"""The back-office network pages' clock: the one place they read the time (STYLE habit 4).
Mon Compte pages use the portal's clock (``raccord.portal.clock``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.localtime(timezone.now())
