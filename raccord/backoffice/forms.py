"""Back-office forms. The sign-up form only parses what was typed; the rules are the shared
sign-up checks (``raccord.contracts.signup``), so an agent gets the same answer as the online
funnel and the API for the same input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from raccord.contracts.models import Contract
from raccord.contracts.signup import SignupRequest
from raccord.customers.models import Customer
from raccord.eligibility.services import EligibilityResult

AGENT_CHANNELS = [
    (Contract.Channel.PHONE.value, _("Par téléphone : le client est en ligne avec moi")),
    (Contract.Channel.PAPER.value, _("Formulaire papier signé par le client")),
]


class AccessibleFormMixin:
    """Links each input to its help text and its error message (aria-describedby) and flags
    inputs in error (aria-invalid), so that screen readers announce both."""

    def mark_for_assistive_technologies(self) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        errors = form.errors if form.is_bound else {}
        for name, field in form.fields.items():
            bound = form[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}-help")
            attrs = field.widget.attrs
            if name in errors:
                described.append(f"{bound.auto_id}-error")
                attrs["aria-invalid"] = "true"
            else:
                attrs.pop("aria-invalid", None)
            if described:
                attrs["aria-describedby"] = " ".join(described)
            else:
                attrs.pop("aria-describedby", None)


class LoginForm(AccessibleFormMixin, forms.Form):
    email = forms.CharField(
        label=_("Adresse email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": _("Indiquez votre adresse email.")},
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Indiquez votre mot de passe.")},
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher un client"),
        required=False,
        max_length=200,
        help_text=_(
            "Nom, email, téléphone, rue ou commune d'installation, référence de contrat ou de "
            "mandat (RUM)."
        ),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class AddressSearchForm(forms.Form):
    adresse = forms.CharField(
        label=_("Adresse d'installation"),
        required=False,
        max_length=200,
        help_text=_("Numéro, rue et commune, par exemple « 12 rue des Écoles Strasbourg »."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class IbanInput(forms.TextInput):
    """An IBAN input that never writes the typed IBAN back into the page: the back-office HTML
    never holds a full IBAN, not even when the form comes back with an error."""

    def format_value(self, value: Any) -> str | None:
        return None


def _money(value: Any) -> str:
    return f"{value:.2f}".replace(".", ",") + " €"


class AgentSignupForm(AccessibleFormMixin, forms.Form):
    """A sign-up taken by phone or from a paper form, for one address already chosen."""

    channel = forms.ChoiceField(
        label=_("Comment le client souscrit-il ?"),
        choices=AGENT_CHANNELS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _(
                "Indiquez comment la souscription a été reçue : par téléphone ou sur "
                "formulaire papier."
            ),
            "invalid_choice": _("Choisissez « par téléphone » ou « formulaire papier »."),
        },
    )
    address_id = forms.IntegerField(widget=forms.HiddenInput)
    signup_key = forms.UUIDField(widget=forms.HiddenInput)
    cgv_version_id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    offer_code = forms.ChoiceField(
        label=_("Offre"),
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Cette offre n'est pas disponible à cette adresse.")},
    )
    option_codes = forms.MultipleChoiceField(
        label=_("Options"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={
            "invalid_choice": _("Cette option n'est pas disponible à cette adresse."),
        },
    )

    civility = forms.ChoiceField(
        label=_("Civilité"), choices=Customer.Civility.choices, required=False
    )
    first_name = forms.CharField(
        label=_("Prénom"), required=False, max_length=100, widget=forms.TextInput()
    )
    last_name = forms.CharField(label=_("Nom"), required=False, max_length=100)
    email = forms.CharField(
        label=_("Adresse email"),
        required=False,
        max_length=254,
        help_text=_("Le client y reçoit le récapitulatif de commande et l'accès à Mon Compte."),
        widget=forms.EmailInput(),
    )
    phone = forms.CharField(
        label=_("Téléphone"), required=False, max_length=30, widget=forms.TextInput()
    )
    birth_date = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 1980-05-31.")},
    )

    installation_complement = forms.CharField(
        label=_("Complément d'adresse"),
        required=False,
        max_length=200,
        help_text=_("Bâtiment, étage, lieu-dit…"),
    )
    installation_mode = forms.ChoiceField(
        label=_("Installation"),
        choices=Contract.InstallationMode.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    delivery_same_as_installation = forms.BooleanField(
        label=_("Livrer le matériel à l'adresse d'installation"), required=False, initial=True
    )
    delivery_name = forms.CharField(label=_("Destinataire"), required=False, max_length=200)
    delivery_address = forms.CharField(
        label=_("Adresse de livraison"), required=False, max_length=300
    )
    delivery_postal_code = forms.CharField(
        label=_("Code postal de livraison"), required=False, max_length=5
    )
    delivery_city = forms.CharField(label=_("Ville de livraison"), required=False, max_length=200)

    payment_method = forms.ChoiceField(
        label=_("Mode de paiement"),
        choices=Contract.PaymentMethod.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    iban = forms.CharField(
        label=_("IBAN"),
        required=False,
        max_length=50,
        widget=IbanInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    account_holder = forms.CharField(label=_("Titulaire du compte"), required=False, max_length=100)

    cgv_accepted = forms.BooleanField(required=False)
    express_start = forms.BooleanField(
        label=_(
            "Le client demande expressément que le service démarre avant la fin du délai de "
            "rétractation"
        ),
        required=False,
        help_text=_(
            "S'il se rétracte après la mise en service, il paiera alors les jours de service "
            "utilisés."
        ),
    )
    special_mentions = forms.CharField(
        label=_("Mentions spéciales"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        eligibility: EligibilityResult,
        options: list[Any],
        cgv_label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer_code"].choices = [  # type: ignore[attr-defined]
            (
                item.offer.code,
                _("%(label)s – %(price)s par mois, mise en service %(setup)s, %(commitment)s")
                % {
                    "label": item.offer.label,
                    "price": _money(item.monthly_price),
                    "setup": _money(item.setup_fee_due),
                    "commitment": item.offer.get_commitment_months_display(),
                },
            )
            for item in eligibility.offers
        ]
        self.fields["option_codes"].choices = [  # type: ignore[attr-defined]
            (
                option.code,
                _("%(label)s – %(price)s par mois (avec : %(offers)s)")
                % {
                    "label": option.label,
                    "price": _money(option.monthly_price),
                    "offers": ", ".join(o.label for o in option.offers.all()),
                },
            )
            for option in options
        ]
        self.fields["cgv_accepted"].label = _(
            "Le client a accepté les conditions générales de vente (%(cgv)s) : lues par "
            "téléphone, ou formulaire papier signé"
        ) % {"cgv": cgv_label}
        if not eligibility.premises_equipped:
            self.fields["installation_mode"].choices = [  # type: ignore[attr-defined]
                choice
                for choice in Contract.InstallationMode.choices
                if choice[0] != Contract.InstallationMode.EQUIPPED
            ]

    def signup_request(self) -> SignupRequest:
        """The sign-up as typed, from whatever parsed (a field that did not parse is empty, and
        the shared checks then say what is missing)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return SignupRequest(
            address_id=data.get("address_id"),
            offer_code=data.get("offer_code") or "",
            option_codes=list(data.get("option_codes") or []),
            civility=data.get("civility") or "",
            first_name=data.get("first_name") or "",
            last_name=data.get("last_name") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            birth_date=data.get("birth_date"),
            installation_complement=data.get("installation_complement") or "",
            delivery_same_as_installation=bool(data.get("delivery_same_as_installation")),
            delivery_name=data.get("delivery_name") or "",
            delivery_address=data.get("delivery_address") or "",
            delivery_postal_code=data.get("delivery_postal_code") or "",
            delivery_city=data.get("delivery_city") or "",
            payment_method=data.get("payment_method") or "",
            iban=data.get("iban") or "",
            account_holder=data.get("account_holder") or "",
            installation_mode=data.get("installation_mode") or "",
            cgv_version_id=data.get("cgv_version_id"),
            cgv_accepted=bool(data.get("cgv_accepted")),
            express_start=bool(data.get("express_start")),
            special_mentions=data.get("special_mentions") or "",
            channel=data.get("channel") or "",
            signup_ip=None,
            signup_key=data.get("signup_key"),
        )
