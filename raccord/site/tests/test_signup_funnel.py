"""The online sign-up funnel (C2), driven with the Django test client."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from raccord.catalog.models import CGVVersion
from raccord.conftest import VALID_IBAN, Catalogue
from raccord.contracts.models import Contract
from raccord.customers.models import Customer
from raccord.payments.models import Mandate
from raccord.site.funnel import SESSION_KEY
from raccord.site.tests.helpers import STEP_ORDER, FunnelWalker, errors_of, step_url

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        Customer.objects.count(),
        Contract.objects.count(),
        Mandate.objects.count(),
        get_user_model().objects.count(),
    )


def assert_error_next_to_field(html: str, field: str, message: str) -> None:
    """The French message sits in an element with id ``id_<field>-error``, which the input
    (or its group) references with aria-describedby and, for inputs, aria-invalid."""
    error_id = f"id_{field}-error"
    assert f'id="{error_id}">{escape(message)}<' in html, (field, message, html[:200])
    assert f'aria-describedby="{error_id}' in html
    assert 'aria-invalid="true"' in html
    # the error summary at the top repeats it
    assert 'class="error-summary"' in html


# --- the happy path --------------------------------------------------------------------------


def test_funnel_end_to_end_creates_one_order_and_sends_the_summary_C2_C3(
    client: Client,
    walker: FunnelWalker,
    catalogue: Catalogue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: every step completed
    walker.walk_to("recapitulatif")
    summary = client.get(step_url("recapitulatif"))
    assert summary.status_code == 200
    # when: the order is validated with the express start request
    with django_capture_on_commit_callbacks(execute=True):
        response = walker.submit(express_start="1")
    # then: one customer, one contract, one mandate, one email
    assert response.status_code == 302, errors_of(response)
    contract = Contract.objects.get()
    assert response.url == reverse("site:signup_confirmation", args=[contract.reference])
    assert _counts() == (1, 1, 1, 1)
    customer = contract.customer
    assert (customer.civility, customer.first_name, customer.last_name) == (
        "mme",
        "Camille",
        "Martin",
    )
    assert customer.email == "camille.martin@example.org"
    assert customer.phone == "0612345678"
    assert str(customer.birth_date) == "1985-07-14"
    assert contract.offer.code == "THD30"
    assert [o.option.code for o in contract.options.all()] == ["TEL"]
    assert contract.channel == Contract.Channel.ONLINE
    assert contract.signup_ip == "127.0.0.1"
    assert contract.cgv_version == catalogue.cgv and contract.cgv_accepted_at is not None
    assert contract.express_start is True
    assert contract.installation_mode == Contract.InstallationMode.KIT
    assert contract.installation_complement == "Bâtiment B, 2e étage"
    assert contract.delivery_address == "Bâtiment B, 2e étage, 12 Rue des Écoles"
    assert contract.delivery_city == "Strasbourg"
    assert contract.payment_method == Contract.PaymentMethod.SEPA
    assert contract.mandate is not None and contract.mandate.iban == VALID_IBAN
    assert contract.mandate.debtor_name == "Camille Martin"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["camille.martin@example.org"]
    # the funnel state is gone (no IBAN left in the session), the confirmation is viewable
    assert SESSION_KEY not in client.session
    confirmation = client.get(response.url).content.decode()
    assert contract.reference in confirmation
    assert "camille.martin@example.org" in confirmation
    assert "mot de passe" in confirmation


def test_funnel_summary_shows_everything_typed_prices_and_cgv_C2(
    client: Client, walker: FunnelWalker, catalogue: Catalogue
) -> None:
    # given: the subsidised address (local price 24.90, set-up fee 49.00 fully subsidised)
    walker.walk_to("recapitulatif", address_id=catalogue.address_subsidised.pk)
    # when
    html = client.get(step_url("recapitulatif")).content.decode()
    # then: what was typed
    assert "Madame Camille Martin" in html
    assert "camille.martin@example.org" in html and "0612345678" in html
    assert "14 juillet 1985" in html
    assert "Bâtiment B, 2e étage, 3 Place du Marché, 88100 Saint-Dié-des-Vosges" in html
    # prices: local monthly price + option, set-up fee after subsidy, who subsidises
    assert "24,90\xa0€" in html and "5,00\xa0€" in html and "29,90\xa0€" in html
    assert "<strong>0,00\xa0€</strong>" in html
    assert "Conseil départemental des Vosges prend en charge 49,00\xa0€" in html
    assert "12 mois à compter de la mise en service" in html
    # payment: masked IBAN, derived bank and BIC; never the IBAN in clear
    assert "FR76 **** **** 0189" in html and VALID_IBAN not in html
    assert "AGRIFRPP" in html
    # the CGV in force, its download link, the acceptance box and the express-start explanation
    assert "Version 2026-01" in html
    assert reverse("site:cgv_version", args=["2026-01"]) in html
    assert '<label for="id_cgv_accepted">J&#x27;ai lu et j&#x27;accepte' in html or (
        "<label for=\"id_cgv_accepted\">J'ai lu et j'accepte" in html
    )
    assert 'id="id_express_start"' in html and "vous paierez seulement les jours" in html
    assert "Valider ma commande" in html and "Précédent" in html


def test_funnel_with_other_delivery_address_C2(
    walker: FunnelWalker, django_capture_on_commit_callbacks: Any
) -> None:
    walker.walk_to(
        "recapitulatif",
        overrides={
            "adresses": {
                "delivery_same_as_installation": "0",
                "delivery_name": "Camille Martin c/o Mairie",
                "delivery_address": "1 place de la Mairie",
                "delivery_postal_code": "67100",
                "delivery_city": "Strasbourg",
            }
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        walker.submit()
    contract = Contract.objects.get()
    assert contract.delivery_name == "Camille Martin c/o Mairie"
    assert (contract.delivery_address, contract.delivery_postal_code) == (
        "1 place de la Mairie",
        "67100",
    )


def test_funnel_cheque_path_creates_no_mandate_C2(
    walker: FunnelWalker, django_capture_on_commit_callbacks: Any
) -> None:
    walker.walk_to(
        "recapitulatif",
        overrides={"paiement": {"payment_method": "cheque", "iban": "", "account_holder": ""}},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = walker.submit()
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert contract.payment_method == Contract.PaymentMethod.CHEQUE
    assert contract.mandate is None and Mandate.objects.count() == 0
    assert "chèque" in mail.outbox[0].body.lower()


def test_funnel_equipped_premises_offers_the_equipped_mode_C1_C2(
    client: Client,
    walker: FunnelWalker,
    catalogue: Catalogue,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: an address whose premises are already equipped
    walker.walk_to("installation", address_id=catalogue.address_equipped.pk)
    html = client.get(step_url("installation")).content.decode()
    assert 'value="equipped"' in html and "Logement déjà équipé" in html
    assert "environ 5 jours" in html
    # when
    response = walker.post("installation", installation_mode="equipped")
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        walker.submit()
    # then
    contract = Contract.objects.get()
    assert contract.installation_mode == Contract.InstallationMode.EQUIPPED
    assert contract.premises is not None and contract.premises.address == catalogue.address_equipped


def test_funnel_equipped_mode_not_offered_elsewhere_and_refused_if_forced_C2(
    client: Client, walker: FunnelWalker
) -> None:
    walker.walk_to("installation")
    html = client.get(step_url("installation")).content.decode()
    assert 'value="equipped"' not in html
    response = walker.post("installation", installation_mode="equipped")
    assert response.status_code == 200
    assert_error_next_to_field(
        response.content.decode(),
        "installation_mode",
        "Ce logement n'est pas équipé de notre matériel : choisissez l'envoi du kit ou un installateur.",
    )


def test_funnel_installer_visit_C2(
    walker: FunnelWalker, django_capture_on_commit_callbacks: Any
) -> None:
    walker.walk_to("recapitulatif", overrides={"installation": {"installation_mode": "installer"}})
    with django_capture_on_commit_callbacks(execute=True):
        walker.submit()
    assert Contract.objects.get().installation_mode == Contract.InstallationMode.INSTALLER
    assert "installateur" in mail.outbox[0].body


# --- bad input: a French error next to the field, nothing written ----------------------------

BAD_INPUTS = [
    ("offre", {"offer_code": ""}, "offer_code", "Choisissez une offre."),
    (
        "offre",
        {"option_codes": ["NOPE"]},
        "option_codes",
        "L'option « NOPE » n'est pas disponible avec cette offre.",
    ),
    ("coordonnees", {"first_name": "  "}, "first_name", "Indiquez votre prénom."),
    ("coordonnees", {"last_name": ""}, "last_name", "Indiquez votre nom."),
    ("coordonnees", {"email": "camille@"}, "email", "Cette adresse email n'est pas valide."),
    (
        "coordonnees",
        {"phone": "12"},
        "phone",
        "Indiquez un numéro de téléphone français à 10 chiffres, par exemple 06 12 34 56 78.",
    ),
    (
        "coordonnees",
        {"birth_date": "2015-01-01"},
        "birth_date",
        "Il faut être majeur pour souscrire.",
    ),
    (
        "coordonnees",
        {"birth_date": "31/02/1990"},
        "birth_date",
        "Cette date n'existe pas : indiquez-la sous la forme JJ/MM/AAAA, par exemple 14/07/1985.",
    ),
    ("coordonnees", {"civility": "x"}, "civility", "Civilité inconnue."),
    (
        "adresses",
        {
            "delivery_same_as_installation": "0",
            "delivery_address": "",
            "delivery_postal_code": "67",
            "delivery_city": "S",
        },
        "delivery_postal_code",
        "Le code postal compte 5 chiffres.",
    ),
    (
        "adresses",
        {
            "delivery_same_as_installation": "0",
            "delivery_address": "",
            "delivery_postal_code": "67000",
            "delivery_city": "S",
        },
        "delivery_address",
        "Indiquez l'adresse de livraison.",
    ),
    ("paiement", {"payment_method": ""}, "payment_method", "Choisissez un mode de paiement."),
    (
        "paiement",
        {"iban": "FR7630006000011234567890188"},
        "iban",
        "Cet IBAN n'est pas valide : vérifiez les caractères saisis (clé de contrôle ou clé RIB incorrecte).",
    ),
    ("paiement", {"account_holder": ""}, "account_holder", "Indiquez le titulaire du compte."),
    (
        "installation",
        {"installation_mode": ""},
        "installation_mode",
        "Choisissez un mode d'installation.",
    ),
    (
        "recapitulatif",
        {"cgv_accepted": "", "cgv_version_id": "", "action": "next"},
        "cgv_accepted",
        "Vous devez accepter les conditions générales de vente.",
    ),
]


@pytest.mark.parametrize(("step", "changes", "field", "message"), BAD_INPUTS)
def test_funnel_bad_input_shows_french_error_next_to_field_and_writes_nothing_C2(
    client: Client,
    walker: FunnelWalker,
    step: str,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    # given
    walker.walk_to(step)
    before = _counts()
    # when
    if step == "recapitulatif":
        response = client.post(step_url(step), changes)
    else:
        response = walker.post(step, **changes)
    # then: the same step again, the error next to its field, the typed value kept
    assert response.status_code == 200
    html = response.content.decode()
    assert_error_next_to_field(html, field, message)
    assert html.count('class="error-summary"') == 1
    assert "<title>Erreur" in html
    assert _counts() == before == (0, 0, 0, 0)
    assert len(mail.outbox) == 0
    # and the next step stays out of reach
    if step != "recapitulatif":
        following = STEP_ORDER[STEP_ORDER.index(step) + 1]
        assert client.get(step_url(following))["Location"] == step_url(step)


def test_funnel_email_already_used_is_refused_at_the_identity_step_C2(
    walker: FunnelWalker, django_user_model: Any
) -> None:
    django_user_model.objects.create(username="x", email="camille.martin@example.org")
    walker.walk_to("coordonnees")
    response = walker.post("coordonnees")
    assert response.status_code == 200
    assert "Un compte existe déjà avec cette adresse email" in response.content.decode()


def test_funnel_email_taken_before_submit_shows_error_with_link_to_step_C2(
    client: Client, walker: FunnelWalker, django_user_model: Any
) -> None:
    # given: the email gets used by someone else once the summary is reached
    walker.walk_to("recapitulatif")
    django_user_model.objects.create(username="x", email="camille.martin@example.org")
    # when
    response = walker.submit()
    # then: the summary page sends the person back to the identity step; nothing written
    if response.status_code == 302:
        response = client.get(response.url)
    html = response.content.decode()
    assert "Un compte existe déjà avec cette adresse email" in html
    assert Contract.objects.count() == 0 and Customer.objects.count() == 0


def test_funnel_cgv_changed_while_reading_must_be_accepted_again_C2(
    walker: FunnelWalker, catalogue: Catalogue
) -> None:
    walker.walk_to("recapitulatif")
    CGVVersion.objects.create(version="2026-06", effective_date=date(2026, 6, 1))
    response = walker.submit(cgv_version_id=catalogue.cgv.pk)
    assert response.status_code == 200
    assert "Les conditions générales de vente ont changé" in response.content.decode()
    assert Contract.objects.count() == 0


# --- navigation ------------------------------------------------------------------------------


def test_funnel_going_back_keeps_what_was_typed_C2(client: Client, walker: FunnelWalker) -> None:
    # given: steps 1-3 done, the IBAN typed on step 4, then "Précédent"
    walker.walk_to("paiement")
    response = walker.post(
        "paiement",
        payment_method="sepa",
        iban="FR76 3000 6000 0112 3456 7890 189",
        account_holder="C. Martin",
        action="back",
    )
    # then: back to step 3, everything still there
    assert response.status_code == 302 and response.url == step_url("adresses")
    addresses = client.get(step_url("adresses")).content.decode()
    assert 'value="Bâtiment B, 2e étage"' in addresses
    identity = client.get(step_url("coordonnees")).content.decode()
    assert 'value="camille.martin@example.org"' in identity
    assert 'value="06 12 34 56 78"' in identity
    assert 'value="1985-07-14"' in identity
    assert '<option value="mme" selected>' in identity
    offer = client.get(step_url("offre")).content.decode()
    assert 'value="THD30" checked' in offer and 'value="TEL" checked' in offer
    payment = client.get(step_url("paiement")).content.decode()
    assert 'value="FR76 3000 6000 0112 3456 7890 189"' in payment
    assert 'value="C. Martin"' in payment


def test_funnel_back_from_first_step_returns_to_the_eligibility_result(
    walker: FunnelWalker, catalogue: Catalogue
) -> None:
    walker.start()
    response = walker.post("offre", action="back")
    assert response.url == reverse("site:eligibility_result", args=[catalogue.address.pk])


def test_funnel_every_step_has_labelled_inputs_and_buttons_C2(
    client: Client, walker: FunnelWalker
) -> None:
    walker.walk_to("recapitulatif")
    for step in STEP_ORDER:
        html = client.get(step_url(step)).content.decode()
        assert "csrfmiddlewaretoken" in html
        assert "Précédent" in html
        assert ("Valider ma commande" if step == "recapitulatif" else "Continuer") in html
        # every visible input has a <label for=...>
        for input_id in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html):
            assert f'<label for="{input_id}"' in html, (step, input_id)


def test_funnel_skipping_steps_redirects_to_the_first_missing_one_C2(
    client: Client, walker: FunnelWalker
) -> None:
    # without any address: to the eligibility test
    response = client.get(step_url("paiement"))
    assert response["Location"] == reverse("site:eligibility")
    # after step 1 only: to step 2, whatever later step is asked for
    walker.start()
    walker.post("offre")
    for later in ("adresses", "paiement", "installation", "recapitulatif"):
        assert client.get(step_url(later))["Location"] == step_url("coordonnees")
    assert client.post(step_url("recapitulatif"), {"cgv_accepted": "1"})["Location"] == step_url(
        "coordonnees"
    )
    assert Contract.objects.count() == 0
    # /inscription/ resumes at the first missing step
    assert client.get(reverse("site:signup_start"))["Location"] == step_url("coordonnees")
    assert client.get("/inscription/nimporte/").status_code == 404


def test_funnel_start_requires_a_known_address(client: Client, catalogue: Catalogue) -> None:
    response = client.post(reverse("site:signup_start"), {"address_id": "999999"})
    assert response["Location"] == reverse("site:eligibility")


def test_funnel_new_address_starts_afresh_C2(
    client: Client, walker: FunnelWalker, catalogue: Catalogue
) -> None:
    walker.walk_to("paiement")
    key = client.session[SESSION_KEY]["signup_key"]
    walker.start(address_id=catalogue.address_subsidised.pk)
    assert client.session[SESSION_KEY]["signup_key"] != key
    assert client.get(step_url("coordonnees"))["Location"] == step_url("offre")


def test_funnel_uncovered_address_cannot_subscribe_C1(
    client: Client, walker: FunnelWalker, catalogue: Catalogue
) -> None:
    walker.start(address_id=catalogue.address_uncovered.pk, offer_code="THD30")
    html = client.get(step_url("offre")).content.decode()
    assert "Aucune de nos offres n&#x27;est disponible" in html
    response = walker.post("offre")
    assert response.status_code == 200
    assert client.get(step_url("coordonnees"))["Location"] == step_url("offre")


def test_funnel_double_submit_creates_one_order_C2(
    client: Client, walker: FunnelWalker, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    walker.walk_to("recapitulatif")
    state = dict(client.session[SESSION_KEY])
    done = list(client.session["signup_done"])
    # when: submitted, then submitted again (a second click after the first went through)
    with django_capture_on_commit_callbacks(execute=True):
        first = walker.submit()
    with django_capture_on_commit_callbacks(execute=True):
        again = walker.submit()
    # and a concurrent double click: the second request still carries the funnel state
    session = client.session
    session[SESSION_KEY] = state
    session["signup_done"] = done
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        concurrent = walker.submit()
    # then: one order, one email, every response leads to the same confirmation
    assert Contract.objects.count() == 1 and Customer.objects.count() == 1
    assert len(mail.outbox) == 1
    assert first.url == again.url == concurrent.url
    assert client.get(first.url).status_code == 200


def test_confirmation_is_only_visible_to_the_session_that_ordered_C2(
    client: Client, walker: FunnelWalker, django_capture_on_commit_callbacks: Any
) -> None:
    walker.walk_to("recapitulatif")
    with django_capture_on_commit_callbacks(execute=True):
        response = walker.submit()
    assert client.get(response.url).status_code == 200
    assert Client().get(response.url).status_code == 404
    assert client.get(reverse("site:signup_confirmation", args=["CT9999999"])).status_code == 404


def test_funnel_final_submit_is_rate_limited_per_ip_C2(
    client: Client,
    walker: FunnelWalker,
    catalogue: Catalogue,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: one order per hour allowed, already used from this address
    settings.RACCORD_RATE_LIMITS = {**settings.RACCORD_RATE_LIMITS, "signup": 1}
    walker.walk_to("recapitulatif")
    with django_capture_on_commit_callbacks(execute=True):
        assert walker.submit().status_code == 302
    # when: a second order from the same address
    walker.walk_to(
        "recapitulatif",
        overrides={"coordonnees": {"email": "autre@example.org"}},
    )
    response = walker.submit()
    # then
    assert response.status_code == 429
    assert "Trop de commandes" in response.content.decode()
    assert Contract.objects.count() == 1


def test_funnel_forms_require_csrf_C2(catalogue: Catalogue) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("site:signup_start"), {"address_id": catalogue.address.pk, "offer_code": "THD30"}
    )
    assert response.status_code == 403


def test_funnel_payment_step_shows_bank_after_validation_C2(
    client: Client, walker: FunnelWalker
) -> None:
    walker.walk_to("paiement")
    response = walker.post("paiement")
    following = client.get(response.url).content.decode()
    assert "IBAN vérifié" in following and "AGRIFRPP" in following
    again = client.get(step_url("paiement")).content.decode()
    assert "BIC AGRIFRPP" in again


def test_funnel_summary_query_count(
    client: Client, walker: FunnelWalker, django_assert_max_num_queries: Any
) -> None:
    walker.walk_to("recapitulatif")
    with django_assert_max_num_queries(18):
        assert client.get(step_url("recapitulatif")).status_code == 200
