"""Who reaches the back-office: only active staff with a role; customers never."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from raccord.backoffice.roles import ROLE_ADMIN, ROLE_AGENT, ROLE_BILLING, user_role
from raccord.backoffice.services import agent_create
from raccord.backoffice.tests.conftest import AGENT_PASSWORD
from raccord.contracts.models import Contract
from raccord.core.errors import DomainError

pytestmark = pytest.mark.django_db

BACKOFFICE_PAGES = ["backoffice:dashboard", "backoffice:customer_search", "backoffice:signup"]


@pytest.mark.parametrize("page", BACKOFFICE_PAGES)
def test_anonymous_visitor_is_sent_to_the_agents_login(client: Client, page: str) -> None:
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login") + "?next=")


@pytest.mark.parametrize("page", BACKOFFICE_PAGES)
def test_customer_never_reaches_the_back_office(contract: Contract, page: str) -> None:
    # given a customer logged in to Mon Compte
    customer_user = contract.customer.user
    assert customer_user is not None and not customer_user.is_staff
    client = Client()
    client.force_login(customer_user)
    # when they open a back-office page, then it is refused
    assert client.get(reverse(page)).status_code == 403
    # and the customer's page is refused too
    url = reverse("backoffice:customer_detail", args=[contract.customer_id])
    assert client.get(url).status_code == 403


def test_staff_without_a_role_is_refused(db: None) -> None:
    user = User.objects.create_user("staff@raccord.test", "staff@raccord.test", AGENT_PASSWORD)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    assert user_role(user) is None
    assert client.get(reverse("backoffice:dashboard")).status_code == 403
    # the admin sends them to the agents' login page instead of opening
    response = client.get(reverse("admin:index"), follow=True)
    last_url, _status = response.redirect_chain[-1]
    assert last_url.startswith(reverse("backoffice:login"))
    assert response.status_code == 200


def test_inactive_agent_has_no_role(agent: User) -> None:
    agent.is_active = False
    agent.save()
    assert user_role(User.objects.get(pk=agent.pk)) is None


@pytest.mark.parametrize("role", [ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN])
def test_each_role_opens_the_dashboard(make_staff, role: str) -> None:
    user = make_staff(role)
    client = Client()
    client.force_login(user)
    assert user_role(user) == role
    assert client.get(reverse("backoffice:dashboard")).status_code == 200


def test_agent_is_refused_admin_only_admin_pages(agent_client: Client) -> None:
    for name in (
        "admin:core_operatorprofile_changelist",
        "admin:core_policy_changelist",
        "admin:auth_user_changelist",
    ):
        assert agent_client.get(reverse(name)).status_code == 403, name
    # the catalogue is readable but not editable by an agent
    assert agent_client.get(reverse("admin:catalog_offer_changelist")).status_code == 200
    assert agent_client.get(reverse("admin:catalog_offer_add")).status_code == 403


def test_agent_reads_contracts_in_the_admin_but_does_not_change_them(
    agent_client: Client, contract: Contract
) -> None:
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    response = agent_client.get(url)
    assert response.status_code == 200
    response = agent_client.post(url, {"special_mentions": "changé"})
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.special_mentions == ""


def test_role_groups_hold_their_baseline_permissions(db: None) -> None:
    agent = set(Group.objects.get(name=ROLE_AGENT).permissions.values_list("codename", flat=True))
    billing = set(
        Group.objects.get(name=ROLE_BILLING).permissions.values_list("codename", flat=True)
    )
    admin = set(Group.objects.get(name=ROLE_ADMIN).permissions.values_list("codename", flat=True))
    assert {"view_customer", "view_contract", "view_mandate", "view_event", "view_offer"} <= agent
    assert "add_contract" in agent
    assert not {"change_offer", "change_policy", "view_operatorprofile", "change_user"} & agent
    assert agent < billing and "change_mandate" in billing
    assert {"change_offer", "change_policy", "change_operatorprofile", "add_user"} <= admin


def test_agent_create_gives_exactly_one_role_and_is_idempotent(db: None) -> None:
    # given an agent
    user = agent_create(email="Lea@Raccord.test", role=ROLE_AGENT, password=None)
    assert user.is_staff and not user.has_usable_password()
    # when the same email is promoted
    again = agent_create(email="lea@raccord.test", role=ROLE_BILLING, password=AGENT_PASSWORD)
    # then it is the same account, with the new role only and the password set
    assert again.pk == user.pk
    assert list(again.groups.values_list("name", flat=True)) == [ROLE_BILLING]
    assert again.check_password(AGENT_PASSWORD)


def test_agent_create_refuses_unknown_roles_weak_passwords_and_customer_logins(
    contract: Contract,
) -> None:
    with pytest.raises(DomainError) as unknown:
        agent_create(email="x@raccord.test", role="boss", password=None)
    assert unknown.value.field == "role"
    with pytest.raises(DomainError) as weak:
        agent_create(email="x@raccord.test", role=ROLE_AGENT, password="court")
    assert weak.value.field == "password"
    with pytest.raises(DomainError) as customer:
        agent_create(email=contract.customer.email, role=ROLE_AGENT, password=None)
    assert customer.value.field == "email"
    assert not User.objects.filter(is_staff=True).exists()


def test_create_agent_command(db: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create-agent", "--email", "paul@raccord.test", "--role", "admin")
    out = capsys.readouterr().out
    assert "changepassword paul@raccord.test" in out
    assert user_role(User.objects.get(email="paul@raccord.test")) == ROLE_ADMIN
