"""Mon Compte pages: home, Mon offre, Mes factures, and the portal navigation."""

from __future__ import annotations

import html
import uuid
from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raccord.conftest import VALID_IBAN, paris
from raccord.contracts.models import Contract, ContractOption
from raccord.contracts.services import (
    contract_activate,
    contract_equipment_receive,
    contract_installation_book,
    contract_kit_ship,
)
from raccord.contracts.signup import signup_create
from raccord.core.events import Actor
from raccord.core.models import OperatorProfile, Policy

OFFER = reverse("portal:offer")
HOME = reverse("portal:home")
SYSTEM = Actor.system()


def _text(response) -> str:
    return html.unescape(response.content.decode())


# --- home ----------------------------------------------------------------------------------


def test_home_greets_the_customer_and_says_what_comes_next__C3(logged_in, customer, contract):
    response = logged_in.get(HOME)
    assert response.status_code == 200
    page = _text(response)
    assert "Bonjour Camille" in page
    assert customer.reference in page
    assert "THD Radio 30" in page
    assert "Commandé : votre kit va être expédié." in page
    for name in ("portal:offer", "portal:invoices", "portal:informations"):
        assert reverse(name) in page


def test_home_follows_the_contract_through_delivery_and_activation__C4(logged_in, contract, clock):
    contract_kit_ship(contract=contract, on=date(2027, 1, 7), actor=SYSTEM)
    assert "Votre kit est en route" in _text(logged_in.get(HOME))
    contract_equipment_receive(contract=contract, on=date(2027, 1, 9), actor=SYSTEM)
    page = _text(logged_in.get(HOME))
    assert "matériel reçu, en attente de la première connexion" in page
    # what to do, and the date the line starts anyway (reception + 30 days, C4)
    assert "Branchez votre équipement" in page
    assert "au plus tard le 8 février 2027 même sans connexion" in page
    contract_activate(contract=contract, on=date(2027, 1, 12), source="radius", actor=SYSTEM)
    page = _text(logged_in.get(HOME))
    assert "actif depuis le 12 janvier 2027" in page
    assert page.lower().count("actif depuis le 12 janvier 2027") == 1  # said once, not twice


def test_home_for_an_installer_visit_says_an_appointment_will_be_set__C3(
    client, signup_request, catalogue
):
    signup_request.installation_mode = "installer"
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    client.force_login(contract.customer.user)
    assert "rendez-vous d'installation" in _text(client.get(HOME))
    # once booked, the subscriber sees the day (and the agents on the customer's page)
    contract_installation_book(
        contract=contract, on=date(2027, 1, 6), appointment=date(2027, 1, 14), actor=SYSTEM
    )
    assert "Rendez-vous d'installation le 14 janvier 2027" in _text(client.get(HOME))
    contract.refresh_from_db()
    assert contract.installation_appointment == date(2027, 1, 14)
    # the technician came and plugged it in: no "branchez" for the subscriber (C4)
    contract_equipment_receive(contract=contract, on=date(2027, 1, 14), actor=SYSTEM)
    page = _text(client.get(HOME))
    assert "Votre équipement est en place" in page and "Branchez" not in page
    assert "au plus tard le 13 février 2027" in page


# --- Mon offre -----------------------------------------------------------------------------


def test_mon_offre_shows_the_signed_offer_before_activation__C7(logged_in, contract):
    # given a THD Radio 30 with the phone option, signed online with a SEPA mandate
    # when the customer opens Mon offre
    response = logged_in.get(OFFER)
    # then every term of the contract is there, in French
    assert response.status_code == 200
    page = _text(response)
    assert "THD Radio 30" in page
    assert "jusqu'à 30 Mbit/s en réception et 5 Mbit/s en envoi" in page
    assert "29,90\u00a0€ TTC par mois" in page
    assert "Téléphonie : 5,00\u00a0€ TTC par mois" in page
    assert "34,90\u00a0€ TTC par mois" in page  # total: offer + option
    assert "commandé" in page
    assert "12 Rue des Écoles, 67000 Strasbourg" in page
    assert "pas encore activée" in page
    assert "engagement de 12 mois, qui commencera à la mise en service" in page
    assert contract.network_login in page
    mandate = contract.mandate
    assert mandate is not None
    assert f"Mandat n° {mandate.reference}" in page
    assert mandate.iban_masked in page
    assert "Prélèvement SEPA" in page
    # and the IBAN never appears in clear
    assert VALID_IBAN not in page
    assert VALID_IBAN[4:-4] not in page


def test_mon_offre_after_activation_shows_the_commitment_dates__C7(logged_in, contract, clock):
    contract_equipment_receive(contract=contract, on=date(2027, 1, 9), actor=SYSTEM)
    contract_activate(contract=contract, on=date(2027, 1, 20), source="radius", actor=SYSTEM)
    page = _text(logged_in.get(OFFER))
    assert "le 20 janvier 2027" in page
    assert "engagement de 12 mois, du 20 janvier 2027 au 19 janvier 2028" in page
    assert "pas encore activée" not in page


def test_mon_offre_says_when_the_commitment_is_over__C7(logged_in, contract, clock):
    # given a contract signed and activated two years before the portal's today (2027-01-10)
    Contract.objects.filter(pk=contract.pk).update(signup_date=date(2025, 1, 5))
    contract.refresh_from_db()
    contract_activate(contract=contract, on=date(2025, 1, 20), source="radius", actor=SYSTEM)
    page = _text(logged_in.get(OFFER))
    assert "terminé le 19 janvier 2026" in page
    assert "continue sans engagement" in page


def test_mon_offre_without_commitment_says_so__C7(client, signup_request, catalogue):
    catalogue.thd30.commitment_months = 0
    catalogue.thd30.save()
    signup_request.payment_method = "cheque"
    signup_request.iban = ""
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    client.force_login(contract.customer.user)
    page = _text(client.get(OFFER))
    assert "sans engagement" in page
    assert "commencera à la mise en service" not in page
    assert "Chèque" in page
    assert "Mandat n°" not in page


def _second_contract(contract: Contract) -> Contract:
    """A second contract for the same customer (a second home), copied from the first."""
    options = list(contract.options.all())
    contract.pk = None
    contract.id = None
    contract.reference = "CT9999999"
    contract.network_login = "rc99999999"
    contract.signup_key = uuid.uuid4()
    contract.save()
    ContractOption.objects.bulk_create(
        ContractOption(
            contract=contract,
            option=o.option,
            label=o.label,
            monthly_price=o.monthly_price,
            vat_rate=o.vat_rate,
        )
        for o in options
    )
    return contract


def test_mon_offre_reads_a_fixed_number_of_queries_whatever_the_contracts__C7(
    logged_in, contract, django_assert_max_num_queries
):
    OperatorProfile.get()  # the profile row exists on any installed instance
    # given one contract: session, user, customer, contracts, options, operator profile
    with django_assert_max_num_queries(6):
        assert logged_in.get(OFFER).status_code == 200
    with CaptureQueriesContext(connection) as one:
        logged_in.get(OFFER)
    # when the customer has a second contract
    Contract.objects.get(pk=_second_contract(Contract.objects.get(pk=contract.pk)).pk)
    with CaptureQueriesContext(connection) as two:
        response = logged_in.get(OFFER)
    # then both are shown and the page still costs the same number of queries
    assert "CT9999999" in _text(response)
    assert len(two.captured_queries) == len(one.captured_queries), [
        q["sql"] for q in two.captured_queries
    ]


# --- Mes factures --------------------------------------------------------------------------


def test_mes_factures_explains_the_billing_calendar_while_empty__B1_P1(logged_in, customer):
    # given an operator who bills on the 3rd and debits on the 8th
    policy = Policy.get()
    policy.invoice_day, policy.debit_day = 3, 8
    policy.save()
    # when the customer opens Mes factures
    response = logged_in.get(reverse("portal:invoices"))
    # then the empty state says so, with the operator's days
    assert response.status_code == 200
    page = _text(response)
    assert "Vous n'avez pas encore de facture." in page
    assert "émises le 3 de chaque mois" in page
    assert "prélevé le 8 du même mois" in page


def test_mes_factures_uses_the_default_days__B1_P1(logged_in, customer):
    page = _text(logged_in.get(reverse("portal:invoices")))
    assert "émises le 2 de chaque mois" in page
    assert "prélevé le 5 du même mois" in page


# --- navigation ----------------------------------------------------------------------------


def test_the_portal_navigation_marks_the_current_section_and_logs_out_by_post(logged_in, customer):
    page = logged_in.get(reverse("portal:informations")).content.decode()
    assert f'href="{reverse("portal:informations")}" aria-current="page"' in page
    assert f'href="{reverse("portal:offer")}" aria-current' not in page
    assert f'<form method="post" action="{reverse("portal:logout")}">' in page
    assert "portal/portal.css" in page
    for label in ("Accueil", "Mon offre", "Mes factures", "Mes informations", "Déconnexion"):
        assert label in page
