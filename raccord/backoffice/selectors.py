"""Back-office reads: dashboard figures, customer search, the customer page and its history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from raccord.catalog.models import Option
from raccord.contracts.models import Contract
from raccord.core.models import Event
from raccord.customers.models import Customer
from raccord.eligibility.search_keys import search_normalize
from raccord.eligibility.services import EligibilityResult
from raccord.payments.models import Mandate

SIGNUP_WINDOW_DAYS = 7
# A query made only of digits and the usual phone separators is read as a phone number.
_PHONE_LIKE_RE = re.compile(r"^[\d\s.+\-()/]+$")


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class DashboardFigures:
    today: date
    since: date
    contracts_total: int
    contracts_by_status: list[StatusCount]
    signups_recent: int
    signups_recent_by_channel: list[StatusCount]
    latest_contracts: list[Contract]


def dashboard_figures(*, today: date, latest: int = 10) -> DashboardFigures:
    """Contracts per status and the sign-ups of the last seven days (today included)."""
    since = today - timedelta(days=SIGNUP_WINDOW_DAYS - 1)
    per_status = dict(
        Contract.objects.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    per_channel = dict(
        Contract.objects.filter(signup_date__gte=since, signup_date__lte=today)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    by_status = [
        StatusCount(status=s.value, label=str(s.label), count=per_status.get(s.value, 0))
        for s in Contract.Status
    ]
    by_channel = [
        StatusCount(status=c.value, label=str(c.label), count=per_channel.get(c.value, 0))
        for c in Contract.Channel
    ]
    latest_contracts = list(
        Contract.objects.select_related("customer").order_by("-signed_at", "-id")[:latest]
    )
    return DashboardFigures(
        today=today,
        since=since,
        contracts_total=sum(per_status.values()),
        contracts_by_status=by_status,
        signups_recent=sum(per_channel.values()),
        signups_recent_by_channel=by_channel,
        latest_contracts=latest_contracts,
    )


def _national_phone_digits(digits: str) -> str:
    """+33 6 12 34 56 78 and 0033 6… are stored as 06…: compare national numbers."""
    if digits.startswith("0033"):
        return "0" + digits[4:]
    if digits.startswith("33") and len(digits) == 11:
        return "0" + digits[2:]
    return digits


def _word_filter(word: str) -> Q:
    """One word of the query matches a customer through any of its searchable facts."""
    contract_q = (
        Q(reference__icontains=word)
        | Q(network_login__iexact=word)
        | Q(installation_address__nom_voie__icontains=word)
        | Q(installation_address__nom_commune__icontains=word)
    )
    normalized = search_normalize(word)
    if normalized:
        # The street index holds the street and commune words lower-cased and without accents:
        # "ecoles" finds "Rue des Écoles" on SQLite and PostgreSQL alike.
        contract_q |= Q(installation_address__street__search_text__contains=f" {normalized}")
    if word.isdigit():
        if len(word) == 5:
            contract_q |= Q(installation_address__code_postal=word)
        if len(word) <= 4:
            contract_q |= Q(installation_address__numero=int(word))
    contracts = Contract.objects.filter(customer=OuterRef("pk")).filter(contract_q)
    mandates = Mandate.objects.filter(customer=OuterRef("pk"), reference__icontains=word)
    return (
        Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(email__icontains=word)
        | Q(reference__icontains=word)
        | Q(city__icontains=word)
        | Q(postal_address__icontains=word)
        | Exists(contracts)
        | Exists(mandates)
    )


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers matching a free query, by name, email, phone (any formatting), installation
    street or commune, contract reference or mandate reference (RUM).

    Every word must match (a name and a commune narrow each other down). Related tables are
    searched with EXISTS subqueries, so a customer with several contracts appears once and the
    query needs no DISTINCT. The contracts shown in the results come in one prefetch query."""
    query = " ".join(query.split())
    if not query:
        return Customer.objects.none()
    customers = Customer.objects.all()
    digits = re.sub(r"\D", "", query)
    if _PHONE_LIKE_RE.match(query) and len(digits) >= 4:
        national = _national_phone_digits(digits)
        contracts = Contract.objects.filter(customer=OuterRef("pk")).filter(
            Q(reference__icontains=digits) | Q(installation_address__code_postal=digits)
        )
        customers = customers.filter(
            Q(phone__contains=national) | Q(reference__icontains=digits) | Exists(contracts)
        )
    else:
        for word in query.split():
            customers = customers.filter(_word_filter(word))
    return customers.order_by("last_name", "first_name", "id").prefetch_related(
        Prefetch(
            "contracts",
            queryset=Contract.objects.select_related("installation_address").order_by(
                "-signed_at", "-id"
            ),
        )
    )


def customer_detail(*, customer_id: int) -> Customer | None:
    """A customer with their contracts (options, addresses, CGV, agent), in a fixed
    number of queries whatever the number of contracts."""
    return (
        Customer.objects.filter(pk=customer_id)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "contracts",
                queryset=Contract.objects.select_related(
                    "installation_address", "cgv_version", "signup_agent", "mandate", "premises"
                )
                .prefetch_related("options")
                .order_by("-signed_at", "-id"),
            ),
        )
        .first()
    )


def customer_history(*, customer_id: int) -> QuerySet[Event]:
    """The customer's history, newest first."""
    return Event.objects.filter(customer_id=customer_id).order_by("-at", "-id")


def signup_options(*, eligibility: EligibilityResult) -> list[Option]:
    """Options sold with at least one of the offers available at the address, with the offers
    they go with (the agent sees which option fits which offer)."""
    offer_ids = [item.offer.pk for item in eligibility.offers]
    if not offer_ids:
        return []
    return list(
        Option.objects.filter(is_active=True, offers__in=offer_ids)
        .distinct()
        .prefetch_related("offers")
        .order_by("monthly_price", "code")
    )
