"""The order summary email (C3): its templates live with the site, the service sends them."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from raccord.conftest import VALID_IBAN, Catalogue, paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest, signup_create
from raccord.core.events import Actor
from raccord.core.models import OperatorProfile

pytestmark = pytest.mark.django_db


def _order(
    signup_request: SignupRequest, capture: Any, **changes: Any
) -> tuple[Contract, str, str]:
    for name, value in changes.items():
        setattr(signup_request, name, value)
    with capture(execute=True):
        contract = signup_create(
            request=signup_request, actor=Actor.customer(None), at=paris(2026, 3, 10, 9, 30)
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    return contract, str(message.body), str(html)


def _visible_text(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def test_order_summary_tells_every_term_of_the_order_C3(
    signup_request: SignupRequest,
    catalogue: Catalogue,
    operator_profile: OperatorProfile,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: an order at the subsidised address, with an option, SEPA, express start
    contract, text, html = _order(
        signup_request,
        django_capture_on_commit_callbacks,
        address_id=catalogue.address_subsidised.pk,
        installation_complement="Appartement 4",
        special_mentions="Portail bleu",
    )
    mandate = contract.mandate
    assert mandate is not None
    for body in (text, _visible_text(html)):
        # order and prices
        assert contract.reference in body and contract.customer.reference in body
        assert "THD Radio 30" in body and "50 Mbit/s" in body
        assert "24,90\xa0€" in body  # local monthly price
        assert "Téléphonie" in body and "5,00\xa0€" in body
        assert "29,90\xa0€" in body  # monthly total with the option
        assert "Frais de mise en service : 0,00\xa0€" in body
        assert "Conseil départemental des Vosges" in body and "49,00\xa0€" in body
        # commitment, CGV and its acceptance time, express start, special mentions
        assert "12 mois à compter de la mise en service" in body
        assert "version 2026-01, acceptées le 10 mars 2026 à 09:30" in body
        assert "Démarrage du service avant la fin du délai de rétractation : demandé" in body
        assert "Portail bleu" in body
        # withdrawal: sign-up date + 14 days, as a date
        assert "jusqu'au 24 mars 2026 inclus" in body
        # payment: mandate reference and masked IBAN only
        assert mandate.reference in body and "FR76 **** **** 0189" in body
        assert VALID_IBAN not in body
        # installation and delivery
        assert "Kit expédié par transporteur" in body
        assert "Appartement 4" in body
        # portal login and the set-password link, never a password
        assert "camille.martin@example.org" in body
        assert "/compte/mot-de-passe/definir/" in body
        assert "mot de passe :" not in body.lower()
        # customer service
        assert "03 88 00 00 00" in body and "bonjour@vallee.example" in body
        assert "Vallée Net" in body


def test_order_summary_for_cheque_without_express_start_C3(
    signup_request: SignupRequest,
    catalogue: Catalogue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _contract, text, html = _order(
        signup_request,
        django_capture_on_commit_callbacks,
        payment_method="cheque",
        iban="",
        account_holder="",
        express_start=False,
        installation_mode="installer",
        option_codes=[],
    )
    for body in (text, _visible_text(html)):
        assert "Chèque" in body and "Mandat" not in body
        assert "Démarrage du service avant la fin du délai de rétractation : non demandé" in body
        assert "installateur" in body
        assert "Option" not in body
        assert "Frais de mise en service : 49,00\xa0€" in body


def test_order_summary_plain_text_is_not_html_escaped_C3(
    signup_request: SignupRequest, catalogue: Catalogue, django_capture_on_commit_callbacks: Any
) -> None:
    _contract, text, html = _order(
        signup_request, django_capture_on_commit_callbacks, last_name="D'Arc"
    )
    assert "D'Arc" in text and "&#x27;" not in text
    assert "D&#x27;Arc" in html
