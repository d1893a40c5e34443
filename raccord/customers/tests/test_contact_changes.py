"""Contact changes by the customer (C8): phone, and email confirmed from the new address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import signing

from raccord.conftest import paris
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.customers.models import Customer
from raccord.customers.services import (
    customer_email_change_confirm,
    customer_email_change_request,
    customer_phone_change,
)

AT = paris(2027, 2, 1, 9, 0)


def _events(customer: Customer, verb: str) -> list[Event]:
    return list(Event.objects.filter(customer_id=customer.pk, verb=verb))


def _actor(customer: Customer) -> Actor:
    return Actor.customer(customer.user)


# --- phone ---------------------------------------------------------------------------------


def test_phone_change_normalizes_and_records_the_old_and_new_number__C8(customer):
    # when the customer types a number with spaces and the +33 prefix
    customer_phone_change(
        customer=customer, phone="+33 7 98 76 54 32", actor=_actor(customer), at=AT
    )
    # then the number is stored in its national form and the change is in the history
    customer.refresh_from_db()
    assert customer.phone == "0798765432"
    [event] = _events(customer, "customer.phone_changed")
    assert event.data == {"old": "0612345678", "new": "0798765432"}
    assert event.actor_kind == Event.ActorKind.CUSTOMER


def test_phone_change_to_the_same_number_records_nothing__C8(customer):
    customer_phone_change(customer=customer, phone="06.12.34.56.78", actor=_actor(customer), at=AT)
    assert _events(customer, "customer.phone_changed") == []


@pytest.mark.parametrize("bad", ["", "12345", "06 12 34 56", "+44 20 7946 0000", "abcdefghij"])
def test_a_bad_phone_is_refused_on_its_field_and_writes_nothing__C8(customer, bad):
    with pytest.raises(DomainError) as caught:
        customer_phone_change(customer=customer, phone=bad, actor=_actor(customer), at=AT)
    assert caught.value.field == "phone"
    assert "téléphone" in caught.value.message
    customer.refresh_from_db()
    assert customer.phone == "0612345678"
    assert _events(customer, "customer.phone_changed") == []


# --- email ---------------------------------------------------------------------------------


def test_email_change_request_keeps_the_login_until_confirmed__C8(customer):
    # when the customer asks for a new address
    result = customer_email_change_request(
        customer=customer, new_email="Camille.New@Example.ORG", actor=_actor(customer), at=AT
    )
    # then the new address waits, normalized, and the login is still the old one
    customer.refresh_from_db()
    user = customer.user
    assert result.token
    assert result.new_email == "Camille.New@example.org"
    assert customer.pending_email == "Camille.New@example.org"
    assert customer.email == "camille.martin@example.org"
    assert user.email == "camille.martin@example.org"
    assert user.username == "camille.martin@example.org"
    [event] = _events(customer, "customer.email_change_requested")
    assert event.data["new"] == "Camille.New@example.org"


def test_email_change_confirm_moves_contact_and_login_together__C8(customer):
    request = customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    # when the link is followed the next day
    done = customer_email_change_confirm(token=request.token, at=AT + timedelta(days=1))
    # then the contact email and the login both change, and nothing is pending any more
    customer.refresh_from_db()
    user = get_user_model().objects.get(pk=customer.user_id)
    assert done.old_email == "camille.martin@example.org"
    assert done.new_email == "camille.new@example.org"
    assert customer.email == "camille.new@example.org"
    assert customer.pending_email == ""
    assert user.email == "camille.new@example.org"
    assert user.username == "camille.new@example.org"
    [event] = _events(customer, "customer.email_changed")
    assert event.data == {"old": "camille.martin@example.org", "new": "camille.new@example.org"}


def test_email_change_link_cannot_be_used_twice__C8(customer):
    request = customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    customer_email_change_confirm(token=request.token, at=AT)
    # when the same link is followed again
    with pytest.raises(DomainError) as caught:
        customer_email_change_confirm(token=request.token, at=AT + timedelta(hours=1))
    # then it is refused and the change is recorded only once
    assert caught.value.code == "already_used"
    assert len(_events(customer, "customer.email_changed")) == 1


def test_email_change_link_expires_after_48_hours__C8(customer):
    request = customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    # when the link is followed one minute too late
    with pytest.raises(DomainError) as caught:
        customer_email_change_confirm(token=request.token, at=AT + timedelta(hours=48, minutes=1))
    # then nothing changes
    assert caught.value.code == "expired"
    assert "expiré" in caught.value.message
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"
    assert customer.pending_email == "camille.new@example.org"


def test_email_change_link_is_still_valid_at_48_hours__C8(customer):
    request = customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    customer_email_change_confirm(token=request.token, at=AT + timedelta(hours=48))
    customer.refresh_from_db()
    assert customer.email == "camille.new@example.org"


def test_a_tampered_link_is_refused__C8(customer):
    request = customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    forged = signing.dumps(
        {"u": customer.user_id, "n": "pirate@example.org", "o": customer.email, "t": 0},
        salt="another-salt",
    )
    for token in (request.token[:-2] + "xx", forged, "not-a-token"):
        with pytest.raises(DomainError) as caught:
            customer_email_change_confirm(token=token, at=AT)
        assert caught.value.code == "invalid_link"
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"


def test_an_older_link_is_refused_once_a_newer_request_replaced_it__C8(customer):
    first = customer_email_change_request(
        customer=customer, new_email="first@example.org", actor=_actor(customer), at=AT
    )
    customer_email_change_request(
        customer=customer, new_email="second@example.org", actor=_actor(customer), at=AT
    )
    assert first.token is not None
    with pytest.raises(DomainError) as caught:
        customer_email_change_confirm(token=first.token, at=AT)
    assert caught.value.code == "stale"
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"
    assert customer.pending_email == "second@example.org"


def test_asking_twice_for_the_same_address_records_one_request__C8(customer):
    for _ in range(2):
        result = customer_email_change_request(
            customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
        )
        assert result.token
    assert len(_events(customer, "customer.email_change_requested")) == 1


def test_typing_the_current_address_cancels_a_pending_change__C8(customer):
    customer_email_change_request(
        customer=customer, new_email="camille.new@example.org", actor=_actor(customer), at=AT
    )
    result = customer_email_change_request(
        customer=customer, new_email="CAMILLE.MARTIN@example.org", actor=_actor(customer), at=AT
    )
    assert result.token is None
    customer.refresh_from_db()
    assert customer.pending_email == ""
    assert len(_events(customer, "customer.email_change_cancelled")) == 1


def test_the_current_address_alone_is_refused_on_the_email_field__C8(customer):
    with pytest.raises(DomainError) as caught:
        customer_email_change_request(
            customer=customer, new_email=customer.email, actor=_actor(customer), at=AT
        )
    assert caught.value.field == "email"


@pytest.mark.parametrize("typed", ["louis.bernard@example.org", "LOUIS.Bernard@EXAMPLE.org"])
def test_an_address_used_by_another_account_is_refused__C8(customer, other_customer, typed):
    with pytest.raises(DomainError) as caught:
        customer_email_change_request(
            customer=customer, new_email=typed, actor=_actor(customer), at=AT
        )
    assert caught.value.field == "email"
    assert "déjà utilisée" in caught.value.message
    customer.refresh_from_db()
    assert customer.pending_email == ""
    assert _events(customer, "customer.email_change_requested") == []


def test_an_address_an_agent_logs_in_with_is_refused__C8(customer):
    get_user_model().objects.create_user(
        username="agent@operateur.fr", email="agent@operateur.fr", is_staff=True
    )
    with pytest.raises(DomainError) as caught:
        customer_email_change_request(
            customer=customer, new_email="agent@operateur.fr", actor=_actor(customer), at=AT
        )
    assert caught.value.field == "email"


def test_confirm_is_refused_when_another_account_took_the_address_meanwhile__C8(
    customer, other_customer
):
    # given a pending change to an address nobody uses yet
    request = customer_email_change_request(
        customer=customer, new_email="shared@example.org", actor=_actor(customer), at=AT
    )
    assert request.token is not None
    # and another customer confirms the same address first
    other = customer_email_change_request(
        customer=other_customer, new_email="shared@example.org", actor=_actor(other_customer), at=AT
    )
    assert other.token is not None
    customer_email_change_confirm(token=other.token, at=AT)
    # when the first customer follows their link
    with pytest.raises(DomainError) as caught:
        customer_email_change_confirm(token=request.token, at=AT)
    # then it is refused and the first login is untouched
    assert caught.value.code == "taken"
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"


@pytest.mark.parametrize("bad", ["", "pas-un-email", "a@b", "camille@@example.org"])
def test_a_malformed_email_is_refused_on_its_field__C8(customer, bad):
    with pytest.raises(DomainError) as caught:
        customer_email_change_request(
            customer=customer, new_email=bad, actor=_actor(customer), at=AT
        )
    assert caught.value.field == "email"
    customer.refresh_from_db()
    assert customer.pending_email == ""
