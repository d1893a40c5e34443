"""Form pieces shared by Mon Compte and the back-office for contract actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from raccord.contracts.termination import termination_preview_date_check
from raccord.core.errors import DomainError


class TerminationDateMixin:
    """The ``date`` of a termination preview (C10), checked by the contract service: from
    ``today`` to about two years ahead, its refusal shown next to the field."""

    today: dt.date
    cleaned_data: dict[str, Any]

    def clean_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("date")
        if value is not None:
            try:
                termination_preview_date_check(requested_date=value, today=self.today)
            except DomainError as error:
                raise forms.ValidationError(error.message) from None
        return value
