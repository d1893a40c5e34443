"""Forms of the money pages (Mon Compte and back-office). They only shape the input: the rules
(RIB key, P4, allocation, idempotency) are the services', whose errors land on these fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from raccord.backoffice.forms import AccessibleFormMixin
from raccord.billing.explain.french import euros
from raccord.billing.models import Document
from raccord.core.errors import DomainError
from raccord.payments.models import Mandate, Payment
from raccord.portal.forms import PortalForm

IBAN_HELP = _(
    "27 caractères pour un compte français, par exemple FR76 3000 6000 0112 3456 7890 189."
)
DATE_INPUTS = ["%Y-%m-%d", "%d/%m/%Y"]


def _iban_field() -> forms.CharField:
    return forms.CharField(
        label=_("IBAN du nouveau compte"),
        max_length=42,
        help_text=IBAN_HELP,
        error_messages={"required": _("Indiquez l'IBAN du compte à prélever.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _holder_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=70,
        error_messages={"required": _("Indiquez le titulaire du compte.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class ServiceErrorsMixin:
    """Puts a service's ``DomainError`` on the field it names (or on top)."""

    field_aliases: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        name = self.field_aliases.get(error.field or "", error.field)
        form.add_error(name if name in form.fields else None, error.message)


class BankDetailsForm(PortalForm):
    """Mon Compte: the new mandate, signed by ticking the authorisation and typing the password."""

    field_aliases = {"debtor_name": "holder"}

    iban = _iban_field()
    holder = _holder_field(_("Titulaire du compte"))
    authorise = forms.BooleanField(
        label="",  # set in __init__: the mandate's wording names the operator
        error_messages={"required": _("Cochez la case pour signer le mandat.")},
    )
    password = forms.CharField(
        label=_("Votre mot de passe Mon Compte, pour signer"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Saisissez votre mot de passe pour signer le mandat.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, creditor: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authorise"].label = _(
            "J'autorise %(creditor)s à envoyer des instructions à ma banque pour débiter mon "
            "compte, et ma banque à débiter mon compte conformément à ces instructions. Je peux "
            "demander à ma banque le remboursement d'un prélèvement dans les 8 semaines qui "
            "suivent la date de débit (13 mois s'il n'était pas autorisé)."
        ) % {"creditor": creditor}


class AgentBankDetailsForm(ServiceErrorsMixin, AccessibleFormMixin, forms.Form):
    """Back-office: a new mandate taken by phone or from a signed paper form."""

    field_aliases = {"debtor_name": "holder"}

    iban = _iban_field()
    holder = _holder_field(_("Titulaire du compte"))
    method = forms.ChoiceField(
        label=_("Comment le client signe"),
        choices=[
            (
                Mandate.SignatureMethod.PHONE.value,
                _("Par téléphone : le client est en ligne avec moi"),
            ),
            (Mandate.SignatureMethod.PAPER.value, _("Formulaire papier signé, reçu par courrier")),
        ],
        widget=forms.RadioSelect,
    )
    signed_on = forms.DateField(
        label=_("Date de signature du formulaire papier"),
        required=False,
        input_formats=DATE_INPUTS,
        help_text=_("Seulement pour un formulaire papier : la date écrite par le client."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    agreed = forms.BooleanField(
        label=_("Le client a lu et accepté le texte du mandat (ou l'a signé sur papier)."),
        error_messages={"required": _("Cochez cette case une fois l'accord du client obtenu.")},
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("method") == Mandate.SignatureMethod.PAPER:
            signed_on = cleaned.get("signed_on")
            if signed_on is None:
                self.add_error("signed_on", _("Indiquez la date écrite sur le formulaire signé."))
            elif signed_on > self.today:
                self.add_error(
                    "signed_on", _("La date de signature ne peut pas être dans le futur.")
                )
        return cleaned


class InvoiceChoiceField(forms.TypedMultipleChoiceField):
    """The due invoices are offered; any id is accepted, the service checks it (the customer's,
    still due): a payment submitted twice finds its invoices paid and its key already known."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


class PaymentRecordForm(ServiceErrorsMixin, AccessibleFormMixin, forms.Form):
    field_aliases = {"documents": "invoices"}

    method = forms.ChoiceField(
        label=_("Mode de paiement"),
        choices=[
            (Payment.Method.CHEQUE.value, _("Chèque")),
            (Payment.Method.TRANSFER.value, _("Virement")),
            (Payment.Method.CARD.value, _("Carte bancaire")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=_("Montant reçu (€)"),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        localize=True,
        error_messages={
            "required": _("Indiquez le montant reçu."),
            "invalid": _("Indiquez un montant, par exemple 34,90."),
            "min_value": _("Le montant doit être positif."),
            "max_decimal_places": _("Le montant s'écrit en euros et centimes."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    received_on = forms.DateField(
        label=_("Reçu le"),
        input_formats=DATE_INPUTS,
        help_text=_(
            "Pour un chèque, le jour où il est arrivé (un chèque reçu le 10 ou après est en retard)."
        ),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    bank = forms.CharField(label=_("Banque du chèque"), max_length=60, required=False)
    number = forms.CharField(label=_("Numéro du chèque"), max_length=30, required=False)
    reference = forms.CharField(
        label=_("Référence du virement ou de l'autorisation carte"),
        max_length=80,
        required=False,
        help_text=_(
            "Telle qu'elle figure sur le relevé : elle évite d'enregistrer deux fois le même paiement."
        ),
    )
    invoices = InvoiceChoiceField(
        label=_("Factures réglées"),
        coerce=int,
        required=False,
        help_text=_(
            "Sans choix, le paiement règle les factures dues les plus anciennes ; le surplus reste en avoir."
        ),
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note (facultatif)"), max_length=300, required=False)

    def __init__(self, *args: Any, invoices: list[Document], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["invoices"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [
            (d.pk, f"{d.number} du {d.issue_date:%d/%m/%Y} – reste {euros(d.total - d.allocated)}")  # type: ignore[attr-defined]
            for d in invoices
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("method") == Payment.Method.CHEQUE:
            if not (cleaned.get("number") or "").strip():
                self.add_error("number", _("Indiquez le numéro du chèque."))
            if not (cleaned.get("bank") or "").strip():
                self.add_error("bank", _("Indiquez la banque du chèque."))
        return cleaned


class RefundChequeForm(ServiceErrorsMixin, AccessibleFormMixin, forms.Form):
    cheque_number = forms.CharField(
        label=_("Numéro du chèque envoyé"),
        max_length=30,
        error_messages={"required": _("Indiquez le numéro du chèque.")},
    )
    paid_on = forms.DateField(
        label=_("Envoyé le"),
        input_formats=DATE_INPUTS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
