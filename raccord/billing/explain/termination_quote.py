"""A termination's cost in plain French before it is requested, for Mon Compte and the
back-office (C10-C13, S2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.billing.explain.french import day_text, euros
from raccord.billing.explain.lines import line_explanation
from raccord.billing.models import DocumentLine, LineKind

if TYPE_CHECKING:
    from raccord.contracts.termination import TerminationQuote


@dataclass(frozen=True)
class FeeExplained:
    label: str
    amount: Decimal
    explanation: str


@dataclass(frozen=True)
class QuoteExplained:
    """A termination quote in plain French, for Mon Compte and the back-office."""

    effective: str
    commitment: str
    fees: tuple[FeeExplained, ...]
    total: Decimal
    total_text: str
    waived: str
    credit: str
    equipment_intro: str
    equipment: tuple[str, ...]


def termination_quote_explanation(
    quote: TerminationQuote, *, requested_date: date | None, already_requested: bool = False
) -> QuoteExplained:
    """Word a ``raccord.contracts.termination.TerminationQuote``. The fee sentences are the
    very ones the invoice will carry: they are built from the same line data (C11, C12)."""
    effective = day_text(quote.effective_date)
    if already_requested:
        effective_text = _(
            "Votre résiliation est déjà demandée (le %(requested)s) : elle prend effet le "
            "%(effective)s."
        ) % {"requested": day_text(quote.requested_on), "effective": effective}
    elif requested_date is not None and quote.effective_date == requested_date:
        effective_text = _(
            "Votre résiliation prendrait effet le %(effective)s, la date que vous avez choisie."
        ) % {"effective": effective}
    else:
        notice = (quote.effective_date - quote.requested_on).days
        effective_text = ngettext(
            "Demandée le %(requested)s, votre résiliation prendrait effet le %(effective)s, "
            "%(days)d jour après votre demande (délai de préavis).",
            "Demandée le %(requested)s, votre résiliation prendrait effet le %(effective)s, "
            "%(days)d jours après votre demande (délai de préavis).",
            notice,
        ) % {"requested": day_text(quote.requested_on), "effective": effective, "days": notice}
        if requested_date is not None:
            effective_text += " " + _(
                "La date choisie doit être postérieure au jour de la demande : à défaut, le "
                "délai de préavis s'applique."
            )
        else:
            # C10: the notice applies only when no later date is asked for
            effective_text += " " + _(
                "Vous pouvez aussi choisir une autre date, dès le lendemain de votre demande."
            )

    if quote.commitment_end is None:
        commitment = _("Votre contrat est sans engagement.")
    elif quote.commitment_end <= quote.effective_date:
        commitment = _(
            "Votre engagement se termine le %(end)s, avant la date d'effet : aucune indemnité "
            "de résiliation anticipée."
        ) % {"end": day_text(quote.commitment_end)}
    else:
        commitment = _("Votre engagement court jusqu'au %(end)s.") % {
            "end": day_text(quote.commitment_end)
        }

    fees = []
    if quote.early_termination_fee > 0:
        fee_line = DocumentLine(
            kind=LineKind.EARLY_TERMINATION,
            label=str(LineKind.EARLY_TERMINATION.label),
            amount=quote.early_termination_fee,
            vat_rate=quote.vat_rate,
            data=quote.early_termination_data(),
        )
        fees.append(
            FeeExplained(
                label=_("Indemnité de résiliation anticipée"),
                amount=quote.early_termination_fee,
                explanation=line_explanation(fee_line, siblings=()),
            )
        )
    if quote.termination_fee > 0:
        fee_line = DocumentLine(
            kind=LineKind.TERMINATION_FEE,
            label=str(LineKind.TERMINATION_FEE.label),
            amount=quote.termination_fee,
            vat_rate=quote.vat_rate,
            data={"effective_date": quote.effective_date.isoformat()},
        )
        fees.append(
            FeeExplained(
                label=_("Frais de résiliation"),
                amount=quote.termination_fee,
                explanation=line_explanation(fee_line, siblings=()),
            )
        )
    if quote.total > 0:
        total_text = _(
            "À payer : %(total)s, sur la première facture qui suivra la date d'effet."
        ) % {"total": euros(quote.total)}
    else:
        total_text = _("Votre résiliation ne coûterait rien.")
    waived = ""
    if quote.legitimate_reason and quote.early_termination_waived > 0:
        waived = _(
            "Motif légitime « %(reason)s » : l'indemnité de résiliation anticipée de %(amount)s "
            "n'est pas due."
        ) % {"reason": quote.legitimate_reason, "amount": euros(quote.early_termination_waived)}
    credit = _(
        "Votre abonnement est facturé jusqu'au %(effective)s inclus : les jours déjà facturés "
        "après cette date vous seront rendus sur la facture suivante."
    ) % {"effective": effective}
    equipment = tuple(
        _(
            "%(equipment)s : à renvoyer au plus tard le %(deadline)s, sinon %(fee)s de frais de "
            "non-restitution."
        )
        % {
            "equipment": _("%(model)s (n° de série %(serial)s)")
            % {"model": unit.label, "serial": unit.serial}
            if unit.serial
            else unit.label,
            "deadline": day_text(unit.deadline),
            "fee": euros(unit.non_return_fee),
        }
        + (
            " " + _("Référence de retour : %(reference)s.") % {"reference": unit.reference}
            if unit.reference
            else ""
        )
        for unit in quote.equipment
    )
    if equipment:
        equipment_intro = _(
            "Le matériel prêté est à renvoyer au plus tard le %(deadline)s ; nous vous "
            "enverrons la procédure de retour avec la confirmation de votre résiliation."
        ) % {"deadline": day_text(quote.equipment_return_deadline)}
    else:
        equipment_intro = _("Aucun matériel prêté n'est à renvoyer.")
    return QuoteExplained(
        effective=effective_text,
        commitment=commitment,
        fees=tuple(fees),
        total=quote.total,
        total_text=total_text,
        waived=waived,
        credit=credit,
        equipment_intro=equipment_intro,
        equipment=equipment,
    )
