"""Bank-details changes (P4) and lapsed mandates (P7)."""

from __future__ import annotations

from datetime import date

import pytest

from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError
from raccord.core.models import Event
from raccord.payments.mandates import (
    mandate_applies_from,
    mandate_change,
    mandate_first_debit,
    mandates_daily_run,
    mandates_in_force,
)
from raccord.payments.models import Mandate
from raccord.payments.tests.money_support import *  # noqa: F403
from raccord.payments.tests.money_support import (
    IBAN_BAD_RIB_KEY,
    IBAN_BNP,
    IBAN_BRED,
    debit_make,
    invoice,
    system,
)

pytestmark = pytest.mark.django_db


def _change(customer, signed_at, iban=IBAN_BNP, **kwargs):
    kwargs.setdefault("method", Mandate.SignatureMethod.ONLINE)
    kwargs.setdefault("ip", "192.0.2.44")
    return mandate_change(
        customer=customer,
        iban=iban,
        debtor_name="Camille Martin",
        signed_at=signed_at,
        actor=system(),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("signed", "applies_from"),
    [
        (date(2027, 2, 1), date(2027, 3, 1)),
        (date(2027, 2, 24), date(2027, 3, 1)),
        (date(2027, 2, 25), date(2027, 4, 1)),
        (date(2027, 12, 24), date(2028, 1, 1)),
        (date(2027, 12, 25), date(2028, 2, 1)),  # the year wraps: December → February
        (date(2027, 11, 30), date(2028, 1, 1)),
    ],
)
def test_a_change_applies_from_the_next_month_or_the_one_after_the_24th__P4(
    make_contract, signed, applies_from
):
    contract = make_contract("sepa")
    mandate = _change(contract.customer, paris(signed.year, signed.month, signed.day, 23, 30))
    assert mandate.status == Mandate.Status.PENDING
    assert mandate.applies_from == applies_from
    assert mandate.replaces == contract.mandate
    assert mandate_applies_from(signed_on=signed) == applies_from


def test_the_debit_of_each_month_uses_the_mandate_in_force_on_the_24th__P4(make_contract):
    contract = make_contract("sepa")
    old = contract.mandate
    customer = contract.customer
    # signed on 25 December: the January debit still uses the old account
    new = _change(customer, paris(2027, 12, 25))
    assert mandates_in_force(month=date(2028, 1, 1))[customer.pk] == old
    assert mandates_in_force(month=date(2028, 2, 1))[customer.pk] == new
    # the page's sentence: the first debit with the new account
    assert mandate_first_debit(mandate=new) == date(2028, 2, 7)  # 5 Feb 2028 is a Saturday


def test_the_daily_run_puts_the_new_mandate_in_force_and_moves_the_contracts__P4(make_contract):
    # given a change signed on 10 February
    contract = make_contract("sepa")
    old = contract.mandate
    new = _change(contract.customer, paris(2027, 2, 10))
    # when the daily job runs in February, nothing changes yet
    assert mandates_daily_run(on=date(2027, 2, 28), actor=system()) == []
    contract.refresh_from_db()
    assert contract.mandate == old
    # on 1 March the new mandate is in force, the old one amended, the contract moved
    changed = mandates_daily_run(on=date(2027, 3, 1), actor=system())
    assert set(changed) == {new.reference, old.reference}
    new.refresh_from_db()
    old.refresh_from_db()
    contract.refresh_from_db()
    assert new.status == Mandate.Status.ACTIVE
    assert old.status == Mandate.Status.AMENDED
    assert old.ended_on == date(2027, 2, 28)
    assert contract.mandate == new
    assert Event.objects.filter(verb="contract.mandate_changed", subject_id=contract.pk).exists()
    # the old month's debit file still finds the old mandate
    assert mandates_in_force(month=date(2027, 2, 1))[contract.customer_id] == old
    # idempotent
    assert mandates_daily_run(on=date(2027, 3, 2), actor=system()) == []


def test_two_changes_before_the_cutoff_keep_the_last_one(make_contract):
    contract = make_contract("sepa")
    first = _change(contract.customer, paris(2027, 2, 10))
    second = _change(contract.customer, paris(2027, 2, 12), iban=IBAN_BRED)
    assert second.replaces == first
    mandates_daily_run(on=date(2027, 3, 1), actor=system())
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Mandate.Status.AMENDED, Mandate.Status.ACTIVE)
    assert Contract.objects.get(pk=contract.pk).mandate == second


def test_a_rib_key_error_is_refused(make_contract):
    contract = make_contract("sepa")
    with pytest.raises(DomainError) as error:
        _change(contract.customer, paris(2027, 2, 10), iban=IBAN_BAD_RIB_KEY)
    assert error.value.field == "iban"
    assert "clé RIB" in error.value.message
    assert Mandate.objects.filter(customer=contract.customer).count() == 1


def test_the_same_account_is_refused_and_a_double_submit_returns_the_first(make_contract):
    contract = make_contract("sepa")
    with pytest.raises(DomainError, match="déjà celui"):
        _change(contract.customer, paris(2027, 2, 10), iban=VALID_IBAN)
    first = _change(contract.customer, paris(2027, 2, 10, 9))
    again = _change(contract.customer, paris(2027, 2, 10, 9, 1))
    assert again == first
    assert Event.objects.filter(verb="mandate.signed", subject_id=first.pk).count() == 1


def test_a_cheque_payer_has_no_account_to_change(make_contract):
    contract = make_contract("cheque")
    with pytest.raises(DomainError, match="chèque"):
        _change(contract.customer, paris(2027, 2, 10))


def test_a_paper_form_counts_from_the_day_it_is_recorded__P4(make_contract):
    contract = make_contract("sepa")
    mandate = _change(
        contract.customer,
        paris(2027, 2, 20),
        method=Mandate.SignatureMethod.PAPER,
        ip=None,
        on=date(2027, 2, 26),
    )
    assert mandate.signature_date == date(2027, 2, 20)
    assert mandate.applies_from == date(2027, 4, 1)
    assert mandate.signature_ip is None


def test_the_iban_is_masked_in_events(make_contract):
    contract = make_contract("sepa")
    _change(contract.customer, paris(2027, 2, 10))
    mandates_daily_run(on=date(2027, 3, 1), actor=system())
    for event in Event.objects.filter(customer_id=contract.customer_id):
        assert IBAN_BNP not in event.summary
        assert IBAN_BNP not in str(event.data)
        assert VALID_IBAN not in event.summary + str(event.data)


def test_a_mandate_unused_for_36_months_lapses__P7(make_contract):
    # signed on 5 January 2027, never used
    contract = make_contract("sepa")
    mandate = contract.mandate
    assert mandates_daily_run(on=date(2030, 1, 5), actor=system()) == []
    assert mandates_daily_run(on=date(2030, 1, 6), actor=system()) == [mandate.reference]
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.LAPSED
    event = Event.objects.get(verb="mandate.lapsed")
    assert "05/01/2027" in event.summary
    assert mandates_in_force(month=date(2030, 2, 1)) == {}


def test_a_recent_debit_keeps_the_mandate_alive__P7(make_contract):
    contract = make_contract("sepa")
    mandate = contract.mandate
    # last_debit_date says 2027-03-05 …
    Mandate.objects.filter(pk=mandate.pk).update(last_debit_date=date(2027, 3, 5))
    assert mandates_daily_run(on=date(2030, 3, 5), actor=system()) == []
    # … but a debit recorded later counts even if that date was not updated
    debit_make(invoice(contract, 4))
    assert mandates_daily_run(on=date(2030, 3, 6), actor=system()) == []
    assert mandates_daily_run(on=date(2030, 4, 6), actor=system()) == [mandate.reference]


def test_after_a_lapse_a_new_mandate_can_be_signed__P7(make_contract):
    contract = make_contract("sepa")
    mandates_daily_run(on=date(2030, 1, 6), actor=system())
    new = _change(contract.customer, paris(2030, 1, 10), iban=VALID_IBAN)
    assert new.replaces == contract.mandate
    mandates_daily_run(on=date(2030, 2, 1), actor=system())
    new.refresh_from_db()
    assert new.status == Mandate.Status.ACTIVE
