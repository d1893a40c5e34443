"""Back-office move of a contract (C8): find the new address, read its eligibility test for the
contract (a preview that writes nothing), then confirm. The rule and the event live in
``raccord.contracts.move``; this page only parses what the agent typed."""

from __future__ import annotations

import logging
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from raccord.backoffice.forms import AccessibleFormMixin, AddressSearchForm
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_AGENT, ROLE_BILLING, role_required
from raccord.backoffice.views import ADDRESS_RESULTS, _render
from raccord.contracts.models import Contract
from raccord.contracts.move import (
    COMPLEMENT_MAX,
    contract_move,
    contract_move_check,
    contract_move_guard,
)
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.eligibility.models import Address
from raccord.eligibility.selectors import address_get, address_search

logger = logging.getLogger(__name__)


class MoveAddressSearchForm(AccessibleFormMixin, AddressSearchForm):
    """The sign-up's address search, labelled for the new address of a move."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["adresse"].label = _("Nouvelle adresse d'installation")


class MoveConfirmForm(AccessibleFormMixin, forms.Form):
    address_id = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("Choisissez la nouvelle adresse."),
            "invalid": gettext_lazy("Cette adresse est inconnue : cherchez-la à nouveau."),
        },
    )
    installation_complement = forms.CharField(
        label=gettext_lazy("Complément de la nouvelle adresse"),
        required=False,
        max_length=COMPLEMENT_MAX,
        help_text=gettext_lazy("Bâtiment, étage, appartement, lieu-dit…"),
        error_messages={
            "max_length": gettext_lazy(
                "Le complément d'adresse ne doit pas dépasser %(limit_value)d caractères."
            )
        },
    )


def _address_of(raw: str | None) -> tuple[Address | None, bool]:
    """The address an ``address_id`` parameter names, and whether one was given at all."""
    if not raw:
        return None, False
    try:
        return address_get(address_id=int(raw)), True
    except (TypeError, ValueError, OverflowError):
        return None, True


@require_http_methods(["GET", "POST"])
@role_required(ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN)
def contract_move_page(request: HttpRequest, contract_id: int) -> HttpResponse:
    """GET ``?adresse=…``: search the new address; GET ``?address_id=…``: its eligibility test
    for this contract, a preview that writes nothing; POST: « Confirmer le déménagement »."""
    contract = (
        Contract.objects.select_related("customer", "offer", "installation_address")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise Http404(_("Contrat inconnu."))
    is_post = request.method == "POST"
    search_form = MoveAddressSearchForm(request.GET if "adresse" in request.GET else None)
    context: dict[str, Any] = {
        "contract": contract,
        "customer": contract.customer,
        "search_form": search_form,
        "query": "",
        "addresses": None,
        "address": None,
        "unknown_address": False,
        "check": None,
        "confirm_form": None,
        "error": "",
        "move_error": "",
    }
    status = 400 if is_post else 200
    try:
        contract_move_guard(contract=contract)
    except DomainError as error:
        # An ended contract (or one being terminated) has no move to preview.
        context["error"] = error.message
        return _page(request, context, status=status)

    raw_address_id = (request.POST if is_post else request.GET).get("address_id")
    address, address_given = _address_of(raw_address_id)
    context["address"] = address
    context["unknown_address"] = address_given and address is None
    confirm_form: MoveConfirmForm | None = None
    if is_post:
        confirm_form = MoveConfirmForm(request.POST)
        if confirm_form.is_valid() and address is not None:
            try:
                moved = contract_move(
                    contract=contract,
                    address=address,
                    installation_complement=confirm_form.cleaned_data["installation_complement"],
                    on=timezone.localdate(),
                    actor=Actor.agent(cast("User", request.user)),
                )
            except DomainError as error:
                _error_place(confirm_form, context, error)
                if context["error"]:
                    return _page(request, context, status=status)
            else:
                messages.success(
                    request,
                    _("Déménagement de %(reference)s enregistré : %(address)s.")
                    % {"reference": moved.reference, "address": address.label},
                )
                url = reverse("backoffice:customer_detail", args=[moved.customer_id])
                return HttpResponseRedirect(f"{url}#contrat-{moved.pk}")
        if not address_given:
            context["unknown_address"] = True
    elif address is not None:
        # Same address: the agent may only be correcting its complement; keep what is there.
        same = address.pk == contract.installation_address_id
        confirm_form = MoveConfirmForm(
            initial={
                "address_id": address.pk,
                "installation_complement": contract.installation_complement if same else "",
            }
        )
    elif address_given:
        status = 400
    elif search_form.is_bound:
        if search_form.is_valid():
            context["query"] = search_form.cleaned_data["adresse"].strip()
            if context["query"]:
                context["addresses"] = address_search(query=context["query"], limit=ADDRESS_RESULTS)
        else:
            status = 400

    if address is not None:
        check = contract_move_check(contract=contract, address=address)
        context["check"] = check
        # No confirmation without a positive eligibility test (C8).
        context["confirm_form"] = confirm_form if check.available else None
    if confirm_form is not None:
        confirm_form.mark_for_assistive_technologies()
    return _page(request, context, status=status)


def _page(request: HttpRequest, context: dict[str, Any], *, status: int) -> HttpResponse:
    context["search_form"].mark_for_assistive_technologies()
    if context["unknown_address"]:
        # The address search field carries the error: the chosen address no longer resolves.
        attrs = context["search_form"].fields["adresse"].widget.attrs
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = "id_adresse-help id_adresse-error"
    # Reading a preview is not a change: it goes to the access log, not to the history.
    logger.info(
        "backoffice move page contract=%s customer=%s agent=%s",
        context["contract"].pk,
        context["customer"].pk,
        request.user.pk,
    )
    return _render(request, "backoffice/contract_move.html", context, status=status)


def _error_place(form: MoveConfirmForm, context: dict[str, Any], error: DomainError) -> None:
    """A refusal goes next to what it is about: the complement field, the chosen address, or
    the page when the contract itself cannot move (ended meanwhile)."""
    if error.field == "installation_complement":
        form.add_error("installation_complement", error.message)
    elif error.field == "address_id":
        context["move_error"] = error.message
    else:
        context["error"] = error.message
