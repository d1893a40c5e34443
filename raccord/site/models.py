"""Content of the public site that the operator edits in the admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FaqEntry(models.Model):
    """One question of the public FAQ. The answer is plain text: blank lines separate
    paragraphs, so an operator without HTML knowledge can edit it safely (it is escaped)."""

    category = models.CharField(
        _("rubrique"), max_length=100, help_text=_("ex. « Souscription », « Facturation »")
    )
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(
        _("réponse"), help_text=_("Texte simple ; une ligne vide sépare deux paragraphes.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Les plus petits nombres s'affichent en premier.")
    )
    published = models.BooleanField(_("publiée"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("question de la FAQ")
        verbose_name_plural = _("questions de la FAQ")

    def __str__(self) -> str:
        return self.question
