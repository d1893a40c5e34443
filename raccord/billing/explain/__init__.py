"""Plain-French explanations of invoice and credit-note lines (B9, shown in Mon Compte, the
back-office, the API and the PDF).

Every sentence is generated from what the line stores — its kind, period, amount and ``data``
(keys listed in notes/billing-contract.md) — never written by hand for a case, so that what the
customer reads is exactly what was computed. Nothing here reads the clock or the database:
``payment_text`` takes the day as a parameter and the explanations read only the line (and,
for ``document_explanation``, the document's lines, prefetched by the caller when it can).

- ``french``: amounts, dates, spans and durations written the French way;
- ``lines``: one sentence per line (``line_explanation``, ``document_explanation``), from
  ``subscriptions`` (days charged and credited) and ``one_off`` (fees, refunds, gestures);
- ``document``: what a whole document says besides its lines (first invoice, payment, VAT);
- ``termination_quote``: a termination's cost before it is requested (C10-C13, S2)."""
