"""Today's termination quote of a customer's contracts, for the customer page (C10-C13, S2).

A read: ``termination_quote`` writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from raccord.billing.explain.termination_quote import QuoteExplained, termination_quote_explanation
from raccord.contracts.models import Contract
from raccord.contracts.termination import TerminationQuote, termination_quote
from raccord.core.errors import DomainError

# Contracts that have something to quote: in service, or whose termination is on its way.
PREVIEWABLE = (Contract.Status.ACTIVE, Contract.Status.TERMINATION_REQUESTED)


@dataclass(frozen=True)
class ContractQuote:
    contract: Contract
    quote: TerminationQuote | None
    explained: QuoteExplained | None
    error: str = ""


def contract_quotes(*, contracts: list[Contract], today: dt.date) -> list[ContractQuote]:
    """Today's termination quote of each contract that has one (the customer page)."""
    result = []
    for contract in contracts:
        if contract.status not in PREVIEWABLE:
            continue
        try:
            quote = termination_quote(contract=contract, on=today)
        except DomainError as error:
            result.append(ContractQuote(contract, None, None, error.message))
            continue
        explained = termination_quote_explanation(
            quote,
            requested_date=None,
            already_requested=contract.status == Contract.Status.TERMINATION_REQUESTED,
        )
        result.append(ContractQuote(contract, quote, explained))
    return result
