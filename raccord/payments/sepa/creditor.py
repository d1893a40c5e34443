"""The creditor of the direct debits: the operator's name, SEPA creditor identifier (ICS) and
the account the money is collected to.

The ICS is ``OperatorProfile.sepa_creditor_id``. The operator's own IBAN and BIC are read from
``OperatorProfile.sepa_creditor_iban`` / ``sepa_creditor_bic``, else from the settings ``RACCORD_SEPA_CREDITOR_IBAN`` / ``RACCORD_SEPA_CREDITOR_BIC``."""

from __future__ import annotations

import os

from django.conf import settings

from raccord.core.errors import DomainError
from raccord.core.models import OperatorProfile
from raccord.payments.sepa.pain008 import Creditor


def creditor_account_value(profile: OperatorProfile, field: str, setting: str) -> str:
    """The operator's collection account detail ``field`` (IBAN or BIC): the profile's, else
    the setting, else the environment variable of that name; spaces removed, upper case. The
    debit files and the refunds read the same account through it."""
    value = getattr(profile, field) or getattr(settings, setting, "") or os.environ.get(setting, "")
    return "".join(str(value).split()).upper()


def creditor_get(profile: OperatorProfile | None = None) -> Creditor:
    """The creditor as the debit file names it; a clear French error when something is
    missing (a file without them would be refused by the bank)."""
    profile = profile or OperatorProfile.get()
    ics = "".join(profile.sepa_creditor_id.split()).upper()
    if not ics:
        raise DomainError(
            "Renseignez l'identifiant créancier SEPA (ICS) de l'opérateur avant de créer un "
            "fichier de prélèvements.",
            field="sepa_creditor_id",
        )
    iban = creditor_account_value(profile, "sepa_creditor_iban", "RACCORD_SEPA_CREDITOR_IBAN")
    if not iban:
        raise DomainError(
            "Renseignez l'IBAN du compte de l'opérateur sur lequel les prélèvements sont "
            "encaissés avant de créer un fichier de prélèvements.",
            field="sepa_creditor_iban",
        )
    bic = creditor_account_value(profile, "sepa_creditor_bic", "RACCORD_SEPA_CREDITOR_BIC")
    return Creditor(name=profile.legal_name, iban=iban, bic=bic, creditor_id=ics)
