"""« Et si… ? » (what if): an agent replays a customer's real contract in the simulator and adds
one hypothetical event (a termination, an offer change, a gesture after an outage) to see the
documents it would bring.

The real life is rebuilt by ``raccord.simulator.from_contract`` and played by the same child
process as ``raccord simulate``, on a throw-away database: the operator's database is only
read. A preview records nothing in the customer's history; the use is logged (no personal
data) and rate-limited per agent, each run taking a few seconds of CPU."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_AGENT, ROLE_BILLING, role_required
from raccord.backoffice.views import _render
from raccord.contracts.commitment import add_months_same_day
from raccord.contracts.models import Contract
from raccord.core.ratelimit import rate_limit_hit
from raccord.eligibility.services import eligibility_check
from raccord.simulator.from_contract import TEST_IBAN, scenario_from_contract
from raccord.simulator.sandbox import sandbox_play
from raccord.simulator.scenario import ScenarioError

logger = logging.getLogger(__name__)

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
# Each run plays years of days in a child process: a handful a minute per agent is plenty.
RATE_SCOPE = "bo-whatif"
RATE_LIMIT = 6
RATE_WINDOW_SECONDS = 60
CHILD_TIMEOUT_SECONDS = 120
INVALID_SCENARIO = 2

EVENT_LABELS = {
    "signup": gettext_lazy("Souscription"),
    "equipment_received": gettext_lazy("Matériel reçu"),
    "installation": gettext_lazy("Installation par un technicien"),
    "first_connection": gettext_lazy("Première connexion (mise en service)"),
    "ineligible": gettext_lazy("Déclaré inéligible"),
    "cancellation": gettext_lazy("Annulation"),
    "withdrawal": gettext_lazy("Rétractation"),
    "offer_change": gettext_lazy("Changement d'offre"),
    "outage": gettext_lazy("Coupure"),
    "gesture_request": gettext_lazy("Demande de geste commercial"),
    "termination_request": gettext_lazy("Demande de résiliation"),
    "equipment_exchange": gettext_lazy("Échange de matériel"),
    "equipment_returned": gettext_lazy("Retour de matériel"),
    "daily": gettext_lazy("Traitements quotidiens"),
}
HYPOTHESES = [
    ("", gettext_lazy("aucun (la vie réelle seule, prolongée)")),
    ("termination_request", gettext_lazy("Demande de résiliation")),
    ("offer_change", gettext_lazy("Changement d'offre")),
    ("gesture_request", gettext_lazy("Geste commercial après une coupure")),
]
DATE_WIDGET = {"type": "date"}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _date_field(label: Any, *, required: bool, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Indiquez une date."),
            "invalid": gettext_lazy("Date invalide : utilisez le format JJ/MM/AAAA."),
        },
    )


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "invalid": gettext_lazy("Date et heure invalides : utilisez JJ/MM/AAAA HH:MM.")
        },
    )


class WhatIfForm(AccessibleFormMixin, forms.Form):
    jusqu_au = _date_field(
        gettext_lazy("Simuler jusqu'au"),
        required=True,
        help_text=gettext_lazy("Au plus cinq ans après aujourd'hui."),
    )
    hypothese = forms.ChoiceField(
        label=gettext_lazy("Événement hypothétique"),
        required=False,
        choices=HYPOTHESES,
        error_messages={"invalid_choice": gettext_lazy("Choisissez un événement de la liste.")},
    )
    date_evenement = _date_field(
        gettext_lazy("Date de la demande"),
        required=False,
        help_text=gettext_lazy("Le jour où l'abonné ferait la demande."),
    )
    date_souhaitee = _date_field(
        gettext_lazy("Résiliation : date d'effet souhaitée (facultatif)"),
        required=False,
        help_text=gettext_lazy("Vide : la date d'effet suit le préavis."),
    )
    offre = forms.ChoiceField(
        label=gettext_lazy("Changement d'offre : nouvelle offre"),
        required=False,
        error_messages={
            "invalid_choice": gettext_lazy(
                "Choisissez une offre disponible à l'adresse d'installation."
            )
        },
    )
    date_effet = _date_field(
        gettext_lazy("Changement d'offre : date d'effet"),
        required=False,
        help_text=gettext_lazy("Vide : le jour de la demande."),
    )
    coupure_debut = _datetime_field(gettext_lazy("Geste : début de la coupure"))
    coupure_fin = _datetime_field(gettext_lazy("Geste : fin de la coupure"))

    def __init__(
        self,
        *args: Any,
        today: dt.date,
        contract: Contract,
        offers: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.contract = contract
        offre = self.fields["offre"]
        assert isinstance(offre, forms.ChoiceField)
        offre.choices = [("", _("choisissez une offre")), *offers]

    def clean_jusqu_au(self) -> dt.date:
        value: dt.date = self.cleaned_data["jusqu_au"]
        latest = add_months_same_day(self.today, MAX_MONTHS)
        if value > latest:
            raise forms.ValidationError(
                _("Choisissez une date au plus tard le %(day)s (cinq ans).")
                % {"day": latest.strftime("%d/%m/%Y")}
            )
        if value < self.contract.signup_date:
            raise forms.ValidationError(
                _("Choisissez une date après la souscription du %(day)s.")
                % {"day": self.contract.signup_date.strftime("%d/%m/%Y")}
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("hypothese") or ""
        if not kind:
            return data
        day = data.get("date_evenement")
        until = data.get("jusqu_au")
        if day is None and "date_evenement" not in self.errors:
            self.add_error("date_evenement", _("Indiquez la date de la demande."))
        elif day is not None:
            if day < self.contract.signup_date:
                self.add_error(
                    "date_evenement",
                    _("Choisissez une date après la souscription du %(day)s.")
                    % {"day": self.contract.signup_date.strftime("%d/%m/%Y")},
                )
            elif until is not None and day > until:
                self.add_error(
                    "date_evenement",
                    _("La demande doit précéder la fin de la simulation (%(day)s).")
                    % {"day": until.strftime("%d/%m/%Y")},
                )
        if kind == "offer_change":
            if not data.get("offre") and "offre" not in self.errors:
                self.add_error("offre", _("Choisissez la nouvelle offre."))
            effect = data.get("date_effet")
            if effect is not None and day is not None and effect < day:
                self.add_error("date_effet", _("La date d'effet ne peut pas précéder la demande."))
            if effect is not None and until is not None and effect > until:
                self.add_error(
                    "date_effet", _("La date d'effet doit précéder la fin de la simulation.")
                )
        if kind == "gesture_request":
            start, end = data.get("coupure_debut"), data.get("coupure_fin")
            if start is None and "coupure_debut" not in self.errors:
                self.add_error("coupure_debut", _("Indiquez le début de la coupure."))
            if end is None and "coupure_fin" not in self.errors:
                self.add_error("coupure_fin", _("Indiquez la fin de la coupure."))
            if start is not None and end is not None:
                if end <= start:
                    self.add_error("coupure_fin", _("La fin de la coupure doit suivre son début."))
                elif day is not None and timezone.localtime(end).date() > day:
                    self.add_error(
                        "coupure_fin",
                        _("La coupure doit être terminée le jour de la demande de geste."),
                    )
                elif timezone.localtime(start).date() < self.contract.signup_date:
                    self.add_error("coupure_debut", _("La coupure doit suivre la souscription."))
        if kind == "termination_request":
            wished = data.get("date_souhaitee")
            if wished is not None and day is not None and wished < day:
                self.add_error(
                    "date_souhaitee",
                    _("La date d'effet souhaitée ne peut pas précéder la demande."),
                )
        return data

    def extra_events(self) -> list[dict[str, Any]]:
        """The hypothesis as scenario events (SIMULATOR.md)."""
        data = self.cleaned_data
        kind = data.get("hypothese") or ""
        if not kind:
            return []
        day = data["date_evenement"].isoformat()
        if kind == "termination_request":
            wished = data.get("date_souhaitee")
            return [
                {
                    "date": day,
                    "type": kind,
                    "requested_date": wished.isoformat() if wished else None,
                }
            ]
        if kind == "offer_change":
            event: dict[str, Any] = {"date": day, "type": kind, "offer": data["offre"]}
            if data.get("date_effet"):
                event["effective_date"] = data["date_effet"].isoformat()
            return [event]

        def paris(moment: dt.datetime) -> str:
            return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")

        return [
            {
                "date": day,
                "type": "outage",
                "start": paris(data["coupure_debut"]),
                "end": paris(data["coupure_fin"]),
            },
            {"date": day, "type": "gesture_request"},
        ]


@dataclass
class Simulation:
    result: dict[str, Any] | None = None
    error: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    total: Decimal = Decimal("0")


def _life_lines(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The scenario's events in words, for the agent."""
    lines = []
    for event in events:
        kind = event["type"]
        details = []
        if event.get("offer"):
            details.append(_("offre %(code)s") % {"code": event["offer"]})
        if event.get("options"):
            details.append(_("options %(codes)s") % {"codes": ", ".join(event["options"])})
        if event.get("effective_date"):
            details.append(_("effet le %(day)s") % {"day": _fr(event["effective_date"])})
        if event.get("requested_date"):
            details.append(_("date souhaitée %(day)s") % {"day": _fr(event["requested_date"])})
        if event.get("start") and event.get("end"):
            details.append(
                _("du %(start)s au %(end)s")
                % {"start": _fr_moment(event["start"]), "end": _fr_moment(event["end"])}
            )
        if "equipment" in event:
            # a reception that lent nothing says so (the simulator then lends nothing either)
            details.append(", ".join(event["equipment"]) or _("aucun matériel prêté"))
        lines.append(
            {
                "date": _fr(event["date"]),
                "label": str(EVENT_LABELS.get(kind, kind)),
                "details": " ; ".join(details),
            }
        )
    return lines


def _fr(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def _fr_moment(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%d/%m/%Y %H:%M")


def _play(scenario: dict[str, Any]) -> Simulation:
    """Run the scenario in the simulator's child process (the command's own sandbox)."""
    try:
        played = sandbox_play(
            json.dumps(scenario, ensure_ascii=False), timeout=CHILD_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return Simulation(error=_("La simulation a pris trop de temps : raccourcissez la période."))
    except OSError:
        logger.exception("backoffice what-if: the simulator could not start")
        return Simulation(error=_("Le simulateur n'a pas pu démarrer. Réessayez plus tard."))
    if played.returncode == INVALID_SCENARIO:
        message = played.stderr.strip().splitlines()[-1] if played.stderr.strip() else ""
        return Simulation(error=message or _("Le simulateur a refusé ce scénario."))
    if played.returncode != 0:
        logger.error("backoffice what-if: simulator exit status %s", played.returncode)
        return Simulation(error=_("La simulation a échoué. Réessayez plus tard."))
    try:
        result = json.loads(played.stdout)
    except ValueError:
        logger.error("backoffice what-if: the simulator printed no JSON")
        return Simulation(error=_("La simulation a échoué. Réessayez plus tard."))
    documents = []
    for document in result["documents"]:
        documents.append(
            {
                **document,
                "type_label": _("Facture") if document["type"] == "invoice" else _("Avoir"),
                "issue_date_fr": _fr(document["issue_date"]),
                "total_value": Decimal(document["total"]),
                "lines": [
                    {
                        **line,
                        "amount_value": Decimal(line["amount"]),
                        "period": _period(line),
                    }
                    for line in document["lines"]
                ],
            }
        )
    errors = [
        {
            "date": _fr(e["date"]),
            "event": str(EVENT_LABELS.get(e["event"], e["event"])),
            "message": e["message"],
        }
        for e in result.get("errors", [])
    ]
    commitment = result.get("commitment")
    result["facts"] = {
        "activation_date": _fr(result.get("activation_date")),
        "status": _status_label(result.get("status", "")),
        "commitment": _("du %(start)s au %(end)s")
        % {"start": _fr(commitment["start"]), "end": _fr(commitment["end"])}
        if commitment
        else "",
        "termination_effective_date": _fr(result.get("termination_effective_date")),
    }
    return Simulation(
        result=result,
        documents=documents,
        errors=errors,
        total=sum((d["total_value"] for d in documents), start=Decimal("0")),
    )


def _status_label(value: str) -> str:
    try:
        return str(Contract.Status(value).label)
    except ValueError:
        return value


def _period(line: dict[str, Any]) -> str:
    if line.get("period_start") and line.get("period_end"):
        return _("du %(start)s au %(end)s") % {
            "start": _fr(line["period_start"]),
            "end": _fr(line["period_end"]),
        }
    return ""


def _line_key(line: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    return (
        line["kind"],
        line["product"],
        line["label"],
        line.get("period_start") or "",
        line.get("period_end") or "",
        line["amount"],
    )


def _differences(base: Simulation, hypothesis: Simulation) -> dict[str, Any]:
    """Lines the hypothesis adds or removes compared with the real life alone (a multiset
    difference: the same line billed on another date is no difference)."""
    before = Counter(_line_key(line) for d in base.documents for line in d["lines"])
    after = Counter(_line_key(line) for d in hypothesis.documents for line in d["lines"])

    def lines(counter: Counter[tuple[str, str, str, str, str, str]]) -> list[dict[str, Any]]:
        shown = []
        for key, count in sorted(counter.items(), key=lambda item: (item[0][3], item[0][0])):
            kind, product, label, start, end, amount = key
            for _index in range(count):
                shown.append(
                    {
                        "kind": kind,
                        "product": product,
                        "label": label,
                        "period": _period({"period_start": start, "period_end": end}),
                        "amount_value": Decimal(amount),
                    }
                )
        return shown

    return {
        "added": lines(after - before),
        "removed": lines(before - after),
        "total": hypothesis.total - base.total,
    }


def _offer_choices(contract: Contract) -> list[tuple[str, str]]:
    local = eligibility_check(address=contract.installation_address)
    return [
        (
            item.offer.code,
            _("%(label)s – %(price)s €/mois")
            % {"label": item.offer.label, "price": f"{item.monthly_price:.2f}".replace(".", ",")},
        )
        for item in local.offers
        if item.offer.code != contract.offer.code
    ]


@require_http_methods(["GET", "POST"])
@role_required(ROLE_AGENT, ROLE_BILLING, ROLE_ADMIN)
def contract_whatif(request: HttpRequest, contract_id: int) -> HttpResponse:
    """GET: the contract's rebuilt life and the form; POST: play it in the simulator, with the
    hypothesis if one is given, and show the simulated documents. Writes nothing."""
    contract = (
        Contract.objects.select_related("customer", "offer", "installation_address")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise Http404(_("Contrat inconnu."))
    today = timezone.localdate()
    default_until = add_months_same_day(today, DEFAULT_MONTHS)
    form = WhatIfForm(
        request.POST if request.method == "POST" else None,
        today=today,
        contract=contract,
        offers=_offer_choices(contract),
        initial={"jusqu_au": default_until, "date_evenement": today},
    )
    context: dict[str, Any] = {
        "contract": contract,
        "customer": contract.customer,
        "form": form,
        "test_iban": TEST_IBAN,
        "life": [],
        "life_error": "",
        "hypothesis": [],
        "simulation": None,
        "baseline": None,
        "differences": None,
        "error": "",
    }
    status = 200
    life: dict[str, Any] | None
    try:
        life = scenario_from_contract(contract=contract, until=default_until, extra_events=[])
    except ScenarioError as exc:
        # The real life cannot be replayed (e.g. a state the simulator does not know yet).
        context["life_error"] = exc.message
        life = None
    else:
        context["life"] = _life_lines(life["events"])

    if request.method == "POST" and life is not None:
        if not form.is_valid():
            status = 400
        elif rate_limit_hit(
            scope=RATE_SCOPE,
            key=str(request.user.pk),
            limit=RATE_LIMIT,
            window_seconds=RATE_WINDOW_SECONDS,
        ):
            context["error"] = _(
                "Trop de simulations en peu de temps : patientez une minute avant de relancer."
            )
            status = 429
        else:
            status = _simulate(request, contract, form, context)
    form.mark_for_assistive_technologies()
    return _render(request, "backoffice/contract_whatif.html", context, status=status)


def _simulate(
    request: HttpRequest, contract: Contract, form: WhatIfForm, context: dict[str, Any]
) -> int:
    until = form.cleaned_data["jusqu_au"]
    extra = form.extra_events()
    try:
        scenario = scenario_from_contract(contract=contract, until=until, extra_events=extra)
    except ScenarioError as exc:
        if exc.where == "until":
            # e.g. an end before the last real event: the date field is at fault.
            form.add_error(
                "jusqu_au",
                _("Choisissez une date après le dernier événement réel du contrat."),
            )
        else:
            context["error"] = exc.message
        return 400
    # A preview, not a change: the access log has it, the customer's history does not.
    logger.info(
        "backoffice what-if contract=%s agent=%s hypothesis=%s until=%s",
        contract.pk,
        request.user.pk,
        form.cleaned_data.get("hypothese") or "none",
        until.isoformat(),
    )
    context["hypothesis"] = _life_lines(extra)
    simulation = _play(scenario)
    context["simulation"] = simulation
    if simulation.error:
        context["error"] = simulation.error
        return 200
    if extra:
        baseline = _play(scenario_from_contract(contract=contract, until=until, extra_events=[]))
        if not baseline.error:
            context["baseline"] = baseline
            context["differences"] = _differences(baseline, simulation)
    return 200
