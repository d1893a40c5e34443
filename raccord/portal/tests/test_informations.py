"""Mes informations (C8): phone change, email change confirmed from the new address, moves."""

from __future__ import annotations

import html
import re

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from raccord.core.models import Event, OperatorProfile
from raccord.portal.tests.conftest import PASSWORD

INFOS = reverse("portal:informations")
PHONE = reverse("portal:phone_change")
EMAIL = reverse("portal:email_change")
LOGIN = reverse("portal:login")
NEW = "camille.nouvelle@example.org"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _count(customer, verb: str) -> int:
    return Event.objects.filter(customer_id=customer.pk, verb=verb).count()


def _confirm_path(message) -> str:
    match = re.search(r"https?://\S+(/compte/informations/email/confirmer/\S+/)", str(message.body))
    assert match is not None, message.body
    return match.group(1)


def _can_log_in(client, email: str, password: str = PASSWORD) -> bool:
    client.post(reverse("portal:logout"))
    client.post(LOGIN, {"email": email, "password": password})
    logged = client.session.get(SESSION_KEY) is not None
    client.post(reverse("portal:logout"))
    return logged


# --- identity and move -----------------------------------------------------------------


def test_identity_is_shown_read_only_and_a_move_goes_through_customer_service__C8(
    logged_in, customer
):
    profile = OperatorProfile.get()
    profile.customer_service_phone = "03 88 00 11 22"
    profile.save()
    page = _text(logged_in.get(INFOS))
    assert "Madame Camille Martin" in page
    assert customer.reference in page
    assert 'name="first_name"' not in page and 'name="last_name"' not in page
    assert "Vous déménagez ?" in page
    assert "test d'éligibilité" in page
    assert 'href="tel:0388001122"' in page
    assert 'name="address"' not in page


# --- phone -----------------------------------------------------------------------------


def test_phone_change_is_saved_and_confirmed__C8(logged_in, customer, clock):
    response = logged_in.post(PHONE, {"phone": "07 98 76 54 32"}, follow=True)
    assert response.redirect_chain == [(INFOS, 302)]
    assert "Votre numéro de téléphone est enregistré." in _text(response)
    customer.refresh_from_db()
    assert customer.phone == "0798765432"
    event = Event.objects.get(customer_id=customer.pk, verb="customer.phone_changed")
    assert event.at == clock.now()
    assert event.actor_user_id == customer.user_id


def test_a_bad_phone_gets_a_french_error_next_to_the_field_and_writes_nothing__C8(
    logged_in, customer, clock
):
    response = logged_in.post(PHONE, {"phone": "01 23"})
    assert response.status_code == 200
    page = _text(response)
    error = re.search(r'<p class="error" id="id_phone_error">(.*?)</p>', page)
    assert error is not None
    assert "numéro de téléphone français à 10 chiffres" in error.group(1)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_phone"', page)
    assert re.search(r'<input[^>]*aria-describedby="[^"]*id_phone_error[^"]*"', page)
    customer.refresh_from_db()
    assert customer.phone == "0612345678"
    assert _count(customer, "customer.phone_changed") == 0


def test_an_empty_phone_is_refused_next_to_the_field__C8(logged_in, customer):
    page = _text(logged_in.post(PHONE, {"phone": ""}))
    assert 'id="id_phone_error"' in page
    assert "Indiquez votre numéro de téléphone." in page


# --- email -----------------------------------------------------------------------------


def test_email_change_full_flow__C8(logged_in, customer, clock, django_capture_on_commit_callbacks):
    # when the customer asks for a new address
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(EMAIL, {"email": NEW}, follow=True)
    assert response.redirect_chain == [(INFOS, 302)]
    assert f"Nous avons envoyé un lien de confirmation à {NEW}" in _text(response)
    # then one link goes to the NEW address only
    [link_mail] = mail.outbox
    assert link_mail.to == [NEW]
    confirm = _confirm_path(link_mail)
    # and until it is followed the login stays the old address
    customer.refresh_from_db()
    assert customer.pending_email == NEW
    assert customer.email == "camille.martin@example.org"
    assert "attente de confirmation" in _text(logged_in.get(INFOS))
    assert _can_log_in(logged_in, "camille.martin@example.org")
    assert not _can_log_in(logged_in, NEW)
    # when the link is opened: a page with a button, nothing changed yet (mail scanners)
    page = logged_in.get(confirm)
    assert page.status_code == 200
    assert NEW in _text(page)
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"
    # and confirmed
    clock.advance(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        done = logged_in.post(confirm)
    assert done.status_code == 200
    assert f"votre adresse email est maintenant {NEW}" in _text(done)
    # then the contact address and the login both change
    customer.refresh_from_db()
    assert customer.email == NEW and customer.pending_email == ""
    assert _can_log_in(logged_in, NEW)
    assert not _can_log_in(logged_in, "camille.martin@example.org")
    # and the OLD address is told about it
    notice = mail.outbox[-1]
    assert notice.to == ["camille.martin@example.org"]
    assert NEW in notice.body
    assert len(mail.outbox) == 2
    # and the link cannot be used again
    with django_capture_on_commit_callbacks(execute=True):
        again = logged_in.post(confirm)
    assert "Ce lien a déjà été utilisé" in _text(again)
    assert len(mail.outbox) == 2
    assert _count(customer, "customer.email_changed") == 1


def test_email_change_link_expires_after_48_hours__C8(
    client, logged_in, customer, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(EMAIL, {"email": NEW})
    confirm = _confirm_path(mail.outbox[0])
    clock.advance(hours=49)
    for response in (client.get(confirm), client.post(confirm)):
        assert response.status_code == 400
        assert "Ce lien de confirmation a expiré" in _text(response)
    customer.refresh_from_db()
    assert customer.email == "camille.martin@example.org"
    assert len(mail.outbox) == 1


def test_a_mangled_confirmation_link_is_refused__C8(client, customer, clock):
    url = reverse("portal:email_confirm", kwargs={"token": "abc:def"})
    response = client.post(url)
    assert response.status_code == 400
    assert "Ce lien de confirmation n'est pas valide." in _text(response)


def test_an_email_of_another_account_is_refused_next_to_the_field__C8(
    logged_in, customer, other_customer, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(EMAIL, {"email": "Louis.Bernard@example.org"})
    assert response.status_code == 200
    page = _text(response)
    error = re.search(r'<p class="error" id="id_email_error">(.*?)</p>', page)
    assert error is not None
    assert "déjà utilisée par un autre compte" in error.group(1)
    assert mail.outbox == []
    customer.refresh_from_db()
    assert customer.pending_email == ""


def test_a_malformed_email_is_refused_next_to_the_field__C8(logged_in, customer, clock):
    page = _text(logged_in.post(EMAIL, {"email": "camille@"}))
    assert 'id="id_email_error"' in page
    assert "Cette adresse email n'est pas valide." in page


def test_the_confirmation_link_works_without_being_logged_in__C8(
    client, logged_in, customer, clock, django_capture_on_commit_callbacks
):
    # the link may be opened on another device, where the customer is not logged in
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(EMAIL, {"email": NEW})
    confirm = _confirm_path(mail.outbox[0])
    anonymous = type(client)()
    response = anonymous.post(confirm)
    assert response.status_code == 200
    assert reverse("portal:login") in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == NEW


def test_links_in_emails_point_to_the_public_address__C8(
    logged_in, customer, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(EMAIL, {"email": NEW})
    assert f"{settings.RACCORD_PUBLIC_URL}/compte/informations/email/confirmer/" in (
        mail.outbox[0].body
    )
