"""Public pages: home, offers, eligibility test (C1), FAQ, CGV download."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from raccord.catalog.models import CGVVersion, Offer
from raccord.conftest import Catalogue
from raccord.core.models import OperatorProfile
from raccord.site.models import FaqEntry

pytestmark = pytest.mark.django_db


def test_layout_has_skip_link_nav_operator_and_footer(
    client: Client, operator_profile: OperatorProfile
) -> None:
    # when
    html = client.get(reverse("site:home")).content.decode()
    # then
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert "Vallée Net" in html
    for label, url in [
        ("Offres", reverse("site:offers")),
        ("Éligibilité", reverse("site:eligibility")),
        ("FAQ", reverse("site:faq")),
        ("Mon Compte", reverse("portal:home")),
    ]:
        assert f'href="{url}"' in html and label in html
    assert "03 88 00 00 00" in html and "Vallée Net SCIC SA" in html


def test_layout_shows_django_messages(client: Client, catalogue: Catalogue) -> None:
    # given: the funnel reached without an address sets a message and redirects
    response = client.get(reverse("site:signup_start"), follow=True)
    # then
    assert "commencez par tester votre adresse" in response.content.decode()


def test_home_page_renders_search_and_offers_C1(client: Client, catalogue: Catalogue) -> None:
    response = client.get(reverse("site:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_q">' in html
    assert "THD Radio 30" in html and "Fibre 300" in html


def test_offers_page_lists_active_offers_with_national_prices_C1(
    client: Client, catalogue: Catalogue
) -> None:
    # given: an offer withdrawn from sale
    Offer.objects.create(
        code="OLD",
        label="Ancienne offre ADSL",
        technology="radio",
        download_mbps=8,
        upload_mbps=1,
        monthly_price=Decimal("19.90"),
    )
    Offer.objects.filter(code="OLD").update(is_active=False)
    # when
    response = client.get(reverse("site:offers"))
    html = response.content.decode()
    # then
    assert response.status_code == 200
    assert "THD Radio 30" in html and "29,90\xa0€" in html
    assert "Fibre 300" in html and "39,90\xa0€" in html
    assert "24 mois" in html and "12 mois" in html
    assert "jusqu’à 300 Mbit/s" in html
    assert "Téléphonie" in html and "5,00\xa0€" in html
    assert "Ancienne offre ADSL" not in html
    # local prices depend on the address: the page sends to the eligibility test
    assert reverse("site:eligibility") in html and "prix nationaux" in html


def test_eligibility_search_without_javascript_lists_addresses_C1(
    client: Client, catalogue: Catalogue
) -> None:
    response = client.get(reverse("site:eligibility"), {"q": "écoles strasbourg"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "12 Rue des Écoles, 67000 Strasbourg" in html
    assert reverse("site:eligibility_result", args=[catalogue.address.pk]) in html


def test_eligibility_search_too_short_or_unknown_says_so(
    client: Client, catalogue: Catalogue
) -> None:
    short = client.get(reverse("site:eligibility"), {"q": "ru"}).content.decode()
    assert "au moins 3 caractères" in short
    unknown = client.get(reverse("site:eligibility"), {"q": "zzzqqq"}).content.decode()
    assert "Aucune adresse trouvée" in unknown


def test_eligibility_suggestions_fragment_is_small_and_fast_C1(
    client: Client, catalogue: Catalogue, django_assert_max_num_queries: Any
) -> None:
    # when: the type-ahead asks for suggestions
    with django_assert_max_num_queries(3):
        response = client.get(reverse("site:eligibility_suggestions"), {"q": "Colmar"})
    html = response.content.decode()
    # then: only the list, not a whole page
    assert response.status_code == 200
    assert "<html" not in html and "7 Chemin du Moulin, 68000 Colmar" in html


def test_eligibility_result_covered_address_shows_offers_and_subscribe_C1(
    client: Client, catalogue: Catalogue, django_assert_max_num_queries: Any
) -> None:
    # given: the operator profile exists (its first read creates it)
    OperatorProfile.get()
    # when: a constant number of queries, whatever the number of offers and options
    with django_assert_max_num_queries(6):
        response = client.get(reverse("site:eligibility_result", args=[catalogue.address.pk]))
    html = response.content.decode()
    # then
    assert response.status_code == 200
    assert "2 offres sont disponibles" in html
    assert "THD Radio 30" in html and "Fibre 300" in html
    assert "environ 15 jours" in html
    assert "12 mois" in html and "24 mois" in html
    assert html.count('name="offer_code"') == 2
    assert html.count("csrfmiddlewaretoken") == 2
    assert "Souscrire" in html
    assert "Logement déjà équipé" not in html


def test_eligibility_result_subsidised_address_shows_local_price_and_authority_C1(
    client: Client, catalogue: Catalogue
) -> None:
    response = client.get(
        reverse("site:eligibility_result", args=[catalogue.address_subsidised.pk])
    )
    html = response.content.decode()
    # local price 24.90 instead of 29.90, set-up fee 49.00 fully subsidised, local speed 50
    assert "24,90\xa0€ par mois" in html and "au lieu de 29,90\xa0€" in html
    assert "<strong>0,00\xa0€</strong>" in html
    assert "Conseil départemental des Vosges prend en charge 49,00\xa0€" in html
    assert "jusqu’à 50 Mbit/s" in html
    assert "Fibre 300" not in html


def test_eligibility_result_equipped_premises_is_flagged_with_shorter_lead_time_C1(
    client: Client, catalogue: Catalogue
) -> None:
    response = client.get(reverse("site:eligibility_result", args=[catalogue.address_equipped.pk]))
    html = response.content.decode()
    assert "Logement déjà équipé" in html
    assert "environ 5 jours" in html and "environ 15 jours" not in html


def test_eligibility_result_uncovered_address_is_kind_and_gives_phone_C1(
    client: Client, catalogue: Catalogue, operator_profile: OperatorProfile
) -> None:
    for address in (catalogue.address_uncovered, catalogue.address_excluded):
        response = client.get(reverse("site:eligibility_result", args=[address.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Nous ne desservons pas encore cette adresse" in html
        assert "Appelez-nous au 03 88 00 00 00" in html
        assert "Souscrire" not in html


def test_eligibility_result_unknown_address_is_404(client: Client, catalogue: Catalogue) -> None:
    assert client.get(reverse("site:eligibility_result", args=[999999])).status_code == 404


def test_faq_shows_published_entries_by_category_as_plain_text(client: Client, db: None) -> None:
    # given: the operator edits the FAQ (starter entries removed)
    FaqEntry.objects.all().delete()
    FaqEntry.objects.create(
        category="Facturation",
        question="Quand suis-je prélevé ?",
        answer="Quelques jours après la facture.\n\nLe détail est sur la facture <b>en ligne</b>.",
        position=2,
    )
    FaqEntry.objects.create(
        category="Souscription", question="Comment souscrire ?", answer="En ligne.", position=1
    )
    FaqEntry.objects.create(
        category="Souscription", question="Question cachée ?", answer="-", published=False
    )
    # when
    html = client.get(reverse("site:faq")).content.decode()
    # then: categories in the order of their first entry, paragraphs, HTML escaped
    assert html.index("Souscription") < html.index("Facturation")
    assert "Comment souscrire ?" in html and "Quand suis-je prélevé ?" in html
    assert "Question cachée" not in html
    assert "<p>Quelques jours après la facture.</p>" in html
    assert "&lt;b&gt;en ligne&lt;/b&gt;" in html


def test_faq_starter_entries_exist_and_empty_faq_renders(client: Client, db: None) -> None:
    assert FaqEntry.objects.filter(published=True).exists()
    FaqEntry.objects.all().delete()
    response = client.get(reverse("site:faq"))
    assert response.status_code == 200
    assert "Aucune question n’est publiée" in response.content.decode()


def test_faq_entry_is_editable_in_admin(admin_client: Client, db: None) -> None:
    response = admin_client.get(reverse("admin:site_faqentry_changelist"))
    assert response.status_code == 200


def test_cgv_serves_the_pdf_of_the_version_in_force(
    client: Client, catalogue: Catalogue, settings, tmp_path
) -> None:
    # given: an older version and the one in force, each with its PDF; a future one
    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    old = CGVVersion.objects.create(version="2020-01", effective_date=date(2020, 1, 1))
    old.document.save("old.pdf", ContentFile(b"%PDF-1.4 old"))
    catalogue.cgv.document.save("current.pdf", ContentFile(b"%PDF-1.4 current"))
    CGVVersion.objects.create(version="future", effective_date=today + timedelta(days=30))
    # when
    response = client.get(reverse("site:cgv"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 current"  # type: ignore[attr-defined]
    assert "CGV-2026-01.pdf" in response["Content-Disposition"]
    # a given (accepted) version can be read; a version not yet in force cannot
    older = client.get(reverse("site:cgv_version", args=["2020-01"]))
    assert b"".join(older.streaming_content) == b"%PDF-1.4 old"  # type: ignore[attr-defined]
    assert client.get(reverse("site:cgv_version", args=["future"])).status_code == 404


def test_cgv_without_file_gives_a_clear_page(
    client: Client, catalogue: Catalogue, operator_profile: OperatorProfile
) -> None:
    response = client.get(reverse("site:cgv"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "version 2026-01" in html
    assert "n’est pas encore disponible" in html and "03 88 00 00 00" in html


def test_cgv_missing_file_on_disk_gives_the_clear_page(
    client: Client, catalogue: Catalogue, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    CGVVersion.objects.filter(pk=catalogue.cgv.pk).update(document="cgv/lost.pdf")
    response = client.get(reverse("site:cgv"))
    assert response.status_code == 200
    assert "n’est pas encore disponible" in response.content.decode()


def test_cgv_none_published_gives_the_clear_page(client: Client, db: None) -> None:
    response = client.get(reverse("site:cgv"))
    assert response.status_code == 200
    assert "ne sont pas encore publiées" in response.content.decode()


def test_static_assets_exist(client: Client, db: None) -> None:
    # The layout and the funnel load these; a missing file would silently break styling.
    from django.contrib.staticfiles import finders

    assert finders.find("raccord/raccord.css")
    assert finders.find("raccord/site.js")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("29.9"), "29,90\xa0€"),
        (Decimal("0"), "0,00\xa0€"),
        (Decimal("1234.5"), "1\u202f234,50\xa0€"),
        (Decimal("-5.25"), "-5,25\xa0€"),
    ],
)
def test_euros_are_shown_the_french_way_whatever_the_browser_language(
    value: Decimal, shown: str
) -> None:
    from django.utils import translation

    from raccord.site.templatetags.raccord_site import euros

    with translation.override("en"):
        assert euros(value) == shown


def test_subscribe_buttons_name_their_offer_with_a_plain_apostrophe_C1(
    client: Client, catalogue: Catalogue
) -> None:
    # Browser tests look buttons up by name: "Souscrire à l'offre Fibre 300", typed on a keyboard.
    html = client.get(
        reverse("site:eligibility_result", args=[catalogue.address.pk])
    ).content.decode()
    assert 'Souscrire<span class="visually-hidden"> à l\'offre Fibre 300</span>' in html
