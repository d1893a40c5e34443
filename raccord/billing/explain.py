"""Plain-French explanations of invoice and credit-note lines (B9, shown in Mon Compte, the
back-office, the API and the PDF).

Every sentence is generated from what the line stores — its kind, period, amount and ``data``
(keys listed in notes/billing-contract.md) — never written by hand for a case, so that what the
customer reads is exactly what was computed. Nothing here reads the clock or the database:
``payment_text`` takes the day as a parameter and the explanations read only the line (and,
for ``document_explanation``, the document's lines, prefetched by the caller when it can)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from raccord.billing.models import Document, DocumentLine, LineKind
from raccord.contracts.commitment import add_months_same_day

if TYPE_CHECKING:
    from raccord.contracts.termination import TerminationQuote

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
# French puts a (no-break) space before « ; ».
SEMICOLON = f"{NBSP}; "
ONE = Decimal(1)


# --- French formatting ----------------------------------------------------------------------


def euros(amount: Decimal | str | int) -> str:
    """29.9 → « 29,90 € », 1234.5 → « 1 234,50 € » (no-break spaces: the sign never wraps
    away from its number). The sign is kept: callers say « en votre faveur » themselves."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{abs(value):,.2f}".split(".")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole.replace(',', NARROW_NBSP)},{cents}{NBSP}€"


def percent(weight: Decimal) -> str:
    """0.25 → « 25 % », 0.125 → « 12,5 % »."""
    value = (weight * 100).normalize()
    text = f"{value:f}".replace(".", ",")
    return f"{text}{NBSP}%"


def _number(value: Decimal) -> str:
    """49 → « 49 », 49.5 → « 49,5 »."""
    return f"{value.normalize():f}".replace(".", ",")


def _day_of_month(day: date) -> str:
    return _("1er") if day.day == 1 else str(day.day)


def _month(day: date) -> str:
    return str(MONTHS[day.month])


def day_text(day: date) -> str:
    """« 20 janvier 2027 », « 1er juin 2027 »."""
    return f"{_day_of_month(day)} {_month(day)} {day.year}"


def day_month_text(day: date) -> str:
    """« 5 février », without the year (a date inside a dated document)."""
    return f"{_day_of_month(day)} {_month(day)}"


def month_text(day: date) -> str:
    """« février 2027 »."""
    return f"{_month(day)} {day.year}"


def span_text(start: date, end: date) -> str:
    """« du 20 au 31 janvier », « du 20 janvier au 3 février », « le 31 janvier »; the years are
    written only when the span crosses a new year (the document's date says the rest)."""
    if start == end:
        return _("le %(day)s") % {"day": day_month_text(start)}
    if start.year != end.year:
        first, last = day_text(start), day_text(end)
    elif start.month != end.month:
        first, last = day_month_text(start), day_month_text(end)
    else:
        first, last = _day_of_month(start), day_month_text(end)
    return _("du %(start)s au %(end)s") % {"start": first, "end": last}


def duration_text(start: date, end: date) -> str:
    """The inclusive span [start, end] as whole calendar months and days: « 10 mois et 4 jours »,
    « 6 mois », « 12 jours » (months counted day-of-month to day-of-month, as commitments are)."""
    stop = end + timedelta(days=1)
    months = 0
    while add_months_same_day(start, months + 1) <= stop:
        months += 1
    days = (stop - add_months_same_day(start, months)).days
    month_part = ngettext("%(n)d mois", "%(n)d mois", months) % {"n": months}
    day_part = ngettext("%(n)d jour", "%(n)d jours", days) % {"n": days}
    if months and days:
        return _("%(months)s et %(days)s") % {"months": month_part, "days": day_part}
    return month_part if months else day_part


def _days(n: int) -> str:
    return ngettext("%(n)d jour", "%(n)d jours", n) % {"n": n}


# --- reading line data safely ---------------------------------------------------------------
# Line data is JSON written by several services over the years: a missing or malformed key must
# degrade the sentence, never break a page.


def _dec(data: Mapping[str, Any], key: str) -> Decimal | None:
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = _dec(data, key)
    return int(value) if value is not None and value == value.to_integral_value() else None


def _date(data: Mapping[str, Any], key: str) -> date | None:
    raw = data.get(key)
    if not raw or not isinstance(raw, str):
        return None
    try:
        if "T" in raw or " " in raw.strip():
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is not None:
                moment = moment.astimezone(PARIS)
            return moment.date()
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _text(data: Mapping[str, Any], key: str) -> str:
    raw = data.get(key)
    return str(raw).strip() if raw not in (None, "") else ""


# --- one sentence per kind ------------------------------------------------------------------


@dataclass(frozen=True)
class _Explained:
    """« description : detail ». ``detail`` ends with the amount when there is one."""

    description: str
    detail: str = ""

    def text(self) -> str:
        return f"{self.description} : {self.detail}" if self.detail else self.description


def _amount_text(amount: Decimal) -> str:
    if amount < 0:
        return _("%(amount)s en votre faveur") % {"amount": euros(-amount)}
    return euros(amount)


def _prorata_detail(data: Mapping[str, Any], amount: Decimal, days: int | None) -> str:
    days_in_month = _int(data, "days_in_month")
    monthly = _dec(data, "monthly_price")
    if days is None or days_in_month is None or monthly is None:
        return _amount_text(amount)
    return _("%(days)s sur %(month_days)d × %(price)s = %(amount)s") % {
        "days": _days(days),
        "month_days": days_in_month,
        "price": euros(monthly),
        "amount": _amount_text(amount),
    }


def _setup_fee(line: DocumentLine, amount: Decimal) -> _Explained:
    description = _("Mise en service de votre ligne (frais uniques)")
    fee = _dec(line.data, "setup_fee")
    subsidy = _dec(line.data, "subsidy") or Decimal(0)
    if fee is None or subsidy <= 0:
        return _Explained(description, _amount_text(amount))
    authority = _text(line.data, "authority") or _("votre collectivité")
    return _Explained(
        description,
        _("%(fee)s, dont %(subsidy)s pris en charge par %(authority)s, soit %(amount)s")
        % {
            "fee": euros(fee),
            "subsidy": euros(subsidy),
            "authority": authority,
            "amount": _amount_text(amount),
        },
    )


def _line_days(line: DocumentLine) -> int | None:
    days = _int(line.data, "days")
    if days is None and line.period_start and line.period_end:
        days = (line.period_end - line.period_start).days + 1
    return days


def _subscription(line: DocumentLine, amount: Decimal) -> _Explained:
    start, end = line.period_start, line.period_end
    if start is None or end is None:
        return _Explained(line.label, _amount_text(amount))
    if line.data.get("full_month") and start.day == 1 and start.month == end.month:
        return _Explained(
            _("%(product)s pour %(month)s (mois complet)")
            % {"product": line.label, "month": month_text(start)},
            _amount_text(amount),
        )
    return _Explained(
        _("%(product)s %(span)s au prorata")
        % {"product": line.label, "span": span_text(start, end)},
        _prorata_detail(line.data, amount, _line_days(line)),
    )


CREDIT_AFTER_END = "end"
CREDIT_AFTER_CHANGE = "offer_change"
CREDIT_AFTER_WITHDRAWAL = "withdrawal"


def _subscription_credit(line: DocumentLine, amount: Decimal, reason: str) -> _Explained:
    start, end = line.period_start, line.period_end
    days = _line_days(line)
    if start is None or end is None or days is None:
        return _Explained(
            _("Avoir sur %(product)s") % {"product": line.label}, _amount_text(amount)
        )
    values = {"days": _days(days), "span": span_text(start, end), "product": line.label}
    if reason == CREDIT_AFTER_CHANGE:
        description = _(
            "Avoir : %(days)s déjà facturés après votre changement d'offre (%(span)s) "
            "pour %(product)s"
        )
    elif reason == CREDIT_AFTER_WITHDRAWAL:
        description = _(
            "Avoir : %(days)s déjà facturés et non dus après votre rétractation (%(span)s) "
            "pour %(product)s"
        )
    else:
        description = _(
            "Avoir : %(days)s déjà facturés après la fin de votre contrat (%(span)s) "
            "pour %(product)s"
        )
    return _Explained(description % values, _prorata_detail(line.data, amount, days))


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


def _early_termination(line: DocumentLine, amount: Decimal) -> _Explained:
    data = line.data
    description = _("Indemnité de résiliation anticipée")
    effective = _date(data, "effective_date")
    commitment_end = _date(data, "commitment_end")
    monthly = _dec(data, "monthly_price")
    if effective is None or commitment_end is None or commitment_end <= effective:
        return _Explained(description, _amount_text(amount))
    regime = _text(data, "regime")
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
    for segment in data.get("segments") or []:
        if not isinstance(segment, Mapping):
            continue
        weight = _dec(segment, "weight")
        first, last = _date(segment, "from"), _date(segment, "to")
        if weight is None or first is None or last is None:
            continue
        if groups and groups[-1][0] == weight:
            groups[-1] = (weight, groups[-1][1], last)
        else:
            groups.append((weight, first, last))
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
    detail = SEMICOLON.join(parts)
    return _Explained(
        description,
        _("%(detail)s, soit %(amount)s")
        % {
            "detail": detail,
            "amount": _amount_text(amount),
        },
    )


def _termination_fee(line: DocumentLine, amount: Decimal) -> _Explained:
    effective = _date(line.data, "effective_date")
    if effective is None:
        return _Explained(_("Frais de résiliation prévus par votre offre"), _amount_text(amount))
    return _Explained(
        _("Frais de résiliation prévus par votre offre (résiliation effective le %(day)s)")
        % {"day": day_text(effective)},
        _amount_text(amount),
    )


def _change_fee(line: DocumentLine, amount: Decimal) -> _Explained:
    # The lifecycle service writes the offers' names in the label and their codes in the data:
    # the label reads better, the data is the fallback.
    effective = _date(line.data, "effective_date")
    old, new = _text(line.data, "from_offer"), _text(line.data, "to_offer")
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
    return _Explained(description, _amount_text(amount))


def _equipment(line: DocumentLine) -> str:
    model = _text(line.data, "model") or _("votre matériel")
    serial = _text(line.data, "serial")
    if serial:
        return _("%(model)s (n° de série %(serial)s)") % {"model": model, "serial": serial}
    return model


def _non_return_fee(line: DocumentLine, amount: Decimal) -> _Explained:
    # The label names the model and the unit (« Matériel non restitué : Antenne radio (n° …) »);
    # the data only has the model's code.
    parts = [
        line.label
        or _("Matériel non restitué à temps : %(equipment)s") % {"equipment": _equipment(line)}
    ]
    deadline = _date(line.data, "deadline")
    if deadline:
        parts.append(
            _("il devait être renvoyé au plus tard le %(day)s") % {"day": day_text(deadline)}
        )
    reference = _text(line.data, "return_reference")
    if reference:
        parts.append(_("référence de retour %(reference)s") % {"reference": reference})
    return _Explained(", ".join(parts), _amount_text(amount))


def _non_return_refund(line: DocumentLine, amount: Decimal) -> _Explained:
    parts = [
        line.label
        or _("Remboursement des frais de non-restitution : %(equipment)s")
        % {"equipment": _equipment(line)}
    ]
    deposit = _date(line.data, "deposit_date")
    returned = _date(line.data, "returned_on")
    if deposit and returned:
        parts.append(
            _("matériel déposé le %(deposit)s et reçu le %(returned)s")
            % {"deposit": day_text(deposit), "returned": day_text(returned)}
        )
    elif returned:
        parts.append(_("matériel reçu le %(returned)s") % {"returned": day_text(returned)})
    reference = _text(line.data, "return_reference")
    if reference:
        parts.append(_("référence de retour %(reference)s") % {"reference": reference})
    return _Explained(", ".join(parts), _amount_text(amount))


def _gesture(line: DocumentLine, amount: Decimal) -> _Explained:
    data = line.data
    start, end = _date(data, "outage_start"), _date(data, "outage_end")
    hours = _dec(data, "hours")
    days_counted = _int(data, "days_counted")
    if start is None or end is None:
        return _Explained(_("Geste commercial"), _amount_text(amount))
    facts = []
    if hours is not None:
        facts.append(
            ngettext("%(hours)s heure", "%(hours)s heures", 2 if hours >= 2 else 1)
            % {"hours": _number(hours)}
        )
    if days_counted is not None:
        facts.append(_days(days_counted))
    description = _("Geste commercial pour la panne %(span)s") % {"span": span_text(start, end)}
    if facts:
        description = f"{description} ({', '.join(facts)})"
    days_in_month = _int(data, "days_in_month")
    monthly = _dec(data, "monthly_total")
    if days_counted is not None and days_in_month is not None and monthly is not None:
        detail = _("%(days)s sur %(month_days)d × %(price)s par mois = %(amount)s") % {
            "days": _days(days_counted),
            "month_days": days_in_month,
            "price": euros(monthly),
            "amount": _amount_text(amount),
        }
    else:
        detail = _amount_text(amount)
    return _Explained(description, detail)


def _withdrawal(line: DocumentLine, amount: Decimal) -> _Explained:
    data = line.data
    withdrawn = _date(data, "withdrawal_date")
    description = (
        _("Rétractation du %(day)s") % {"day": day_text(withdrawn)}
        if withdrawn
        else _("Rétractation")
    )
    # « setup_fee_refunded » is the amount refunded ("49.00"); older data may hold a boolean.
    raw_refunded = data.get("setup_fee_refunded")
    refunded = raw_refunded is True or (_dec(data, "setup_fee_refunded") or Decimal(0)) > 0
    if refunded:
        description = _(
            "%(description)s : remboursement des frais de mise en service, jamais dus en cas "
            "de rétractation"
        ) % {"description": description}
    sentence = _Explained(description, _amount_text(amount)).text()
    if data.get("express_start") is True and withdrawn:
        sentence += ". " + _(
            "Les jours de service jusqu'au %(day)s restent dus : vous aviez demandé que le "
            "service démarre avant la fin du délai de rétractation."
        ) % {"day": day_text(withdrawn)}
    elif data.get("express_start") is False:
        sentence += ". " + _(
            "Aucun jour de service n'est dû : vous n'aviez pas demandé de démarrage anticipé."
        )
    return _Explained(sentence)


def _calls(line: DocumentLine, amount: Decimal) -> _Explained:
    description = line.label or _("Communications hors forfait")
    if line.period_start and line.period_end:
        description = f"{description} {span_text(line.period_start, line.period_end)}"
    return _Explained(description, _amount_text(amount))


def _refund(line: DocumentLine, amount: Decimal) -> _Explained:
    if line.label:
        return _Explained(
            _("Remboursement : %(label)s") % {"label": line.label}, _amount_text(amount)
        )
    return _Explained(_("Remboursement"), _amount_text(amount))


def _rejection_fee(line: DocumentLine, amount: Decimal) -> _Explained:
    # P6: the dunning service writes the rejected invoice's number, the debit date and the
    # bank's reason in the data.
    invoice, reason = _text(line.data, "invoice"), _text(line.data, "reason")
    debit = _date(line.data, "debit_date")
    if invoice and debit:
        description = _(
            "Frais de rejet : le prélèvement du %(day)s pour la facture %(invoice)s a été "
            "rejeté par votre banque"
        ) % {"day": day_text(debit), "invoice": invoice}
    else:
        description = _("Frais de rejet d'un prélèvement par votre banque")
    if reason:
        description = f"{description} ({reason})"
    return _Explained(description, _amount_text(amount))


def _generic(line: DocumentLine, amount: Decimal) -> _Explained:
    description = line.label or str(LineKind(line.kind).label).capitalize()
    if line.period_start and line.period_end:
        description = f"{description} {span_text(line.period_start, line.period_end)}"
    return _Explained(description, _amount_text(amount))


_BY_KIND: dict[str, Callable[[DocumentLine, Decimal], _Explained]] = {
    LineKind.SETUP_FEE: _setup_fee,
    LineKind.SUBSCRIPTION: _subscription,
    LineKind.EARLY_TERMINATION: _early_termination,
    LineKind.TERMINATION_FEE: _termination_fee,
    LineKind.CHANGE_FEE: _change_fee,
    LineKind.NON_RETURN_FEE: _non_return_fee,
    LineKind.NON_RETURN_REFUND: _non_return_refund,
    LineKind.GESTURE: _gesture,
    LineKind.WITHDRAWAL: _withdrawal,
    LineKind.CALLS: _calls,
    LineKind.REFUND: _refund,
    LineKind.REJECTION_FEE: _rejection_fee,
}


def _credit_reason(line: DocumentLine, siblings: Sequence[DocumentLine] | None) -> str:
    """Why days were credited, read from the rest of the document (the run does not store it):
    a new product charged for the same contract from the credit's first day is an offer change
    (B4); a withdrawal line of the same contract is a withdrawal (C6); otherwise the contract
    ended (B3)."""
    reason = _text(line.data, "reason")
    if reason in {CREDIT_AFTER_CHANGE, CREDIT_AFTER_WITHDRAWAL, CREDIT_AFTER_END}:
        return reason
    for other in siblings or ():
        if other is line or other.contract_id != line.contract_id:
            continue
        if other.kind == LineKind.WITHDRAWAL:
            return CREDIT_AFTER_WITHDRAWAL
        if (
            other.kind == LineKind.SUBSCRIPTION
            and other.product != line.product
            and other.period_start == line.period_start
        ):
            return CREDIT_AFTER_CHANGE
    return CREDIT_AFTER_END


def _siblings_if_loaded(line: DocumentLine) -> Sequence[DocumentLine] | None:
    """The other lines of the document when they are already in memory (no query)."""
    if not DocumentLine.document.is_cached(line):
        return None
    document = line.document
    cache = getattr(document, "_prefetched_objects_cache", {})
    lines = cache.get("lines")
    return list(lines) if lines is not None else None


def _explained(line: DocumentLine, siblings: Sequence[DocumentLine] | None) -> _Explained:
    amount = Decimal(line.amount)
    kind = line.kind
    if kind == LineKind.SUBSCRIPTION_CREDIT:
        return _subscription_credit(line, amount, _credit_reason(line, siblings))
    explain = _BY_KIND.get(kind, _generic)
    return explain(line, amount)


def line_explanation(line: DocumentLine, *, siblings: Sequence[DocumentLine] | None = None) -> str:
    """The line in one plain-French sentence, from its data and period.

    ``siblings`` (the document's other lines) let a credit of days say why it was made; when
    omitted they are taken from the document if its lines are already loaded."""
    data = line.data if isinstance(line.data, dict) else {}
    if data is not line.data:
        line.data = data
    if siblings is None:
        siblings = _siblings_if_loaded(line)
    if "credits_line" in data:
        # A line of a credit note that cancels an invoice's line (B7, C5): explain the original
        # and say the amount comes back to the customer.
        original = DocumentLine(
            kind=line.kind,
            product=line.product,
            label=line.label.removeprefix("Annulation : "),
            period_start=line.period_start,
            period_end=line.period_end,
            amount=-line.amount,
            vat_rate=line.vat_rate,
            data=data,
            contract_id=line.contract_id,
        )
        base = _explained(original, None)
        sentence = _("Annulation de la ligne facturée « %(line)s » : %(amount)s") % {
            "line": base.description,
            "amount": _amount_text(Decimal(line.amount)),
        }
    else:
        sentence = _explained(line, siblings).text()
    if Decimal(line.vat_rate) == 0:
        sentence = _("%(sentence)s (non soumis à TVA)") % {"sentence": sentence}
    return sentence


def document_explanation(document: Document) -> list[tuple[DocumentLine, str]]:
    """Each line of ``document`` with its explanation, in the document's order. Uses the
    prefetched lines when there are (``customer_documents`` prefetches them)."""
    lines = list(document.lines.all())
    return [(line, line_explanation(line, siblings=lines)) for line in lines]


def first_invoice_summary(document: Document) -> str | None:
    """Why the first invoice is higher (B2), for an invoice that bills a set-up fee; None
    otherwise. The days and dates come from the document's own subscription lines."""
    if document.kind != Document.Kind.INVOICE:
        return None
    lines = list(document.lines.all())
    setup = [
        line
        for line in lines
        if line.kind == LineKind.SETUP_FEE and "credits_line" not in (line.data or {})
    ]
    if not setup:
        return None
    contract_ids = {line.contract_id for line in setup}
    charged = [
        line
        for line in lines
        if line.kind == LineKind.SUBSCRIPTION
        and line.contract_id in contract_ids
        and line.period_start is not None
        and line.period_end is not None
    ]
    if not charged:
        return _(
            "Votre première facture est plus élevée : elle comprend les frais de mise en "
            "service de votre ligne, facturés une seule fois."
        )
    first_day = min(line.period_start for line in charged if line.period_start)
    issue_month = (document.issue_date.year, document.issue_date.month)
    earlier = [
        line
        for line in charged
        if line.period_start and (line.period_start.year, line.period_start.month) < issue_month
    ]
    current = [
        line
        for line in charged
        if line.period_start and (line.period_start.year, line.period_start.month) == issue_month
    ]
    values = {"day": day_text(first_day), "month": month_text(document.issue_date)}
    if not earlier:
        return (
            _(
                "Votre première facture est plus élevée : elle comprend les frais de mise en "
                "service et votre abonnement depuis votre première connexion le %(day)s."
            )
            % values
        )
    one_month_before = all(
        (line.period_start.month, line.period_start.year) == (first_day.month, first_day.year)
        for line in earlier
        if line.period_start
    )
    if one_month_before and current:
        return (
            _(
                "Votre première facture est plus élevée : elle comprend les frais de mise en "
                "service, les jours entre votre première connexion le %(day)s et la fin du "
                "mois, puis le mois en cours."
            )
            % values
        )
    return (
        _(
            "Votre première facture est plus élevée : elle comprend les frais de mise en "
            "service et tous les jours d'abonnement depuis votre première connexion le "
            "%(day)s, jusqu'à la fin de %(month)s."
        )
        % values
    )


def payment_text(document: Document, *, today: date) -> str:
    """How the document is settled, in a few words: « sera prélevée le 5 février »,
    « prélevée le 5 février », « à régler avant le 10 février », « remboursement sur votre
    compte FR76 **** **** 0189 ». Paid or unpaid comes with the payments work."""
    payment = document.payment if isinstance(document.payment, dict) else {}
    method = payment.get("method")
    if (
        document.kind == Document.Kind.INVOICE
        and document.total is not None
        and document.total == 0
    ):
        return _("rien à régler")
    if method == "sepa":
        debit = _date(payment, "debit_date")
        if debit is None:
            return _("par prélèvement")
        if today < debit:
            return _("sera prélevée le %(day)s") % {"day": day_month_text(debit)}
        return _("prélevée le %(day)s") % {"day": day_month_text(debit)}
    if method == "cheque":
        due = _date(payment, "due_before")
        if due is None:
            return _("à régler par chèque")
        return _("à régler avant le %(day)s") % {"day": day_month_text(due)}
    if method == "refund":
        iban = _text(payment, "iban_masked")
        if iban:
            return _("remboursement sur votre compte %(iban)s") % {"iban": iban}
        return _("remboursement par notre service client")
    return ""


# --- termination preview (C10-C13, S2) --------------------------------------------------------


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


def vat_rate_text(rate: Decimal | str) -> str:
    """« 20 % », or « non soumis à TVA » for an item out of VAT scope (M1)."""
    value = Decimal(rate)
    return percent(value) if value else _("non soumis à TVA")


@dataclass(frozen=True)
class VatRow:
    rate: str
    net: Decimal
    vat: Decimal
    gross: Decimal


def vat_rows(document: Document) -> list[VatRow]:
    """The document's VAT breakdown (M2, copied at issue) ready to show."""
    rows = []
    for row in document.vat_breakdown or []:
        try:
            rows.append(
                VatRow(
                    rate=vat_rate_text(row["rate"]),
                    net=Decimal(row["net"]),
                    vat=Decimal(row["vat"]),
                    gross=Decimal(row["gross"]),
                )
            )
        except (KeyError, InvalidOperation, TypeError):
            continue
    return rows
