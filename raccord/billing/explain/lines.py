"""One plain-French sentence per document line, whatever its kind (B9)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from raccord.billing.explain import one_off, subscriptions
from raccord.billing.explain.french import Explained, amount_text, span_text
from raccord.billing.models import Document, DocumentLine, LineKind


def _generic(line: DocumentLine, amount: Decimal) -> Explained:
    description = line.label or str(LineKind(line.kind).label).capitalize()
    if line.period_start and line.period_end:
        description = f"{description} {span_text(line.period_start, line.period_end)}"
    return Explained(description, amount_text(amount))


_BY_KIND: dict[str, Callable[[DocumentLine, Decimal], Explained]] = {
    LineKind.SETUP_FEE: one_off.setup_fee,
    LineKind.SUBSCRIPTION: subscriptions.subscription,
    LineKind.EARLY_TERMINATION: one_off.early_termination,
    LineKind.TERMINATION_FEE: one_off.termination_fee,
    LineKind.CHANGE_FEE: one_off.change_fee,
    LineKind.NON_RETURN_FEE: one_off.non_return_fee,
    LineKind.NON_RETURN_REFUND: one_off.non_return_refund,
    LineKind.GESTURE: one_off.gesture,
    LineKind.WITHDRAWAL: one_off.withdrawal,
    LineKind.CALLS: one_off.calls,
    LineKind.REFUND: one_off.refund,
    LineKind.REJECTION_FEE: one_off.rejection_fee,
}


def _siblings_if_loaded(line: DocumentLine) -> Sequence[DocumentLine] | None:
    """The other lines of the document when they are already in memory (no query)."""
    if not DocumentLine.document.is_cached(line):
        return None
    document = line.document
    cache = getattr(document, "_prefetched_objects_cache", {})
    lines = cache.get("lines")
    return list(lines) if lines is not None else None


def _explained(line: DocumentLine, siblings: Sequence[DocumentLine] | None) -> Explained:
    amount = Decimal(line.amount)
    kind = line.kind
    if kind == LineKind.SUBSCRIPTION_CREDIT:
        return subscriptions.credit(line, amount, subscriptions.credit_reason(line, siblings))
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
            "amount": amount_text(Decimal(line.amount)),
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
