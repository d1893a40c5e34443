"""The operator's identity on every invoice (B9): a month is not billed without it, and a SIREN
or VAT number that cannot be right is refused where it is typed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from raccord.billing.models import BillingRun
from raccord.core.errors import DomainError
from raccord.core.identity import (
    seller_identity_check,
    seller_identity_problems,
    siren_valid,
    vat_key,
    vat_number_problem,
)
from raccord.core.models import OperatorProfile


def test_siren_and_vat_key_follow_insee_and_the_tax_office():
    # a published pair: SIREN 732 829 320, VAT FR44 732 829 320
    assert siren_valid("732829320") and vat_key("732829320") == "44"
    assert not siren_valid("732829321")  # Luhn
    assert not siren_valid("73282932") and not siren_valid("73282932A")
    assert vat_number_problem("FR44732829320", "732829320") is None
    assert "clé" in (vat_number_problem("FR45732829320", "732829320") or "")
    assert "SIREN" in (vat_number_problem("FR44912345675", "732829320") or "")
    assert vat_number_problem("DE123456789", "732829320") is not None
    # spaces as people type them are fine; a key that is not the computed digits is not
    assert (
        siren_valid("732 829 320")
        and vat_number_problem("FR 44 732 829 320", "732 829 320") is None
    )
    assert vat_number_problem("FRXX732829320", "732829320") is not None
    # without a SIREN, the VAT number cannot be checked: the admin says what to fill first
    assert "SIREN valide" in (vat_number_problem("FR44732829320", "") or "")


def test_the_admin_refuses_a_siren_or_a_vat_number_that_cannot_be_right__B9(db):
    profile = OperatorProfile.get()
    profile.siren, profile.vat_number = "912345678", ""
    with pytest.raises(ValidationError) as refused:
        profile.clean()
    assert "siren" in refused.value.message_dict
    profile.siren, profile.vat_number = "912345675", "fr 40 912345675"
    with pytest.raises(ValidationError) as refused:
        profile.clean()
    assert "65" in refused.value.message_dict["vat_number"][0]
    profile.siren, profile.vat_number = "912 345 675", "fr 65 912345675"
    profile.clean()
    assert (profile.siren, profile.vat_number) == ("912345675", "FR65912345675")


def test_no_month_is_billed_while_the_operator_identity_is_incomplete__B9(db, operator_identity):
    seller_identity_check()  # complete: nothing to say
    operator_identity.siren = ""
    operator_identity.save()
    assert seller_identity_problems(operator_identity) == ["le SIREN est vide ou invalide"]
    with pytest.raises(DomainError) as refused:
        seller_identity_check()
    assert "SIREN" in refused.value.message
    # the command refuses before writing anything; a dry run still computes
    with pytest.raises(CommandError, match="SIREN"):
        call_command("billing", "run", "--month", "2027-02", "--no-pdf", stdout=StringIO())
    assert not BillingRun.objects.exists()
    out = StringIO()
    call_command("billing", "run", "--month", "2027-02", "--dry-run", stdout=out)
    assert "Aperçu" in out.getvalue()
