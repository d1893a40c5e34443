"""Eligibility (C1): zones of departments and communes, address exceptions, local prices."""

from __future__ import annotations

from decimal import Decimal

from raccord.catalog.models import Zone, ZoneOffer
from raccord.conftest import Catalogue
from raccord.eligibility.models import Address
from raccord.eligibility.services import eligibility_check


def test_department_zone_covers_its_communes_at_catalogue_prices_C1(catalogue: Catalogue) -> None:
    # when: Strasbourg (INSEE 67482) is in the Alsace zone (departments 67 and 68)
    result = eligibility_check(address=catalogue.address)

    # then
    assert result.eligible
    assert [item.offer.code for item in result.offers] == ["THD30", "FIBRE300"]
    thd30 = result.offer("THD30")
    assert thd30 is not None
    assert (thd30.zone, thd30.monthly_price, thd30.setup_fee) == (
        catalogue.alsace,
        Decimal("29.90"),
        Decimal("49.00"),
    )
    assert (thd30.setup_subsidy, thd30.setup_fee_due) == (Decimal("0.00"), Decimal("49.00"))
    assert not result.premises_equipped


def test_commune_zone_overrides_price_speed_and_subsidises_setup_C1(catalogue: Catalogue) -> None:
    # when: Saint-Dié-des-Vosges (88413) is sold through the commune zone only
    result = eligibility_check(address=catalogue.address_subsidised)

    # then
    assert [item.offer.code for item in result.offers] == ["THD30"]
    thd30 = result.offers[0]
    assert thd30.zone == catalogue.vosges_commune
    assert thd30.monthly_price == Decimal("24.90")
    assert thd30.setup_fee == Decimal("49.00")
    assert thd30.setup_subsidy == Decimal("49.00")
    assert thd30.setup_fee_due == Decimal("0.00")
    assert (thd30.download_mbps, thd30.upload_mbps) == (50, 5)
    assert thd30.subsidy_authority == "Conseil départemental des Vosges"


def test_address_excluded_from_its_zone_has_no_offer_C1(catalogue: Catalogue) -> None:
    result = eligibility_check(address=catalogue.address_excluded)

    assert not result.eligible
    assert result.offers == []


def test_address_included_outside_the_zone_communes_is_covered_C1(catalogue: Catalogue) -> None:
    # given: one Paris address added to a zone by its BAN id, with a local price
    zone = Zone.objects.create(
        code="paris-pilote",
        name="Pilote Paris",
        included_addresses=[catalogue.address_uncovered.ban_id],
    )
    ZoneOffer.objects.create(zone=zone, offer=catalogue.fibre, monthly_price=Decimal("34.90"))

    # when
    result = eligibility_check(address=catalogue.address_uncovered)

    # then
    assert [item.offer.code for item in result.offers] == ["FIBRE300"]
    assert result.offers[0].monthly_price == Decimal("34.90")


def test_the_most_specific_zone_sets_the_price_C1(catalogue: Catalogue) -> None:
    # given: Strasbourg is in Alsace (department) and in a commune zone with its own price
    town = Zone.objects.create(code="strasbourg", name="Strasbourg", communes=["67482"])
    ZoneOffer.objects.create(zone=town, offer=catalogue.thd30, monthly_price=Decimal("27.90"))

    # when
    result = eligibility_check(address=catalogue.address)

    # then
    thd30 = result.offer("THD30")
    fibre = result.offer("FIBRE300")
    assert thd30 is not None and fibre is not None
    assert (thd30.zone, thd30.monthly_price) == (town, Decimal("27.90"))
    assert (fibre.zone, fibre.monthly_price) == (catalogue.alsace, Decimal("39.90"))


def test_equipped_premises_are_flagged_with_a_shorter_lead_time_C1(catalogue: Catalogue) -> None:
    # when: Colmar, where a previous subscriber's installation is still in place
    equipped = eligibility_check(address=catalogue.address_equipped)
    bare = eligibility_check(address=catalogue.address)

    # then
    assert equipped.premises_equipped and not bare.premises_equipped
    for item in equipped.offers:
        assert item.lead_time_days == item.offer.equipped_lead_time_days
        assert item.lead_time_days < item.offer.lead_time_days
    assert all(item.lead_time_days == item.offer.lead_time_days for item in bare.offers)


def test_premises_no_longer_equipped_get_the_normal_lead_time_C1(catalogue: Catalogue) -> None:
    premises = catalogue.address_equipped.premises
    premises.equipped = False
    premises.save()

    result = eligibility_check(address=catalogue.address_equipped)

    assert not result.premises_equipped
    assert all(item.lead_time_days == item.offer.lead_time_days for item in result.offers)


def test_uncovered_address_has_no_offer_C1(catalogue: Catalogue) -> None:
    # when: Paris is in no zone
    result = eligibility_check(address=catalogue.address_uncovered)

    # then
    assert not result.eligible
    assert result.offer("THD30") is None


def test_an_offer_withdrawn_from_sale_is_not_offered_C1(catalogue: Catalogue) -> None:
    catalogue.fibre.is_active = False
    catalogue.fibre.save()

    result = eligibility_check(address=catalogue.address)

    assert [item.offer.code for item in result.offers] == ["THD30"]


def test_a_corsican_department_zone_covers_2a_communes_C1(catalogue: Catalogue) -> None:
    # given
    corse = Zone.objects.create(code="corse-sud", name="Corse-du-Sud", departments=["2A"])
    ZoneOffer.objects.create(zone=corse, offer=catalogue.thd30)
    ajaccio = Address.objects.create(
        ban_id="2A004_0100_00001",
        numero=1,
        nom_voie="Cours Napoléon",
        code_postal="20000",
        code_insee="2A004",
        nom_commune="Ajaccio",
    )

    # then: "20000" is Ajaccio's postal code, never read as a department
    assert eligibility_check(address=ajaccio).offer("THD30") is not None


def test_an_eligibility_check_is_a_constant_number_of_queries_C1(
    catalogue: Catalogue, django_assert_max_num_queries: object
) -> None:
    for index in range(5):
        zone = Zone.objects.create(code=f"extra-{index}", name=f"Z{index}", communes=["99999"])
        ZoneOffer.objects.create(zone=zone, offer=catalogue.thd30)

    with django_assert_max_num_queries(2):  # type: ignore[operator]
        eligibility_check(address=catalogue.address)
