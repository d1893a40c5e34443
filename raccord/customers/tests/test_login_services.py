"""Login history and password services (C3) and the customer selectors."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from raccord.conftest import paris
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.customers.selectors import (
    customer_by_login_email,
    customer_contracts,
    customer_email_taken,
    customer_for_user,
)
from raccord.customers.services import (
    customer_login_record,
    customer_logout_record,
    customer_password_reset_request,
    customer_password_set,
)

AT = paris(2027, 1, 6, 8, 0)


def test_password_set_stores_a_hash_and_records_it__C3(customer):
    customer_password_set(
        customer=customer,
        password="Vert-Sapin-2027!",
        actor=Actor.customer(customer.user),
        at=AT,
    )
    user = get_user_model().objects.get(pk=customer.user_id)
    assert user.check_password("Vert-Sapin-2027!")
    assert "Vert-Sapin" not in user.password
    [event] = Event.objects.filter(customer_id=customer.pk, verb="customer.password_set")
    assert event.data == {"via": "link"}


@pytest.mark.parametrize("weak", ["court", "1234567890123", "motdepasse", "camille.martin"])
def test_a_weak_password_is_refused_and_writes_nothing__C3(customer, weak):
    with pytest.raises(DomainError) as caught:
        customer_password_set(
            customer=customer, password=weak, actor=Actor.customer(customer.user), at=AT
        )
    assert caught.value.field == "password"
    user = get_user_model().objects.get(pk=customer.user_id)
    assert not user.has_usable_password()
    assert not Event.objects.filter(verb="customer.password_set").exists()


def test_login_and_logout_are_in_the_history__C3(customer):
    customer_login_record(customer=customer, at=AT, ip="192.0.2.1")
    customer_logout_record(customer=customer, at=AT, ip="192.0.2.1")
    verbs = list(
        Event.objects.filter(customer_id=customer.pk, verb__startswith="customer.log")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["customer.logged_in", "customer.logged_out"]


def test_password_reset_request_finds_the_customer_by_login_in_any_case__C3(customer):
    found = customer_password_reset_request(email=" CAMILLE.Martin@example.org ", at=AT)
    assert found == customer
    assert Event.objects.filter(
        customer_id=customer.pk, verb="customer.password_reset_requested"
    ).exists()


def test_password_reset_request_for_an_unknown_address_records_nothing__C3(customer):
    assert customer_password_reset_request(email="personne@example.org", at=AT) is None
    assert not Event.objects.filter(verb="customer.password_reset_requested").exists()


def test_agents_are_not_customers__C3(customer):
    agent = get_user_model().objects.create_user(
        username="agent@operateur.fr", email="agent@operateur.fr", is_staff=True
    )
    assert customer_for_user(user=agent) is None
    assert customer_by_login_email(email="agent@operateur.fr") is None
    assert customer_for_user(user=customer.user) == customer


def test_an_agent_with_a_customer_record_is_still_not_a_portal_customer__C3(customer):
    user = customer.user
    user.is_staff = True
    user.save()
    assert customer_for_user(user=user) is None
    assert customer_by_login_email(email=user.email) is None


def test_email_taken_ignores_the_customer_itself__C8(customer, other_customer):
    assert not customer_email_taken(email="CAMILLE.MARTIN@example.org", customer=customer)
    assert customer_email_taken(email="camille.martin@example.org", customer=other_customer)
    assert not customer_email_taken(email="new@example.org", customer=customer)


def test_customer_contracts_lists_only_that_customers_contracts(customer, other_customer):
    mine = list(customer_contracts(customer=customer))
    assert [c.customer_id for c in mine] == [customer.pk]
    theirs = list(customer_contracts(customer=other_customer))
    assert [c.customer_id for c in theirs] == [other_customer.pk]
