"""The online sign-up funnel (C2): six short steps from an eligible address to the order.

Plain server-rendered forms (they work without JavaScript), one URL per step, the state in the
session (``raccord.site.funnel``). The final submit calls the shared ``signup_create`` service,
idempotent on the funnel's ``signup_key``, so a double submit creates one order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from raccord.catalog.models import Option
from raccord.catalog.selectors import cgv_in_force
from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupErrors, signup_create
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.core.money import ZERO
from raccord.core.ratelimit import rate_limit_hit
from raccord.customers.models import Customer
from raccord.eligibility.models import Address, Premises
from raccord.eligibility.services import eligibility_check
from raccord.payments.iban import iban_check
from raccord.site.funnel import (
    FIELD_STEP,
    STEPS,
    Funnel,
    Progress,
    Step,
    progress,
    step_check,
    step_get,
    step_index,
    step_values,
)

# Final submits allowed per client address and hour: enough for a household or an office
# behind one address, too few for a script creating orders in bulk.
SIGNUP_RATE_DEFAULT = 10
SIGNUP_RATE_WINDOW = 3600

# Where an error summary links to, for fields that are a group of radios or checkboxes.
GROUP_FIELDS = {
    "offer_code",
    "option_codes",
    "delivery_same_as_installation",
    "payment_method",
    "installation_mode",
}


def _step_url(step: Step) -> str:
    return reverse("site:signup_step", kwargs={"step": step.slug})


def _redirect_to(step: Step) -> HttpResponseRedirect:
    return redirect(_step_url(step))


def _no_signup(request: HttpRequest) -> HttpResponseRedirect:
    messages.info(
        request,
        _("Pour souscrire, commencez par tester votre adresse puis choisissez une offre."),
    )
    return redirect("site:eligibility")


@require_http_methods(["GET", "POST"])
def signup_start(request: HttpRequest) -> HttpResponse:
    """POST from an offer of the eligibility result: start the funnel with address + offer.
    GET: resume where the person left off."""
    funnel = Funnel(request.session)
    if request.method == "POST":
        raw_id = request.POST.get("address_id", "")
        address = Address.objects.filter(pk=int(raw_id)).first() if raw_id.isdigit() else None
        if address is None:
            return _no_signup(request)
        funnel.start(address_id=address.pk, offer_code=request.POST.get("offer_code", "").strip())
        return _redirect_to(STEPS[0])
    if not funnel.started:
        return _no_signup(request)
    state = progress(funnel, on=timezone.localdate())
    return _redirect_to(STEPS[min(state.first_missing, len(STEPS) - 1)])


@require_http_methods(["GET", "POST"])
def signup_step(request: HttpRequest, step: str) -> HttpResponse:
    current = step_get(step)
    if current is None:
        raise Http404("étape inconnue")
    funnel = Funnel(request.session)
    is_submit = current.slug == "recapitulatif" and request.method == "POST"
    if is_submit:
        # The same order sent again (double click, reload, a second tab): signup_create is
        # idempotent on the funnel's key; answer with the order already placed.
        existing = _order_already_placed(funnel)
        if existing is not None:
            funnel.finish(reference=existing)
            return redirect("site:signup_confirmation", reference=existing)
    if not funnel.started:
        return _no_signup(request)
    index = step_index(current.slug)
    on = timezone.localdate()
    state = progress(funnel, on=on, upto=index)
    if state.first_missing < index:
        # A later step reached without the earlier ones (or one of them no longer passes).
        return _redirect_to(STEPS[state.first_missing])
    if state.checked.address is None:
        state.checked.address = Address.objects.filter(pk=funnel.data["address_id"]).first()
        if state.checked.address is None:
            return _no_signup(request)

    if request.method == "POST":
        funnel.save(step_values(current, request.POST))
        if request.POST.get("action") == "back":
            # Going back keeps what was typed here, unchecked: it is checked on the way forward.
            funnel.unmark(current.slug)
            if index == 0:
                return redirect("site:eligibility_result", address_id=funnel.data["address_id"])
            return _redirect_to(STEPS[index - 1])
        errors = _check_current(funnel, current, state, on=on)
        if errors:
            funnel.unmark(current.slug)
            return _render_step(request, funnel, current, state, errors)
        if is_submit:
            return _submit(request, funnel, state)
        funnel.mark(current.slug)
        if current.slug == "paiement" and state.checked.iban is not None:
            iban = state.checked.iban
            messages.success(
                request,
                _("IBAN vérifié : %(bank)s, BIC %(bic)s.")
                % {"bank": iban.bank_name or _("banque reconnue"), "bic": iban.bic},
            )
        return _redirect_to(STEPS[index + 1])

    errors = _check_current(funnel, current, state, on=on)
    if current.slug not in funnel.done:
        # A step shown for the first time is not judged yet, except for an address that is
        # not (or no longer) covered: better said before anything is typed.
        errors = {k: v for k, v in errors.items() if k == "address_id"}
    if current.slug == "recapitulatif":
        # The acceptance box is unticked on arrival: not an error until the person submits.
        errors = {k: v for k, v in errors.items() if k != "cgv_accepted"}
    return _render_step(request, funnel, current, state, errors)


def _order_already_placed(funnel: Funnel) -> str | None:
    key = funnel.data.get("signup_key")
    if key:
        found = Contract.objects.filter(signup_key=key).values_list("reference", flat=True).first()
        if found:
            return found
    if not funnel.started:
        return funnel.last_reference
    return None


def _check_current(funnel: Funnel, current: Step, state: Progress, *, on: date) -> dict[str, str]:
    """Check the current step with what the session holds now. The earlier steps' values in
    ``state.request`` stay as their checks normalised them (phone, email, delivery address)."""
    fresh, parse_errors = funnel.request()
    for name in current.fields:
        setattr(state.request, name, getattr(fresh, name))
    try:
        step_check(
            current,
            request=state.request,
            parse_errors=parse_errors,
            on=on,
            checked=state.checked,
        )
    except SignupErrors as exc:
        return exc.by_field()
    return {}


def _submit(request: HttpRequest, funnel: Funnel, state: Progress) -> HttpResponse:
    current = STEPS[-1]
    limit = settings.RACCORD_RATE_LIMITS.get("signup", SIGNUP_RATE_DEFAULT)
    ip = request.META.get("REMOTE_ADDR") or None
    if rate_limit_hit(
        scope="signup", key=ip or "unknown", limit=limit, window_seconds=SIGNUP_RATE_WINDOW
    ):
        errors = {
            "__all__": _(
                "Trop de commandes ont été envoyées depuis votre connexion. Réessayez dans une "
                "heure, ou appelez le service client pour souscrire par téléphone."
            )
        }
        return _render_step(request, funnel, current, state, errors, status=429)
    signup_request, _parse_errors = funnel.request()
    signup_request.channel = Contract.Channel.ONLINE
    signup_request.signup_ip = ip
    try:
        # Local time: the sign-up date (and so the withdrawal deadline) is a Paris date.
        contract = signup_create(
            request=signup_request, actor=Actor.customer(None), at=timezone.localtime()
        )
    except SignupErrors as exc:
        return _render_step(request, funnel, current, state, exc.by_field())
    except DomainError as exc:
        return _render_step(request, funnel, current, state, {exc.field or "__all__": exc.message})
    funnel.finish(reference=contract.reference)
    return redirect("site:signup_confirmation", reference=contract.reference)


@require_http_methods(["GET"])
def signup_confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    """Only the browser session that placed the order sees it: the reference alone is no proof."""
    funnel = Funnel(request.session)
    if not funnel.can_see(reference):
        raise Http404("commande inconnue")
    contract = (
        Contract.objects.select_related("customer", "installation_address", "mandate")
        .prefetch_related("options")
        .filter(reference=reference)
        .first()
    )
    if contract is None:
        raise Http404("commande inconnue")
    return render(request, "site/signup/confirmation.html", {"contract": contract})


# --- rendering -------------------------------------------------------------------------------


def _render_step(
    request: HttpRequest,
    funnel: Funnel,
    current: Step,
    state: Progress,
    errors: dict[str, str],
    *,
    status: int = 200,
) -> HttpResponse:
    index = step_index(current.slug)
    values = dict(funnel.data)
    context: dict[str, Any] = {
        "step": current,
        "step_number": index + 1,
        "step_count": len(STEPS),
        "steps": [
            {"step": s, "url": _step_url(s), "done": s.slug in funnel.done, "current": s == current}
            for s in STEPS
        ],
        "values": values,
        "errors": errors,
        "error_list": _error_list(errors, current),
        "address": state.checked.address,
        "previous_label": _("Précédent"),
    }
    context.update(_STEP_CONTEXT[current.slug](funnel, state))
    return render(request, f"site/signup/{current.slug}.html", context, status=status)


def _error_list(errors: dict[str, str], current: Step) -> list[dict[str, str]]:
    """The error summary at the top of the form: each message links to its field, or to the
    step where it can be fixed when it belongs to an earlier one."""
    items = []
    for name, message in errors.items():
        owner = FIELD_STEP.get(name)
        if name == "__all__" or owner is None:
            items.append({"message": message, "href": "", "link_label": ""})
        elif owner == current.slug or name == "address_id":
            href = f"#id_{name}" if name != "address_id" else ""
            items.append({"message": message, "href": href, "link_label": ""})
        else:
            step = step_get(owner)
            assert step is not None
            items.append(
                {
                    "message": message,
                    "href": _step_url(step),
                    "link_label": _("Modifier : %(step)s") % {"step": step.title},
                }
            )
    return items


def _offer_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    address = state.checked.address
    assert address is not None
    result = eligibility_check(address=address)
    offer_ids = [item.offer.pk for item in result.offers]
    codes_by_option: dict[int, list[str]] = {}
    options: dict[int, Option] = {}
    links = (
        Option.offers.through.objects.filter(offer_id__in=offer_ids, option__is_active=True)
        .select_related("option", "offer")
        .order_by("option__monthly_price", "option__code")
    )
    for link in links:
        options.setdefault(link.option_id, link.option)
        codes_by_option.setdefault(link.option_id, []).append(link.offer.code)
    all_codes = {item.offer.code for item in result.offers}
    return {
        "result": result,
        "options": [
            {
                "option": option,
                "offer_codes": " ".join(codes_by_option[pk]),
                "offer_labels": [
                    item.offer.label
                    for item in result.offers
                    if item.offer.code in codes_by_option[pk]
                ]
                if set(codes_by_option[pk]) != all_codes
                else [],
            }
            for pk, option in options.items()
        ],
    }


def _identity_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    return {"civilities": Customer.Civility.choices}


def _addresses_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    values = funnel.data
    return {"same_address": bool(values.get("delivery_same_as_installation", True))}


def _payment_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    data = funnel.data
    context: dict[str, Any] = {"bank": None}
    if "account_holder" not in data:
        # A sensible default the person can change: most accounts are in the subscriber's name.
        first, last = data.get("first_name", ""), data.get("last_name", "")
        context["holder_default"] = f"{first} {last}".strip()
    if "paiement" in funnel.done and data.get("payment_method") == Contract.PaymentMethod.SEPA:
        try:
            context["bank"] = iban_check(str(data.get("iban", "")))
        except DomainError:
            context["bank"] = None
    return context


def _installation_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    address = state.checked.address
    assert address is not None
    equipped = Premises.objects.filter(address=address, equipped=True).exists()
    modes = [
        (Contract.InstallationMode.KIT, _("Envoi du kit par transporteur")),
        (Contract.InstallationMode.INSTALLER, _("Visite d'un installateur")),
    ]
    if equipped:
        modes.insert(0, (Contract.InstallationMode.EQUIPPED, _("Logement déjà équipé")))
    return {
        "equipped": equipped,
        "modes": modes,
        "eligible": state.checked.eligible,
    }


def _summary_context(funnel: Funnel, state: Progress) -> dict[str, Any]:
    checked = state.checked
    eligible = checked.eligible
    options_total = sum((o.monthly_price for o in checked.options), start=ZERO)
    monthly_total: Decimal | None = (
        eligible.monthly_price + options_total if eligible is not None else None
    )
    signup_request = state.request
    return {
        "request": signup_request,
        "eligible": eligible,
        "options": checked.options,
        "monthly_total": monthly_total,
        "iban": checked.iban,
        "cgv": cgv_in_force(on=timezone.localdate()),
        "installation_mode_label": Contract.InstallationMode(signup_request.installation_mode).label
        if signup_request.installation_mode in Contract.InstallationMode.values
        else "",
        "civility_label": Customer.Civility(signup_request.civility).label
        if signup_request.civility in Customer.Civility.values
        else "",
        "payment_label": Contract.PaymentMethod(signup_request.payment_method).label
        if signup_request.payment_method in Contract.PaymentMethod.values
        else "",
        "step_urls": {s.slug: _step_url(s) for s in STEPS},
        "withdrawal_days": Policy.get().withdrawal_days,
    }


_STEP_CONTEXT = {
    "offre": _offer_context,
    "coordonnees": _identity_context,
    "adresses": _addresses_context,
    "paiement": _payment_context,
    "installation": _installation_context,
    "recapitulatif": _summary_context,
}
