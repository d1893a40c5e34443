"""Back-office form of a network incident. It only parses; the rules are in
``raccord.network.incidents``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.catalog.models import Zone

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _moment(label: Any, *, required: bool, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATETIME_FORMATS,
        widget=_DateTimeInput(),
        error_messages={
            "required": _("Indiquez la date et l'heure."),
            "invalid": _("Indiquez une date et une heure, par exemple 12/06/2027 14:30."),
        },
    )


class IncidentForm(AccessibleFormMixin, forms.Form):
    title = forms.CharField(
        label=_("Intitulé"),
        max_length=150,
        error_messages={"required": _("Donnez un intitulé à l'incident.")},
    )
    zone = forms.ModelChoiceField(
        label=_("Zone touchée"),
        queryset=Zone.objects.order_by("name"),
        required=False,
        empty_label=_("— aucune : seulement les communes listées —"),
        help_text=_("Sans liste de communes, toute la zone est touchée."),
    )
    relay_site = forms.CharField(
        label=_("Site relais (facultatif)"),
        max_length=150,
        required=False,
        help_text=_(
            "Le point haut ou le nœud en panne, par exemple « Relais du Haut-Koenigsbourg »."
        ),
    )
    communes = forms.CharField(
        label=_("Communes touchées (codes INSEE)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Séparés par des virgules ou des espaces, par exemple 67462, 67348."),
    )
    started_at = _moment(_("Début"), required=True)
    expected_end_at = _moment(_("Rétablissement prévu"), required=False)
    ended_at = _moment(
        _("Fin de l'incident"),
        required=False,
        help_text=_("À remplir quand le service est rétabli."),
    )
    public_message = forms.CharField(
        label=_("Message aux abonnés"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Affiché dans Mon Compte des abonnés concernés tant que l'incident dure."),
    )


class GestureGrantForm(forms.Form):
    outage = forms.CharField(max_length=40)
