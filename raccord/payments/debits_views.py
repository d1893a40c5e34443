"""Back-office pages of the direct debits (billing and admin roles): the debit files with their
figures and status, creating the files of a month, downloading one, marking it sent and
settled, importing a returns file and reading its report.

Views are thin: every change is a service that records the agent in the history."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.backoffice.roles import ROLE_ADMIN, ROLE_BILLING, role_required
from raccord.backoffice.views import _render
from raccord.billing.models import Document
from raccord.core.errors import DomainError
from raccord.core.events import Actor
from raccord.core.models import Policy
from raccord.payments.debits import (
    debit_batch_settle,
    debit_batch_status_counts,
    debit_batch_submit,
    debit_file_deadline,
    debit_files_for_month,
)
from raccord.payments.models import Debit, DebitBatch, ReturnImport
from raccord.payments.returns import MAX_BYTES, returns_import
from raccord.payments.sepa.batch_file import batch_figures
from raccord.payments.sepa.reasons import reason_get
from raccord.payments.sepa.schemas import PAIN008_VERSIONS, pain008_validate
from raccord.payments.tasks import BACKGROUND_FROM, debit_files_create

logger = logging.getLogger(__name__)
BATCHES_SHOWN = 36
DEBITS_SHOWN = 200
IMPORTS_SHOWN = 24
BILLING = (ROLE_BILLING, ROLE_ADMIN)


def _in_background(request: HttpRequest, *, form: DebitFileForm, month: dt.date) -> bool:
    """A big month goes to a worker when one runs (a broker is configured): the page says so
    and the files appear in the list when they are made. Small months, and a laptop without a
    broker, are made at once."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    last = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    due = Document.objects.filter(
        payment_method="sepa", due_date__gte=month, due_date__lte=last, total__gt=0
    ).count()
    if due < BACKGROUND_FROM:
        return False
    debit_files_create.delay(
        month.isoformat(),
        request.user.pk,
        form.cleaned_data["version"],
        form.cleaned_data["forcer"],
    )
    messages.info(
        request,
        _(
            "%(n)s factures à prélever : les fichiers sont créés en arrière-plan et "
            "apparaîtront dans cette liste (rechargez la page dans quelques minutes)."
        )
        % {"n": due},
    )
    return True


def _agent(request: HttpRequest) -> Actor:
    return Actor.agent(cast("User", request.user))


class DebitFileForm(AccessibleFormMixin, forms.Form):
    mois = forms.CharField(
        label=gettext_lazy("Mois des prélèvements"),
        max_length=7,
        help_text=gettext_lazy("Au format AAAA-MM : un fichier par date de prélèvement du mois."),
        error_messages={"required": gettext_lazy("Indiquez le mois à prélever.")},
        widget=forms.TextInput(attrs={"type": "month", "inputmode": "numeric"}),
    )
    version = forms.ChoiceField(
        label=gettext_lazy("Version du format"),
        choices=[(v, f"pain.008.{v}") for v in PAIN008_VERSIONS],
    )
    forcer = forms.BooleanField(
        label=gettext_lazy(
            "Créer le fichier même après la date limite (un jour ouvré avant le prélèvement)"
        ),
        required=False,
    )

    def clean_mois(self) -> dt.date:
        raw = self.cleaned_data["mois"].strip()
        try:
            year, month = (int(part) for part in raw.split("-"))
            value = dt.date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(
                _("Indiquez un mois au format AAAA-MM, par exemple 2027-03.")
            ) from None
        if not 2000 <= value.year <= 2100:
            raise forms.ValidationError(_("Indiquez un mois entre 2000 et 2100."))
        return value


class SettleForm(AccessibleFormMixin, forms.Form):
    le = forms.DateField(
        label=gettext_lazy("Encaissé le"),
        error_messages={
            "required": gettext_lazy("Indiquez la date d'encaissement."),
            "invalid": gettext_lazy("Indiquez une date, par exemple 05/03/2027."),
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )


class ReturnsForm(AccessibleFormMixin, forms.Form):
    fichier = forms.FileField(
        label=gettext_lazy("Fichier de rejets de la banque"),
        help_text=gettext_lazy("pain.002.001.03, camt.054.001.02 ou camt.054.001.08 (XML)."),
        error_messages={"required": gettext_lazy("Choisissez le fichier reçu de la banque.")},
    )

    def clean_fichier(self) -> Any:
        upload = self.cleaned_data["fichier"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("Ce fichier est trop volumineux."))
        return upload


def _batches_page(request: HttpRequest, *, form: DebitFileForm, status: int = 200) -> HttpResponse:
    form.mark_for_assistive_technologies()
    batches = list(DebitBatch.objects.order_by("-debit_date", "-rank")[:BATCHES_SHOWN])
    returned = dict(
        Debit.objects.filter(batch__in=[b.pk for b in batches], status=Debit.Status.RETURNED)
        .order_by()
        .values("batch_id")
        .annotate(n=Count("pk"))
        .values_list("batch_id", "n")
    )
    rows = [
        {
            "batch": b,
            "returned": returned.get(b.pk, 0),
            "deadline": debit_file_deadline(b.debit_date),
        }
        for b in batches
    ]
    return _render(
        request, "payments/debits/batches.html", {"form": form, "rows": rows}, status=status
    )


@role_required(*BILLING)
def debit_batches(request: HttpRequest) -> HttpResponse:
    """The debit files, and the form that creates those of a month (POST)."""
    if request.method == "POST":
        return _create(request)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    today = timezone.localdate()
    form = DebitFileForm(
        initial={"mois": f"{today:%Y-%m}", "version": Policy.get().pain008_version}
    )
    return _batches_page(request, form=form)


def _create(request: HttpRequest) -> HttpResponse:
    form = DebitFileForm(request.POST)
    if not form.is_valid():
        return _batches_page(request, form=form, status=400)
    month: dt.date = form.cleaned_data["mois"]
    if _in_background(request, form=form, month=month):
        return redirect("backoffice:debit_batches")
    try:
        results = debit_files_for_month(
            month=month,
            at=timezone.now(),
            actor=_agent(request),
            version=form.cleaned_data["version"],
            force=form.cleaned_data["forcer"],
        )
    except DomainError as error:
        form.add_error("forcer" if error.code == "deadline" else "mois", error.message)
        return _batches_page(request, form=form, status=400)
    if not results:
        messages.info(request, _("Aucune facture à prélever ce mois-ci."))
        return redirect("backoffice:debit_batches")
    for result in results:
        batch = result.batch
        if batch is None:
            messages.info(
                request,
                _("%(day)s : rien de nouveau à prélever.")
                % {"day": result.debit_date.strftime("%d/%m/%Y")},
            )
            continue
        check = pain008_validate(batch.file.path, version=batch.version)
        text = _(
            "%(id)s du %(day)s : %(count)s prélèvement(s), %(added)s ajouté(s) maintenant."
        ) % {
            "id": batch.message_id,
            "day": batch.debit_date.strftime("%d/%m/%Y"),
            "count": batch.count,
            "added": result.added,
        }
        if not check.valid:
            messages.error(
                request,
                text + " " + _("Fichier non conforme au schéma : %(e)s") % {"e": check.error},
            )
        else:
            messages.success(request, text)
        if result.without_mandate_count:
            messages.warning(
                request,
                _("%(n)s facture(s) sans mandat en vigueur, non prélevée(s) : %(list)s")
                % {"n": result.without_mandate_count, "list": ", ".join(result.without_mandate)},
            )
    if len(results) == 1 and results[0].batch is not None:
        return redirect("backoffice:debit_batch", batch_id=results[0].batch.pk)
    return redirect("backoffice:debit_batches")


def _batch_or_404(batch_id: int) -> DebitBatch:
    batch = DebitBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise Http404(_("Fichier de prélèvements inconnu."))
    return batch


def _batch_page(
    request: HttpRequest, batch: DebitBatch, *, settle_form: SettleForm, status: int = 200
) -> HttpResponse:
    settle_form.mark_for_assistive_technologies()
    statuses = debit_batch_status_counts(batch)
    debits = list(
        Debit.objects.filter(batch=batch)
        .select_related("customer", "mandate")
        .order_by("pk")[:DEBITS_SHOWN]
    )
    return _render(
        request,
        "payments/debits/batch.html",
        {
            "batch": batch,
            "figures": batch_figures(batch),
            "statuses": [
                (label, *statuses.get(value, (0, None))) for value, label in Debit.Status.choices
            ],
            "debits": debits,
            "more": max(0, batch.count - len(debits)),
            "settle_form": settle_form,
            "deadline": debit_file_deadline(batch.debit_date),
        },
        status=status,
    )


@role_required(*BILLING)
def debit_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    return _batch_page(
        request, batch, settle_form=SettleForm(initial={"le": batch.debit_date.isoformat()})
    )


@role_required(*BILLING)
def debit_batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    if not batch.file:
        raise Http404(_("Ce fichier n'a pas encore été écrit."))
    logger.info(
        "backoffice debit file downloaded batch=%s agent=%s", batch.message_id, request.user.pk
    )
    response = FileResponse(
        batch.file.open("rb"),
        content_type="application/xml",
        as_attachment=True,
        filename=f"{batch.message_id}.xml",
    )
    return cast("HttpResponse", response)


@require_POST
@role_required(*BILLING)
def debit_batch_submit_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    debit_batch_submit(batch=batch, on=timezone.localdate(), actor=_agent(request))
    messages.success(
        request, _("%(id)s est marqué transmis à la banque.") % {"id": batch.message_id}
    )
    return redirect("backoffice:debit_batch", batch_id=batch.pk)


@require_POST
@role_required(*BILLING)
def debit_batch_settle_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch_or_404(batch_id)
    form = SettleForm(request.POST)
    if not form.is_valid():
        return _batch_page(request, batch, settle_form=form, status=400)
    on: dt.date = form.cleaned_data["le"]
    if on > timezone.localdate():
        form.add_error("le", _("Cette date n'est pas encore arrivée."))
        return _batch_page(request, batch, settle_form=form, status=400)
    try:
        debit_batch_settle(batch=batch, on=on, actor=_agent(request))
    except DomainError as error:
        form.add_error("le", error.message)
        return _batch_page(request, batch, settle_form=form, status=400)
    messages.success(request, _("%(id)s est marqué encaissé.") % {"id": batch.message_id})
    return redirect("backoffice:debit_batch", batch_id=batch.pk)


# --- returns -------------------------------------------------------------------------------


def _returns_page(request: HttpRequest, *, form: ReturnsForm, status: int = 200) -> HttpResponse:
    form.mark_for_assistive_technologies()
    imports = list(ReturnImport.objects.order_by("-imported_on", "-id")[:IMPORTS_SHOWN])
    return _render(
        request,
        "payments/debits/returns.html",
        {"form": form, "imports": imports},
        status=status,
    )


@role_required(*BILLING)
def debit_returns(request: HttpRequest) -> HttpResponse:
    """The returns imports, and the upload of a new file (POST)."""
    if request.method == "GET":
        return _returns_page(request, form=ReturnsForm())
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    form = ReturnsForm(request.POST, request.FILES)
    if not form.is_valid():
        return _returns_page(request, form=form, status=400)
    upload = form.cleaned_data["fichier"]
    try:
        report = returns_import(
            content=upload.read(),
            filename=upload.name,
            on=timezone.localdate(),
            actor=_agent(request),
        )
    except DomainError as error:
        form.add_error("fichier", error.message)
        return _returns_page(request, form=form, status=400)
    if report.already_imported:
        messages.info(request, _("Ce fichier avait déjà été importé : rien n'a changé."))
    return redirect("backoffice:debit_return", import_id=report.record.pk)


@role_required(*BILLING)
def debit_return(request: HttpRequest, import_id: int) -> HttpResponse:
    record = ReturnImport.objects.filter(pk=import_id).first()
    if record is None:
        raise Http404(_("Import inconnu."))
    debits = list(
        Debit.objects.filter(return_source__startswith=f"{record.sha256}:")
        .select_related("batch", "customer")
        .order_by("pk")
    )
    total = sum((d.amount for d in debits), start=Decimal("0.00"))
    return _render(
        request,
        "payments/debits/return.html",
        {
            "record": record,
            "debits": [(d, reason_get(d.return_reason)) for d in debits],
            "total": total,
        },
    )
