"""Sign-up (C2, C3): what is recorded, what is refused, and that a double submit is one order."""

import uuid
from decimal import Decimal

import pytest
from django.core import mail

from raccord.conftest import paris
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupErrors, signup_create
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Event

pytestmark = pytest.mark.django_db(transaction=False)


def test_signup_records_everything_c2_asks_for__C2(
    signup_request, catalogue, django_capture_on_commit_callbacks
):
    # given a valid online sign-up at a covered Strasbourg address
    # when it is submitted
    with django_capture_on_commit_callbacks(execute=True):
        contract = signup_create(
            request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5, 10, 30)
        )
    # then the contract copies what was sold and how it was accepted
    assert contract.status == Contract.Status.ORDERED
    assert contract.offer_label == "THD Radio 30"
    assert contract.monthly_price == Decimal("29.90")
    assert contract.commitment_months == 12
    assert [o.label for o in contract.options.all()] == ["Téléphonie"]
    assert contract.cgv_version == catalogue.cgv
    assert contract.channel == "online" and contract.signup_ip == "192.0.2.10"
    assert contract.express_start is True
    assert contract.installation_mode == "kit"
    assert contract.delivery_postal_code == "67000"
    # the SEPA mandate has a unique reference, the derived BIC and the signature date
    mandate = contract.mandate
    assert mandate is not None and mandate.reference.startswith("RUM-")
    assert mandate.bic.startswith("AGRIFRPP")
    assert mandate.signature_date.isoformat() == "2027-01-05"
    assert contract.customer.phone == "0612345678"
    # the history has the customer, the mandate and the order
    verbs = set(
        Event.objects.filter(customer_id=contract.customer_id).values_list("verb", flat=True)
    )
    assert verbs == {"customer.created", "mandate.signed", "contract.ordered"}
    # the IBAN never appears in clear in the history
    assert all("1234567890189" not in str(e.data) + e.summary for e in Event.objects.all())
    # and the order summary went out with a set-password link, never a password (C3)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert contract.reference in body and "version 2026-01" in body
    assert "/compte/mot-de-passe/definir/" in body


def test_price_changes_in_the_catalogue_never_change_a_signed_order__C2(signup_request, catalogue):
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    catalogue.thd30.monthly_price = Decimal("35.00")
    catalogue.thd30.save()
    contract.refresh_from_db()
    assert contract.monthly_price == Decimal("29.90")


def test_zone_price_and_subsidy_are_applied__C1(signup_request, catalogue):
    signup_request.address_id = catalogue.address_subsidised.pk
    signup_request.option_codes = []
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    assert contract.monthly_price == Decimal("24.90")
    assert contract.setup_fee_due == Decimal("0.00")
    assert contract.download_mbps == 50


def test_double_submit_creates_one_order__C2(signup_request):
    signup_request.signup_key = uuid.uuid4()
    first = signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    second = signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    assert first.pk == second.pk
    assert Contract.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"iban": "FR7630006000011234567890188"}, "iban"),  # wrong RIB key
        ({"iban": ""}, "iban"),
        ({"phone": "12345"}, "phone"),
        ({"email": "pas-un-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"offer_code": "NOPE"}, "offer_code"),
        ({"option_codes": ["NOPE"]}, "option_codes"),
        ({"cgv_accepted": False}, "cgv_accepted"),
        ({"installation_mode": "equipped"}, "installation_mode"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"address_id": 999999}, "address_id"),
    ],
)
def test_bad_input_names_its_field_in_french_and_writes_nothing__C2(signup_request, change, field):
    for key, value in change.items():
        setattr(signup_request, key, value)
    with pytest.raises(DomainError) as excinfo:
        signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    error = excinfo.value
    fields = (
        error.by_field() if isinstance(error, SignupErrors) else {str(error.field): error.message}
    )
    assert field in fields
    assert Contract.objects.count() == 0
    assert Event.objects.count() == 0


def test_uncovered_and_excluded_addresses_are_refused__C1(signup_request, catalogue):
    for address in (catalogue.address_uncovered, catalogue.address_excluded):
        signup_request.address_id = address.pk
        with pytest.raises(SignupErrors) as excinfo:
            signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
        assert "address_id" in excinfo.value.by_field()


def test_an_email_that_already_has_an_account_is_refused__C2(signup_request):
    signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5))
    signup_request.signup_key = None
    signup_request.email = "CAMILLE.martin@EXAMPLE.org"
    with pytest.raises(SignupErrors) as excinfo:
        signup_create(request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 6))
    assert "email" in excinfo.value.by_field()


def test_cheque_signup_has_no_mandate__C2(signup_request):
    signup_request.payment_method = "cheque"
    signup_request.iban = ""
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    assert contract.mandate is None and contract.payment_method == "cheque"


def test_premises_already_equipped_is_offered_and_attached__C1_C14(signup_request, catalogue):
    signup_request.address_id = catalogue.address_equipped.pk
    signup_request.installation_mode = "equipped"
    contract = signup_create(
        request=signup_request, actor=Actor.customer(None), at=paris(2027, 1, 5)
    )
    assert contract.premises is not None and contract.premises.address == catalogue.address_equipped


def test_the_signup_date_is_the_paris_date_even_just_after_midnight__C2(signup_request):
    from datetime import UTC, datetime

    # 23:30 UTC on 5 January is 00:30 on 6 January in Paris
    contract = signup_create(
        request=signup_request,
        actor=Actor.customer(None),
        at=datetime(2027, 1, 5, 23, 30, tzinfo=UTC),
    )
    assert contract.signup_date.isoformat() == "2027-01-06"
    assert (
        contract.mandate is not None and contract.mandate.signature_date.isoformat() == "2027-01-06"
    )
