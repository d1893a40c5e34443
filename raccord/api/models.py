"""API access tokens. Only a SHA-256 hash of each token is stored: a leaked database does not
give access to the API, and the token itself is shown once, when it is created."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    class Role(models.TextChoices):
        # A person of the operator's staff using a tool (sign-ups by phone or on paper).
        AGENT = "agent", _("agent")
        # A partner's system (a reseller's web shop, a comparison site...).
        INTEGRATION = "integration", _("intégration partenaire")

    name = models.CharField(_("nom"), max_length=100, unique=True)
    role = models.CharField(_("rôle"), max_length=12, choices=Role.choices)
    # Hex SHA-256 of the whole token string; unique so that a lookup by hash finds one row.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The short random part shown in lists so that a person can tell tokens apart.
    prefix = models.CharField(_("préfixe"), max_length=16, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text=_("Agent au nom duquel agit un jeton « agent »."),
    )
    created_at = models.DateTimeField(_("créé le"))
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        constraints = [
            # An agent token acts for a person: its events name that agent (STYLE habit 3).
            models.CheckConstraint(
                condition=~models.Q(role="agent") | models.Q(user__isnull=False),
                name="api_token_agent_has_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
