"""Back-office billing pages: the monthly run (preview, launch, progress). Documents and the
termination preview are in ``document_views``.

Reading a preview changes nothing; launching a run is an agent action and is recorded in the
history (event without customer)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_BILLING, role_required
from raccord.backoffice.views import _render
from raccord.billing.explain.french import day_text
from raccord.billing.explain.french import month_text as _month_text
from raccord.billing.models import BillingRun, Document
from raccord.billing.run import run_date_of
from raccord.billing.tasks_preview import (
    STATUS_DONE,
    STATUS_RUNNING,
    billing_preview_task,
    preview_get,
    preview_running,
    preview_start,
)
from raccord.billing.tasks_run import billing_run_task
from raccord.core.errors import DomainError
from raccord.core.events import Actor, event_record
from raccord.core.identity import seller_identity_check, seller_identity_problems
from raccord.core.models import Event, OperatorProfile
from raccord.core.money import ZERO
from raccord.core.ratelimit import rate_limit_hit

logger = logging.getLogger(__name__)


# --- the monthly run (B1, B8) -------------------------------------------------------------

RUNS_SHOWN = 24
REFRESH_SECONDS = 5


class MonthForm(AccessibleFormMixin, forms.Form):
    mois = forms.CharField(
        label=gettext_lazy("Mois à facturer"),
        max_length=7,
        help_text=gettext_lazy("Au format AAAA-MM, par exemple 2027-02."),
        error_messages={"required": gettext_lazy("Indiquez le mois à facturer.")},
        widget=forms.TextInput(attrs={"type": "month", "inputmode": "numeric"}),
    )

    def clean_mois(self) -> dt.date:
        raw = self.cleaned_data["mois"].strip()
        try:
            year, month = (int(part) for part in raw.split("-"))
            value = dt.date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(
                _("Indiquez un mois au format AAAA-MM, par exemple 2027-02.")
            ) from None
        if not 2000 <= value.year <= 2100:
            raise forms.ValidationError(_("Indiquez un mois entre 2000 et 2100."))
        return value


class LaunchForm(MonthForm):
    confirmer = forms.BooleanField(
        label=gettext_lazy(
            "J'ai vérifié l'aperçu et je lance l'émission des factures et des avoirs de ce mois."
        ),
        error_messages={"required": gettext_lazy("Cochez la case pour confirmer le lancement.")},
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        month = cleaned.get("mois")
        if isinstance(month, dt.date):
            run_date = run_date_of(month)
            if self.today < run_date:
                self.add_error(
                    "mois",
                    _(
                        "La facturation de %(month)s est datée du %(day)s : elle pourra être "
                        "lancée à partir de ce jour."
                    )
                    % {"month": _month_text(month), "day": day_text(run_date)},
                )
            elif BillingRun.objects.filter(month=month, status=BillingRun.Status.DONE).exists():
                self.add_error(
                    "mois",
                    _(
                        "La facturation de %(month)s est déjà terminée : la relancer "
                        "n'émettrait rien de plus."
                    )
                    % {"month": _month_text(month)},
                )
        try:
            seller_identity_check()
        except DomainError as error:
            self.add_error(None, error.message)
        return cleaned


@dataclass(frozen=True)
class RunRow:
    run: BillingRun
    invoices: int
    credit_notes: int
    total_invoiced: Decimal
    total_credited: Decimal


def _run_figures(runs: list[BillingRun]) -> list[RunRow]:
    """Each run with its documents counted and summed, all runs in one query: a run still in
    progress has no counts of its own yet (they are written when it ends)."""
    figures: dict[tuple[int, str], tuple[int, Decimal]] = {}
    rows = (
        Document.objects.filter(run__in=[r.pk for r in runs])
        .order_by()
        .values("run_id", "kind")
        .annotate(n=Count("pk"), total=Sum("total"))
    )
    for row in rows:
        figures[(row["run_id"], row["kind"])] = (row["n"], row["total"] or ZERO)
    result = []
    for run in runs:
        invoices = figures.get((run.pk, Document.Kind.INVOICE), (0, ZERO))
        credits = figures.get((run.pk, Document.Kind.CREDIT_NOTE), (0, ZERO))
        result.append(RunRow(run, invoices[0], credits[0], invoices[1], credits[1]))
    return result


PREVIEW_REFRESH_SECONDS = 2
# A preview reads every customer (minutes at a million): an agent may ask for this many in
# PREVIEW_RATE_WINDOW seconds.
PREVIEW_RATE_LIMIT = 5
PREVIEW_RATE_WINDOW = 10 * 60


@dataclass(frozen=True)
class PreviewView:
    """A preview as the page shows it, read back from the cache entry of the task."""

    month: dt.date
    request_id: str
    status: str  # "running" | "done" | "failed"
    done: int
    total: int | None
    percent: int
    message: str
    run_date: dt.date | None = None
    invoices: int = 0
    credit_notes: int = 0
    total_invoiced: Decimal = ZERO
    total_credited: Decimal = ZERO
    computed_at: dt.datetime | None = None


def _preview_view(state: dict[str, Any], *, month: dt.date, request_id: str) -> PreviewView:
    total = state.get("total")
    done = int(state.get("done") or 0)
    percent = min(100, done * 100 // total) if total else 0
    view = PreviewView(
        month=month,
        request_id=request_id,
        status=str(state.get("status", "")),
        done=done,
        total=total,
        percent=percent,
        message=str(state.get("message") or ""),
    )
    if view.status != STATUS_DONE:
        return view
    return replace(
        view,
        percent=100,
        run_date=dt.date.fromisoformat(state["run_date"]),
        invoices=int(state["invoices"]),
        credit_notes=int(state["credit_notes"]),
        total_invoiced=Decimal(state["total_invoiced"]),
        total_credited=Decimal(state["total_credited"]),
        computed_at=dt.datetime.fromisoformat(state["computed_at"]),
    )


def _runs_page(
    request: HttpRequest,
    *,
    month_form: MonthForm,
    launch_form: LaunchForm | None,
    preview: PreviewView | None = None,
    preview_missing: bool = False,
    month_done: bool = False,
    status: int = 200,
) -> HttpResponse:
    month_form.mark_for_assistive_technologies()
    if launch_form is not None:
        launch_form.mark_for_assistive_technologies()
    runs = list(BillingRun.objects.order_by("-month")[:RUNS_SHOWN])
    waiting = preview is not None and preview.status == STATUS_RUNNING
    return _render(
        request,
        "backoffice/billing_runs.html",
        {
            "month_form": month_form,
            "launch_form": launch_form,
            "preview": preview,
            "preview_missing": preview_missing,
            "month_done": month_done,
            "preview_month": _month_text(preview.month) if preview else "",
            "refresh_seconds": PREVIEW_REFRESH_SECONDS if waiting else None,
            "runs": _run_figures(runs),
            "identity_problems": seller_identity_problems(OperatorProfile.get()),
        },
        status=status,
    )


def _preview_url(month: dt.date, request_id: str, **extra: str) -> str:
    query = urlencode({"mois": f"{month:%Y-%m}", "apercu": request_id, **extra})
    return f"{reverse('backoffice:billing_runs')}?{query}"


def _preview_json(state: dict[str, Any] | None, *, month: dt.date, request_id: str) -> JsonResponse:
    if state is None:
        return JsonResponse(
            {"month": month.isoformat(), "status": "unknown", "message": _preview_missing_text()},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    keys = (
        "status",
        "done",
        "total",
        "message",
        "run_date",
        "invoices",
        "credit_notes",
        "total_invoiced",
        "total_credited",
        "computed_at",
    )
    body: dict[str, Any] = {"month": month.isoformat(), "request_id": request_id}
    body.update({key: state.get(key) for key in keys})
    body["page_url"] = _preview_url(month, request_id)
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _preview_missing_text() -> str:
    return _(
        "Cet aperçu est introuvable ou a expiré (un aperçu est conservé une heure). "
        "Demandez un nouvel aperçu."
    )


@role_required(ROLE_BILLING, ROLE_ADMIN)
def billing_runs(request: HttpRequest) -> HttpResponse:
    """Choose a month; « Aperçu » (POST) queues the dry run, which writes nothing, then the
    page follows it (``?mois=…&apercu=<id>``, refreshed until the figures are there; the same
    state as JSON with ``&format=json``)."""
    today = timezone.localdate()
    if request.method == "POST":
        return _preview_request(request)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    if "mois" not in request.GET:
        month_form = MonthForm(initial={"mois": f"{today:%Y-%m}"})
        return _runs_page(request, month_form=month_form, launch_form=None)
    month_form = MonthForm(request.GET)
    if not month_form.is_valid():
        return _runs_page(request, month_form=month_form, launch_form=None, status=400)
    month: dt.date = month_form.cleaned_data["mois"]
    request_id = request.GET.get("apercu", "")
    if not request_id:
        # a month chosen from a link: the form is filled in, the preview is one click away
        return _runs_page(request, month_form=month_form, launch_form=None)
    state = preview_get(month=month, request_id=request_id)
    if request.GET.get("format") == "json":
        return _preview_json(state, month=month, request_id=request_id)
    if state is None:
        return _runs_page(
            request, month_form=month_form, launch_form=None, preview_missing=True, status=404
        )
    preview = _preview_view(state, month=month, request_id=request_id)
    launch_form = None
    month_done = BillingRun.objects.filter(month=month, status=BillingRun.Status.DONE).exists()
    if preview.status == STATUS_DONE and not month_done:
        launch_form = LaunchForm(initial={"mois": f"{month:%Y-%m}"}, today=today)
    return _runs_page(
        request,
        month_form=month_form,
        launch_form=launch_form,
        preview=preview,
        month_done=month_done,
    )


def _preview_request(request: HttpRequest) -> HttpResponse:
    month_form = MonthForm(request.POST)
    if not month_form.is_valid():
        return _runs_page(request, month_form=month_form, launch_form=None, status=400)
    month: dt.date = month_form.cleaned_data["mois"]
    now = timezone.now()
    running = preview_running(month=month, now=now)
    if running is not None:
        # Asked again (a second click, another agent): the same computation, not a second one.
        messages.info(
            request,
            _("Un aperçu de %(month)s est déjà en cours de calcul : voici son avancement.")
            % {"month": _month_text(month)},
        )
        return redirect(_preview_url(month, running))
    if rate_limit_hit(
        scope="billing-preview",
        key=str(request.user.pk),
        limit=PREVIEW_RATE_LIMIT,
        window_seconds=PREVIEW_RATE_WINDOW,
    ):
        month_form.add_error(
            None,
            _(
                "Trop d'aperçus demandés en peu de temps : un aperçu parcourt tous les clients. "
                "Patientez quelques minutes avant d'en demander un autre."
            ),
        )
        return _runs_page(request, month_form=month_form, launch_form=None, status=429)
    request_id = uuid.uuid4().hex
    preview_start(month=month, request_id=request_id, at=now)
    logger.info(
        "backoffice billing preview requested month=%s request=%s agent=%s",
        month.isoformat(),
        request_id,
        request.user.pk,
    )
    # Without a broker Celery runs it right here and the result is already in the cache.
    billing_preview_task.delay(month.isoformat(), request_id)
    return redirect(_preview_url(month, request_id))


@require_POST
@role_required(ROLE_BILLING, ROLE_ADMIN)
def billing_run_launch(request: HttpRequest) -> HttpResponse:
    """Launch (or resume) the run of a month in the background, after confirmation. The
    launch is recorded in the history; the run itself records its ``BillingRun`` row."""
    today = timezone.localdate()
    form = LaunchForm(request.POST, today=today)
    if not form.is_valid():
        month_form = MonthForm(initial={"mois": request.POST.get("mois", "")})
        return _runs_page(request, month_form=month_form, launch_form=form, status=400)
    month: dt.date = form.cleaned_data["mois"]
    existing = BillingRun.objects.filter(month=month).first()
    user = cast("User", request.user)
    with transaction.atomic():
        event_record(
            actor=Actor.agent(user),
            verb="billing.run_launched",
            at=timezone.now(),
            subject_type="billing_run",
            subject_id=existing.pk if existing else None,
            customer_id=None,
            summary=(
                _("Facturation de %(month)s reprise")
                if existing
                else _("Facturation de %(month)s lancée")
            )
            % {"month": _month_text(month)},
            data={"month": month.isoformat(), "resumed": existing is not None},
        )
        # Queued once the event is committed; without a broker Celery runs it right here.
        transaction.on_commit(partial(billing_run_task.delay, month.isoformat()))
    messages.success(
        request,
        _("La facturation de %(month)s est lancée.") % {"month": _month_text(month)},
    )
    return redirect("backoffice:billing_run", month=f"{month:%Y-%m}")


def _month_of(raw: str) -> dt.date:
    try:
        year, month = (int(part) for part in raw.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise Http404(_("Mois inconnu.")) from None


@dataclass(frozen=True)
class RunState:
    month: dt.date
    status: str  # "not_started" | "running" | "done"
    row: RunRow | None
    launched: bool


def _run_state(month: dt.date) -> RunState:
    run = BillingRun.objects.filter(month=month).first()
    if run is None:
        launched = Event.objects.filter(
            verb="billing.run_launched", data__month=month.isoformat()
        ).exists()
        return RunState(month=month, status="not_started", row=None, launched=launched)
    return RunState(month=month, status=run.status, row=_run_figures([run])[0], launched=True)


@role_required(ROLE_BILLING, ROLE_ADMIN)
def billing_run(request: HttpRequest, month: str) -> HttpResponse:
    """The progress of a month's run; the page refreshes itself while the run is going."""
    state = _run_state(_month_of(month))
    waiting = state.status == BillingRun.Status.RUNNING or (
        state.status == "not_started" and state.launched
    )
    return _render(
        request,
        "backoffice/billing_run.html",
        {
            "state": state,
            "month_label": _month_text(state.month),
            "refresh_seconds": REFRESH_SECONDS if waiting else None,
            "status_url": reverse("backoffice:billing_run_status", args=[month]),
        },
    )


@role_required(ROLE_BILLING, ROLE_ADMIN)
def billing_run_status(request: HttpRequest, month: str) -> JsonResponse:
    """The same progress as JSON, for a script or a page that polls."""
    state = _run_state(_month_of(month))
    row = state.row
    return JsonResponse(
        {
            "month": state.month.isoformat(),
            "status": state.status,
            "launched": state.launched,
            "started_at": row.run.started_at.isoformat() if row else None,
            "finished_at": row.run.finished_at.isoformat() if row and row.run.finished_at else None,
            "invoices": row.invoices if row else 0,
            "credit_notes": row.credit_notes if row else 0,
            "total_invoiced": str(row.total_invoiced) if row else "0.00",
            "total_credited": str(row.total_credited) if row else "0.00",
        },
        json_dumps_params={"ensure_ascii": False},
    )
