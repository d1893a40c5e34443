"""The whole sign-up journey in a real browser (C1, C2, C3): eligibility test of an address,
the funnel to the confirmation page, the order summary received by a real SMTP server, its link
to set a password, and Mon Compte."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from raccord.contracts.models import Contract
from raccord.e2e.tests.conftest import SmtpSink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "juliette.roche@example.org"
PASSWORD = "Colombage-67-Strasbourg"


def _wait_for_mail(sink: SmtpSink, address: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sink.to(address)
        if messages:
            return messages[0]
        time.sleep(0.1)
    raise AssertionError(f"no email reached {address} within {timeout}s")


def _text_of(message: Any) -> str:
    if message.is_multipart():
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return str(
                    part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                )
    return str(message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8"))


def test_from_eligibility_to_mon_compte__C1_C2_C3(
    live_server: Any, smtp_server: SmtpSink, browser_page: Any, catalogue: Any, settings: Any
) -> None:
    settings.RACCORD_PUBLIC_URL = live_server.url
    page = browser_page

    # given a prospect testing an address the Alsace zone covers
    page.goto(f"{live_server.url}/eligibilite/")
    page.get_by_label("Votre adresse").fill("12 rue des ecoles strasbourg")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="12 Rue des Écoles, 67000 Strasbourg").click()
    # then the offers of the zone are shown with their price
    page.get_by_role("button", name="Souscrire à l'offre THD Radio 30").wait_for()
    expect(page.locator("body")).to_contain_text("29,90")

    # when the prospect subscribes, step by step
    page.get_by_role("button", name="Souscrire à l'offre THD Radio 30").click()
    page.get_by_label("THD Radio 30").check()
    page.get_by_label("Téléphonie").check()
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("Civilité").select_option(label="Madame")
    page.get_by_label("Prénom").fill("Juliette")
    page.get_by_label("Nom", exact=True).fill("Roche")
    page.get_by_label("Adresse email").fill(EMAIL)
    page.get_by_label("Téléphone").fill("06 98 76 54 32")
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("À l'adresse d'installation").check()
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("Prélèvement SEPA").check()
    # a wrong RIB key is refused next to the field, in French
    page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 188")
    page.get_by_label("Titulaire du compte").fill("Juliette Roche")
    page.get_by_role("button", name="Continuer").click()
    # (expect waits: a bare page.content() right after a click can read the page being left)
    expect(page.locator("body")).to_contain_text(re.compile("IBAN n['’]est pas valide"))
    page.get_by_label("IBAN").fill("FR76 3000 6000 0112 3456 7890 189")
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label("Envoi du kit par transporteur").check()
    page.get_by_role("button", name="Continuer").click()

    page.get_by_label(re.compile("J'ai lu et j'accepte les conditions générales de vente")).check()
    page.get_by_label(re.compile("Je demande que le service démarre")).check()
    page.get_by_role("button", name="Valider ma commande").click()

    # then the confirmation page is shown and one order exists
    page.get_by_role("heading", name="Merci, votre commande est enregistrée").wait_for()
    contract = Contract.objects.select_related("customer", "mandate").get(customer__email=EMAIL)
    assert contract.status == Contract.Status.ORDERED
    assert contract.channel == "online" and contract.express_start is True
    assert contract.mandate is not None and contract.mandate.bic.startswith("AGRIFRPP")
    assert [o.option.code for o in contract.options.all()] == ["TEL"]

    # and the order summary reached a real SMTP server, with a link and no password
    message = _wait_for_mail(smtp_server, EMAIL)
    body = _text_of(message)
    assert contract.reference in body
    match = re.search(rf"{re.escape(live_server.url)}/compte/mot-de-passe/definir/\S+/", body)
    assert match, body

    # when the subscriber follows the link and chooses a password
    page.goto(match.group(0))
    page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()

    # then Mon Compte shows the order
    page.get_by_role("link", name="Mon offre").first.click()
    expect(page).to_have_url(re.compile(r"/compte/offre/$"))
    expect(page.locator("body")).to_contain_text("THD Radio 30")
    expect(page.locator("body")).to_contain_text(contract.reference)

    # and the password works for a fresh login
    page.get_by_role("button", name="Déconnexion").click()
    page.goto(f"{live_server.url}/compte/connexion/")
    page.get_by_label("Adresse email").fill(EMAIL.upper())
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Mon offre").first.wait_for()
    expect(page.locator("body")).to_contain_text("Juliette")
