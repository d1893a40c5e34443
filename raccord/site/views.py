"""Public pages: home, offers, eligibility test, FAQ, CGV download.

Thin views: the catalogue, the eligibility rules (C1) and the address search live in their
domains; these views only read the clock and shape what the templates show."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from raccord.catalog.models import CGVVersion, Option
from raccord.catalog.selectors import cgv_in_force
from raccord.eligibility.selectors import address_get, address_search
from raccord.eligibility.services import eligibility_check
from raccord.site.selectors import faq_published, offers_on_sale

# Fewer characters match too much of the address base to be useful as suggestions.
SEARCH_MIN_LENGTH = 3
SEARCH_LIMIT = 10


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html", {"offers": offers_on_sale()})


@require_GET
def offers(request: HttpRequest) -> HttpResponse:
    return render(request, "site/offers.html", {"offers": offers_on_sale()})


def _search(query: str) -> tuple[list, bool]:
    """Matching addresses and whether the query was long enough to search at all."""
    query = " ".join(query.split())[:200]
    if len(query) < SEARCH_MIN_LENGTH:
        return [], False
    return address_search(query=query, limit=SEARCH_LIMIT), True


@require_GET
def eligibility(request: HttpRequest) -> HttpResponse:
    """The address search: a plain GET form that works without JavaScript."""
    query = request.GET.get("q", "").strip()
    addresses, searched = _search(query)
    return render(
        request,
        "site/eligibility.html",
        {
            "query": query,
            "addresses": addresses,
            "searched": searched,
            "too_short": bool(query) and not searched,
            "min_length": SEARCH_MIN_LENGTH,
        },
    )


@require_GET
def eligibility_suggestions(request: HttpRequest) -> HttpResponse:
    """The suggestion list alone, fetched by the type-ahead script as the person types."""
    query = request.GET.get("q", "").strip()
    addresses, searched = _search(query)
    return render(
        request,
        "site/_address_suggestions.html",
        {"query": query, "addresses": addresses, "searched": searched},
    )


@require_GET
def eligibility_result(request: HttpRequest, address_id: int) -> HttpResponse:
    address = address_get(address_id=address_id)
    if address is None:
        raise Http404("adresse inconnue")
    result = eligibility_check(address=address)
    offer_ids = [item.offer.pk for item in result.offers]
    options_by_offer: dict[int, list[Option]] = {pk: [] for pk in offer_ids}
    # One query for the options of every offer shown, through the M2M table.
    links = (
        Option.offers.through.objects.filter(offer_id__in=offer_ids, option__is_active=True)
        .select_related("option")
        .order_by("option__monthly_price", "option__code")
    )
    for link in links:
        options_by_offer[link.offer_id].append(link.option)
    return render(
        request,
        "site/eligibility_result.html",
        {
            "address": address,
            "result": result,
            "items": [
                {"eligible": item, "options": options_by_offer.get(item.offer.pk, [])}
                for item in result.offers
            ],
        },
    )


@require_GET
def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "site/faq.html", {"categories": faq_published()})


def _cgv_response(request: HttpRequest, cgv: CGVVersion | None) -> HttpResponseBase:
    if cgv is not None and cgv.document:
        try:
            handle = cgv.document.open("rb")
        except (FileNotFoundError, OSError):
            handle = None
        if handle is not None:
            return FileResponse(
                handle,
                content_type="application/pdf",
                filename=f"CGV-{cgv.version}.pdf",
                as_attachment=False,
            )
    # No document attached (or the file went missing): say so plainly rather than a 404.
    return render(request, "site/cgv_missing.html", {"cgv": cgv})


@require_GET
def cgv(request: HttpRequest) -> HttpResponseBase:
    """The CGV in force today, as a PDF."""
    return _cgv_response(request, cgv_in_force(on=timezone.localdate()))


@require_GET
def cgv_version(request: HttpRequest, version: str) -> HttpResponseBase:
    """A given CGV version (the one a customer accepted), already effective."""
    found = CGVVersion.objects.filter(
        version=version, effective_date__lte=timezone.localdate()
    ).first()
    if found is None:
        raise Http404("version inconnue")
    return _cgv_response(request, found)
