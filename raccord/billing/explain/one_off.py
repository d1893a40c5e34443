"""One-off lines: the set-up fee (B2, C1), what ending or changing a contract costs (C10-C13,
B4), equipment not returned and its refund, commercial gestures, withdrawals (C6), calls,
refunds and rejected debits (P6)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.billing.explain.french import (
    SEMICOLON,
    Explained,
    amount_text,
    day_text,
    days_text,
    duration_text,
    euros,
    number_text,
    percent,
    span_text,
)
from raccord.billing.line_data import (
    read_date,
    read_decimal,
    read_int,
    read_text,
    setup_fee_subsidy,
)
from raccord.billing.models import DocumentLine

ONE = Decimal(1)


def setup_fee(line: DocumentLine, amount: Decimal) -> Explained:
    description = _("Mise en service de votre ligne (frais uniques)")
    subsidised = setup_fee_subsidy(data=line.data, amount=amount)
    if subsidised is None:
        return Explained(description, amount_text(amount))
    return Explained(
        description,
        _("%(fee)s, dont %(subsidy)s pris en charge par %(authority)s, soit %(amount)s")
        % {
            "fee": euros(subsidised.fee),
            "subsidy": euros(subsidised.subsidy),
            "authority": subsidised.authority or _("votre collectivité"),
            "amount": amount_text(amount),
        },
    )


def _weight_reason(weight: Decimal, regime: str) -> str:
    if weight == ONE:
        return _("dus en totalité (12 premiers mois d'engagement)")
    if weight == 0:
        return _("non dus (au-delà des 12 premiers mois, loi du 16 août 2022)")
    if regime == "chatel":
        return _("pondérés à %(percent)s (loi Chatel)") % {"percent": percent(weight)}
    return _("pondérés à %(percent)s (matériel subventionné, au-delà des 12 premiers mois)") % {
        "percent": percent(weight)
    }


def early_termination(line: DocumentLine, amount: Decimal) -> Explained:
    data = line.data
    description = _("Indemnité de résiliation anticipée")
    effective = read_date(data, "effective_date")
    commitment_end = read_date(data, "commitment_end")
    monthly = read_decimal(data, "monthly_price")
    if effective is None or commitment_end is None or commitment_end <= effective:
        return Explained(description, amount_text(amount))
    regime = read_text(data, "regime")
    parts = [
        _("votre contrat prend fin le %(effective)s, avant la fin de votre engagement le %(end)s")
        % {"effective": day_text(effective), "end": day_text(commitment_end)}
    ]
    remaining = duration_text(effective + timedelta(days=1), commitment_end)
    if monthly is not None:
        parts.append(
            _(
                "il restait %(remaining)s au prix de l'offre (%(price)s par mois, "
                "options non comprises)"
            )
            % {"remaining": remaining, "price": euros(monthly)}
        )
    else:
        parts.append(_("il restait %(remaining)s") % {"remaining": remaining})
    # Consecutive segments with the same weight read as one span: « 6 mois pondérés à 25 % ».
    groups: list[tuple[Decimal, date, date]] = []
    # the same groups' months as the fee counts them (M3): (weight, [(days, days in month)])
    months: list[tuple[Decimal, list[tuple[int, int]]]] = []
    for segment in data.get("segments") or []:
        if not isinstance(segment, Mapping):
            continue
        weight = read_decimal(segment, "weight")
        first, last = read_date(segment, "from"), read_date(segment, "to")
        if weight is None or first is None or last is None:
            continue
        days, in_month = read_int(segment, "days"), read_int(segment, "days_in_month")
        if groups and groups[-1][0] == weight:
            groups[-1] = (weight, groups[-1][1], last)
        else:
            groups.append((weight, first, last))
            months.append((weight, []))
        if days is not None and in_month:
            months[-1][1].append((days, in_month))
    described = [
        f"{duration_text(first, last)} {_weight_reason(weight, regime)}"
        for weight, first, last in groups
    ]
    # Zero-weight days are left out of the stored segments (C11, loi 2022-1158): say so.
    if groups and groups[-1][2] < commitment_end:
        described.append(
            f"{duration_text(groups[-1][2] + timedelta(days=1), commitment_end)} "
            f"{_weight_reason(Decimal(0), regime)}"
        )
    whole = effective + timedelta(days=1)
    if (
        len(groups) == 1
        and groups[0][0] == ONE
        and (groups[0][1], groups[0][2])
        == (
            whole,
            commitment_end,
        )
    ):
        # Everything falls in the first 12 months: no need to repeat the duration.
        parts.append(_("tous dus, car ils sont dans les 12 premiers mois de votre engagement"))
    elif described:
        parts.append(", ".join(described))
    if monthly is not None and (formula := _fee_formula(monthly, months)):
        parts.append(_("calcul : %(formula)s") % {"formula": formula})
    detail = SEMICOLON.join(parts)
    return Explained(
        description,
        _("%(detail)s, soit %(amount)s")
        % {
            "detail": detail,
            "amount": amount_text(amount),
        },
    )


def _fee_formula(monthly: Decimal, months: list[tuple[Decimal, list[tuple[int, int]]]]) -> str:
    """The fee as the subscriber can check it: each month counted by the day over its own
    length, whole months as whole, e.g. « 24,90 € × (24/31 + 8 + 21/30) » (C11, M3); empty
    when there is nothing to count."""
    terms = []
    for weight, spans in months:
        counted: list[str] = []
        whole = 0
        for days, in_month in spans:
            if days == in_month:
                whole += 1
                continue
            if whole:
                counted.append(str(whole))
                whole = 0
            counted.append(f"{days}/{in_month}")
        if whole:
            counted.append(str(whole))
        if not counted:
            continue
        factor = counted[0] if len(counted) == 1 else f"({' + '.join(counted)})"
        term = f"{euros(monthly)} × {factor}"
        if weight != ONE:
            term += f" × {percent(weight)}"
        terms.append(term)
    return " + ".join(terms)


def termination_fee(line: DocumentLine, amount: Decimal) -> Explained:
    effective = read_date(line.data, "effective_date")
    if effective is None:
        return Explained(_("Frais de résiliation prévus par votre offre"), amount_text(amount))
    return Explained(
        _("Frais de résiliation prévus par votre offre (résiliation effective le %(day)s)")
        % {"day": day_text(effective)},
        amount_text(amount),
    )


def change_fee(line: DocumentLine, amount: Decimal) -> Explained:
    # The lifecycle service writes the offers' names in the label and their codes in the data:
    # the label reads better, the data is the fallback.
    effective = read_date(line.data, "effective_date")
    old, new = read_text(line.data, "from_offer"), read_text(line.data, "to_offer")
    if line.label:
        description = line.label
    elif old and new:
        description = _("Frais de changement d'offre (%(old)s → %(new)s)") % {
            "old": old,
            "new": new,
        }
    else:
        description = _("Frais de changement d'offre")
    if effective:
        description = _("%(description)s, nouvelle offre à partir du %(day)s") % {
            "description": description,
            "day": day_text(effective),
        }
    return Explained(description, amount_text(amount))


def _equipment(line: DocumentLine) -> str:
    model = read_text(line.data, "model") or _("votre matériel")
    serial = read_text(line.data, "serial")
    if serial:
        return _("%(model)s (n° de série %(serial)s)") % {"model": model, "serial": serial}
    return model


def non_return_fee(line: DocumentLine, amount: Decimal) -> Explained:
    # The label names the model and the unit (« Matériel non restitué : Antenne radio (n° …) »);
    # the data only has the model's code.
    parts = [
        line.label
        or _("Matériel non restitué à temps : %(equipment)s") % {"equipment": _equipment(line)}
    ]
    deadline = read_date(line.data, "deadline")
    if deadline:
        parts.append(
            _("il devait être renvoyé au plus tard le %(day)s") % {"day": day_text(deadline)}
        )
    reference = read_text(line.data, "return_reference")
    if reference:
        parts.append(_("référence de retour %(reference)s") % {"reference": reference})
    return Explained(", ".join(parts), amount_text(amount))


def non_return_refund(line: DocumentLine, amount: Decimal) -> Explained:
    parts = [
        line.label
        or _("Remboursement des frais de non-restitution : %(equipment)s")
        % {"equipment": _equipment(line)}
    ]
    deposit = read_date(line.data, "deposit_date")
    returned = read_date(line.data, "returned_on")
    if deposit and returned:
        parts.append(
            _("matériel déposé le %(deposit)s et reçu le %(returned)s")
            % {"deposit": day_text(deposit), "returned": day_text(returned)}
        )
    elif returned:
        parts.append(_("matériel reçu le %(returned)s") % {"returned": day_text(returned)})
    reference = read_text(line.data, "return_reference")
    if reference:
        parts.append(_("référence de retour %(reference)s") % {"reference": reference})
    return Explained(", ".join(parts), amount_text(amount))


def gesture(line: DocumentLine, amount: Decimal) -> Explained:
    data = line.data
    start, end = read_date(data, "outage_start"), read_date(data, "outage_end")
    hours = read_decimal(data, "hours")
    days_counted = read_int(data, "days_counted")
    if start is None or end is None:
        return Explained(_("Geste commercial"), amount_text(amount))
    facts = []
    if hours is not None:
        facts.append(
            ngettext("%(hours)s heure", "%(hours)s heures", 2 if hours >= 2 else 1)
            % {"hours": number_text(hours)}
        )
    if days_counted is not None:
        facts.append(days_text(days_counted))
    description = _("Geste commercial pour la panne %(span)s") % {"span": span_text(start, end)}
    if facts:
        description = f"{description} ({', '.join(facts)})"
    days_in_month = read_int(data, "days_in_month")
    monthly = read_decimal(data, "monthly_total")
    if days_counted is not None and days_in_month is not None and monthly is not None:
        detail = _("%(days)s sur %(month_days)d × %(price)s par mois = %(amount)s") % {
            "days": days_text(days_counted),
            "month_days": days_in_month,
            "price": euros(monthly),
            "amount": amount_text(amount),
        }
    else:
        detail = amount_text(amount)
    return Explained(description, detail)


def withdrawal(line: DocumentLine, amount: Decimal) -> Explained:
    data = line.data
    withdrawn = read_date(data, "withdrawal_date")
    description = (
        _("Rétractation du %(day)s") % {"day": day_text(withdrawn)}
        if withdrawn
        else _("Rétractation")
    )
    # « setup_fee_refunded » is the amount refunded ("49.00"); older data may hold a boolean.
    raw_refunded = data.get("setup_fee_refunded")
    refunded = raw_refunded is True or (read_decimal(data, "setup_fee_refunded") or Decimal(0)) > 0
    if refunded:
        description = _(
            "%(description)s : remboursement des frais de mise en service, jamais dus en cas "
            "de rétractation"
        ) % {"description": description}
    sentence = Explained(description, amount_text(amount)).text()
    if data.get("express_start") is True and withdrawn:
        sentence += ". " + _(
            "Les jours de service jusqu'au %(day)s restent dus : vous aviez demandé que le "
            "service démarre avant la fin du délai de rétractation."
        ) % {"day": day_text(withdrawn)}
    elif data.get("express_start") is False:
        sentence += ". " + _(
            "Aucun jour de service n'est dû : vous n'aviez pas demandé de démarrage anticipé."
        )
    return Explained(sentence)


def calls(line: DocumentLine, amount: Decimal) -> Explained:
    description = line.label or _("Communications hors forfait")
    if line.period_start and line.period_end:
        description = f"{description} {span_text(line.period_start, line.period_end)}"
    return Explained(description, amount_text(amount))


def refund(line: DocumentLine, amount: Decimal) -> Explained:
    if line.label:
        return Explained(
            _("Remboursement : %(label)s") % {"label": line.label}, amount_text(amount)
        )
    return Explained(_("Remboursement"), amount_text(amount))


def rejection_fee(line: DocumentLine, amount: Decimal) -> Explained:
    # P6: the dunning service writes the rejected invoice's number, the debit date and the
    # bank's reason in the data.
    invoice, reason = read_text(line.data, "invoice"), read_text(line.data, "reason")
    debit = read_date(line.data, "debit_date")
    if invoice and debit:
        description = _(
            "Frais de rejet : le prélèvement du %(day)s pour la facture %(invoice)s a été "
            "rejeté par votre banque"
        ) % {"day": day_text(debit), "invoice": invoice}
    else:
        description = _("Frais de rejet d'un prélèvement par votre banque")
    if reason:
        description = f"{description} ({reason})"
    return Explained(description, amount_text(amount))
