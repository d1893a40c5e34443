"""Mon Compte access (C3): login, throttling, logout, set-password link, forgotten password."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from raccord.conftest import paris
from raccord.contracts.signup import signup_create
from raccord.core.events import Actor
from raccord.core.models import Event
from raccord.notifications.services import password_set_url
from raccord.portal.tests.conftest import PASSWORD

LOGIN = reverse("portal:login")
HOME = reverse("portal:home")
WRONG = "Adresse email ou mot de passe incorrect."
THROTTLED = "Trop de tentatives de connexion"
NEW_PASSWORD = "Chene-Robuste-88"


def _login(client: Client, email: str, password: str, ip: str = "203.0.113.5"):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def _text(response) -> str:
    """The page as a person reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def _logged_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def _verbs(customer) -> list[str]:
    return list(
        Event.objects.filter(customer_id=customer.pk).order_by("id").values_list("verb", flat=True)
    )


# --- login ---------------------------------------------------------------------------------


def test_login_with_email_and_password_opens_mon_compte__C3(client, customer, clock):
    # given a visitor who already has a session (e.g. from the public site)
    session = client.session
    session["seen"] = True
    session.save()
    before = client.session.session_key
    # when they log in, typing the email in capitals
    response = _login(client, "  CAMILLE.Martin@Example.org ", PASSWORD)
    # then they land on Mon Compte with a new session key (no session fixation)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert _logged_in_user_id(client) == str(customer.user_id)
    assert client.session.session_key != before
    # and the login is in the customer's history, with the portal's clock
    event = Event.objects.get(customer_id=customer.pk, verb="customer.logged_in")
    assert event.at == clock.now()
    assert event.data == {"ip": "203.0.113.5"}


def test_login_form_labels_are_bound_to_their_inputs__C3(client, db):
    page = _text(client.get(LOGIN))
    assert '<label for="id_email">Adresse email</label>' in page
    assert '<label for="id_password">Mot de passe</label>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'autocomplete="current-password"' in page


def test_login_needs_the_csrf_token__C3(customer):
    client = Client(enforce_csrf_checks=True)
    response = _login(client, customer.email, PASSWORD)
    assert response.status_code == 403
    assert _logged_in_user_id(client) is None


def test_set_password_labels_are_distinct_for_assistive_technologies__C3(client, customer):
    form_url = client.get(_path(password_set_url(user=customer.user)))["Location"]
    page = _text(client.get(form_url))
    assert '<label for="id_password1">Nouveau mot de passe</label>' in page
    assert '<label for="id_password2">Confirmation du mot de passe</label>' in page


def test_wrong_password_and_unknown_email_get_the_same_answer__C3(client, customer, clock):
    # when a known email is tried with a wrong password, then an unknown email
    wrong_password = _login(client, customer.email, "pas-le-bon-mot")
    unknown = _login(client, "personne@example.org", PASSWORD)
    # then both answers are the same page with the same message, and nobody is logged in
    for response in (wrong_password, unknown):
        assert response.status_code == 200
        page = _text(response)
        assert WRONG in page
        assert 'aria-describedby="connexion-erreur"' in page
        assert 'id="connexion-erreur"' in page
    assert _logged_in_user_id(client) is None
    assert "customer.logged_in" not in _verbs(customer)


def test_login_throttled_per_email_answers_429_without_checking_the_password__C3(
    client, customer, clock
):
    limit = settings.RACCORD_RATE_LIMITS["login"]
    # given `limit` failed attempts on one account, each from a different address
    for attempt in range(limit):
        response = _login(client, customer.email, "mauvais", ip=f"203.0.113.{attempt + 10}")
        assert response.status_code == 200
    # when the right password comes next, from yet another address
    response = _login(client, customer.email, PASSWORD, ip="198.51.100.99")
    # then it is refused with 429 and a French message, and nobody is logged in
    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert _logged_in_user_id(client) is None
    # and once the minute is over, the right password works again
    clock.advance(seconds=61)
    assert _login(client, customer.email, PASSWORD).status_code == 302


def test_login_throttled_per_address_even_across_accounts__C3(client, customer, clock):
    limit = settings.RACCORD_RATE_LIMITS["login"]
    for attempt in range(limit):
        _login(client, f"inconnu{attempt}@example.org", "mauvais", ip="203.0.113.7")
    response = _login(client, customer.email, PASSWORD, ip="203.0.113.7")
    assert response.status_code == 429
    assert _logged_in_user_id(client) is None
    # another address is not affected
    assert _login(client, customer.email, PASSWORD, ip="203.0.113.8").status_code == 302


def test_successful_logins_from_one_address_never_lock_it_out__C3(client, customer, clock):
    # subscribers behind one carrier-grade NAT share an address: only failures count
    limit = settings.RACCORD_RATE_LIMITS["login"]
    for _ in range(limit + 3):
        assert _login(client, customer.email, PASSWORD, ip="100.64.0.1").status_code == 302
        client.logout()
    # failures still do: limit - 1 wrong passwords, then the right one still works
    for _ in range(limit - 1):
        assert _login(client, customer.email, "mauvais", ip="100.64.0.1").status_code == 200
    assert _login(client, customer.email, PASSWORD, ip="100.64.0.1").status_code == 302


def test_throttled_login_does_not_even_check_the_password__C3(client, customer, clock, monkeypatch):
    limit = settings.RACCORD_RATE_LIMITS["login"]
    for _ in range(limit):
        _login(client, customer.email, "mauvais")
    checked: list[str] = []
    monkeypatch.setattr(
        "raccord.portal.auth_views.authenticate",
        lambda *args, **kwargs: checked.append("called"),
    )
    assert _login(client, customer.email, PASSWORD).status_code == 429
    assert checked == []


def test_an_agent_cannot_log_into_mon_compte__C3(client, db, clock):
    get_user_model().objects.create_user(
        username="agent@operateur.fr",
        email="agent@operateur.fr",
        password=PASSWORD,
        is_staff=True,
    )
    response = _login(client, "agent@operateur.fr", PASSWORD)
    assert response.status_code == 200
    assert "compte d'agent ne donne pas accès à Mon Compte" in _text(response)
    assert _logged_in_user_id(client) is None


def test_a_login_without_customer_record_gets_a_clear_message__C3(client, db, clock):
    get_user_model().objects.create_user(
        username="ancien@example.org", email="ancien@example.org", password=PASSWORD
    )
    response = _login(client, "ancien@example.org", PASSWORD)
    assert "rattaché à aucun abonnement" in response.content.decode()
    assert _logged_in_user_id(client) is None


def test_an_agent_session_sees_a_403_page_not_a_customer_page__C3(client, db):
    agent = get_user_model().objects.create_user(
        username="agent@operateur.fr", email="agent@operateur.fr", is_staff=True
    )
    client.force_login(agent)
    response = client.get(reverse("portal:offer"))
    assert response.status_code == 403
    assert "compte d'agent" in _text(response)


def test_login_goes_back_to_the_page_asked_for_but_never_off_site__C3(client, customer, clock):
    offer = reverse("portal:offer")
    # an anonymous visitor is sent to the login page, remembering where they were going
    response = client.get(offer)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={offer}"
    response = client.post(f"{LOGIN}?next={offer}", {"email": customer.email, "password": PASSWORD})
    assert response["Location"] == offer
    client.logout()
    response = client.post(
        f"{LOGIN}?next=https://pirate.example/", {"email": customer.email, "password": PASSWORD}
    )
    assert response["Location"] == HOME


@pytest.mark.parametrize(
    "name", ["portal:home", "portal:offer", "portal:invoices", "portal:informations"]
)
def test_every_page_requires_a_login__C3(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- logout --------------------------------------------------------------------------------


def test_logout_is_post_only__C3(logged_in, customer, clock):
    # a GET (a link, an image) does not log anybody out
    assert logged_in.get(reverse("portal:logout")).status_code == 405
    assert _logged_in_user_id(logged_in) == str(customer.user_id)
    # a POST does, and is recorded
    response = logged_in.post(reverse("portal:logout"))
    assert response.status_code == 302
    assert _logged_in_user_id(logged_in) is None
    assert "customer.logged_out" in _verbs(customer)
    assert logged_in.get(HOME).status_code == 302


def test_logout_needs_the_csrf_token__C3(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    assert client.post(reverse("portal:logout")).status_code == 403
    assert _logged_in_user_id(client) == str(customer.user_id)


# --- set-password link ---------------------------------------------------------------------


def _path(url: str) -> str:
    return url.removeprefix(settings.RACCORD_PUBLIC_URL)


def test_order_summary_link_sets_the_password_then_logs_in__C3(
    client, signup_request, clock, django_capture_on_commit_callbacks
):
    # given a new customer who received the order summary
    with django_capture_on_commit_callbacks(execute=True):
        contract = signup_create(
            request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
        )
    [summary] = mail.outbox
    link = re.search(r"https?://\S+/compte/mot-de-passe/definir/\S+/", str(summary.body))
    assert link is not None
    # when they follow the link, the token leaves the URL for the session
    response = client.get(_path(link.group(0)))
    assert response.status_code == 302
    form_url = response["Location"]
    assert form_url.endswith("/nouveau/")
    page = client.get(form_url)
    assert page.status_code == 200
    assert "camille.martin@example.org" in page.content.decode()
    # and choose a password
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    # then they are logged in to Mon Compte, and the change is in the history
    assert response.status_code == 302
    assert response["Location"] == HOME
    customer = contract.customer
    assert _logged_in_user_id(client) == str(customer.user_id)
    assert {"customer.password_set", "customer.logged_in"} <= set(_verbs(customer))
    # and the new password works for the next login
    client.post(reverse("portal:logout"))
    assert _login(client, customer.email, NEW_PASSWORD).status_code == 302
    # while the link, once used, is refused
    client.post(reverse("portal:logout"))
    reused = client.get(_path(link.group(0)))
    assert "Ce lien n'est plus valable" in _text(reused)


def test_password_set_refuses_a_mismatch_or_a_weak_password_next_to_the_field__C3(
    client, customer, clock
):
    response = client.get(_path(password_set_url(user=customer.user)))
    form_url = response["Location"]
    mismatch = client.post(form_url, {"password1": NEW_PASSWORD, "password2": "Autre-Chose-99"})
    assert 'id="id_password2_error"' in mismatch.content.decode()
    assert "ne sont pas identiques" in mismatch.content.decode()
    weak = client.post(form_url, {"password1": "1234567890", "password2": "1234567890"})
    page = _text(weak)
    assert 'id="id_password1_error"' in page
    assert 'aria-invalid="true"' in page
    customer.user.refresh_from_db()
    assert customer.user.check_password(PASSWORD)
    assert _logged_in_user_id(client) is None


@pytest.mark.parametrize(
    "uid_token",
    [
        ("MQ", "pas-un-jeton"),
        ("!!!", "abc-def"),
        ("OTk5OTk5", "abc-def"),
    ],
)
def test_an_invalid_link_shows_a_clear_page_with_a_way_to_get_a_new_one__C3(
    client, customer, uid_token
):
    uid, token = uid_token
    response = client.get(reverse("portal:password_set", kwargs={"uidb64": uid, "token": token}))
    assert response.status_code == 200
    page = _text(response)
    assert "Ce lien n'est plus valable" in page
    assert reverse("portal:password_reset") in page
    assert 'name="password1"' not in page


def test_an_expired_link_is_refused__C3(client, customer, monkeypatch):
    # given a link made longer ago than PASSWORD_RESET_TIMEOUT
    long_ago = datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(default_token_generator, "_now", lambda: long_ago)
    url = password_set_url(user=customer.user)
    monkeypatch.undo()
    # when it is followed today
    response = client.get(_path(url))
    # then it is refused
    assert "Ce lien n'est plus valable" in _text(response)


def test_the_placeholder_url_alone_is_refused__C3(client, customer):
    uid = urlsafe_base64_encode(force_bytes(customer.user_id))
    url = reverse("portal:password_set", kwargs={"uidb64": uid, "token": "nouveau"})
    assert "Ce lien n'est plus valable" in _text(client.get(url))


def test_a_valid_token_for_an_agent_is_refused__C3(client, db):
    agent = get_user_model().objects.create_user(
        username="agent@operateur.fr", email="agent@operateur.fr", is_staff=True
    )
    response = client.get(_path(password_set_url(user=agent)))
    assert response.status_code == 200
    assert "Ce lien n'est plus valable" in _text(response)


# --- forgotten password --------------------------------------------------------------------


def test_password_reset_gives_the_same_answer_and_mails_only_existing_accounts__C3(
    client, customer, clock, django_capture_on_commit_callbacks
):
    url = reverse("portal:password_reset")
    # when an unknown address asks for a link
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(url, {"email": "personne@example.org"}, follow=True)
    assert mail.outbox == []
    # and the customer's address does (typed in another case)
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "Camille.MARTIN@example.org"}, follow=True)
    # then both see the same neutral page
    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.content == known.content
    assert "Si un compte Mon Compte correspond" in known.content.decode()
    # and only the customer's login address got a link to the set-password page
    [message] = mail.outbox
    assert message.to == ["camille.martin@example.org"]
    link = re.search(r"https?://\S+/compte/mot-de-passe/definir/\S+/", str(message.body))
    assert link is not None
    assert "customer.password_reset_requested" in _verbs(customer)
    # and the link lets them choose a new password
    form_url = client.get(_path(link.group(0)))["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == HOME
    customer.user.refresh_from_db()
    assert customer.user.check_password(NEW_PASSWORD)


def test_password_reset_refuses_a_malformed_address_next_to_the_field__C3(client, db, clock):
    response = client.post(reverse("portal:password_reset"), {"email": "pas-un-email"})
    assert response.status_code == 200
    page = _text(response)
    assert 'id="id_email_error"' in page
    assert "n'est pas valide" in page
    assert mail.outbox == []


def test_password_reset_is_throttled__C3(client, customer, clock):
    url = reverse("portal:password_reset")
    for _ in range(settings.RACCORD_RATE_LIMITS["login"]):
        assert client.post(url, {"email": customer.email}).status_code == 302
    response = client.post(url, {"email": customer.email})
    assert response.status_code == 429
    assert "Trop de demandes" in response.content.decode()
