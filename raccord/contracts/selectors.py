"""Reads about contracts."""

from __future__ import annotations

from datetime import date, timedelta

from raccord.core.models import Policy


def withdrawal_deadline(*, signup_date: date) -> date:
    """C6: the legal withdrawal right lasts until the sign-up date + 14 days (policy)."""
    return signup_date + timedelta(days=Policy.get().withdrawal_days)
