"""Mon Compte forms. They only shape the input: the rules (phone format, email uniqueness,
password strength) are checked by the customer services, whose errors land on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from raccord.core.errors import DomainError

REQUIRED_EMAIL = {"required": _("Indiquez votre adresse email.")}


class PortalForm(forms.Form):
    """Puts a service's ``DomainError`` next to the field it names (or on top of the form)."""

    # Service field names that map to a differently named form field.
    field_aliases: dict[str, str] = {}

    def add_domain_error(self, error: DomainError) -> None:
        name = self.field_aliases.get(error.field or "", error.field)
        self.add_error(name if name in self.fields else None, error.message)


class LoginForm(PortalForm):
    ERROR_ID = "connexion-erreur"

    email = forms.CharField(
        label=_("Adresse email"),
        max_length=254,
        error_messages=REQUIRED_EMAIL,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Indiquez votre mot de passe.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def refuse(self, message: str) -> None:
        """A refusal about the pair (wrong password, unknown email, no access): the message goes
        on top and both inputs point to it, so a screen reader announces it on either."""
        self.add_error(None, message)
        for name in ("email", "password"):
            self.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": self.ERROR_ID}
            )


class PasswordResetRequestForm(PortalForm):
    email = forms.EmailField(
        label=_("Adresse email"),
        max_length=254,
        error_messages={**REQUIRED_EMAIL, "invalid": _("Cette adresse email n'est pas valide.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        help_text=_("L'adresse avec laquelle vous vous connectez à Mon Compte."),
    )


class PasswordSetForm(PortalForm):
    field_aliases = {"password": "password1"}

    password1 = forms.CharField(
        label=_("Nouveau mot de passe"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Choisissez un mot de passe.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "10 caractères au moins ; évitez un mot de passe courant, uniquement des chiffres "
            "ou proche de votre nom ou de votre adresse email."
        ),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Saisissez le mot de passe une seconde fois.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class PhoneForm(PortalForm):
    phone = forms.CharField(
        label=_("Numéro de téléphone"),
        max_length=30,
        error_messages={"required": _("Indiquez votre numéro de téléphone.")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("Un numéro français à 10 chiffres, par exemple 06 12 34 56 78."),
    )


class EmailChangeForm(PortalForm):
    email = forms.CharField(
        label=_("Nouvelle adresse email"),
        max_length=254,
        error_messages=REQUIRED_EMAIL,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        help_text=_(
            "Nous envoyons un lien de confirmation à cette adresse. Votre identifiant de "
            "connexion ne change qu'une fois le lien suivi."
        ),
    )
