from __future__ import annotations

from datetime import date

from raccord.catalog.models import CGVVersion


def cgv_in_force(*, on: date) -> CGVVersion | None:
    """The CGV version a sign-up on that day accepts: the latest one already effective."""
    return CGVVersion.objects.filter(effective_date__lte=on).order_by("-effective_date").first()
