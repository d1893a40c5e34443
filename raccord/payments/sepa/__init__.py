"""ISO 20022 SEPA files: the pain.008 direct-debit writer (streaming), the readers of bank
returns (pain.002, camt.054), their generator for tests and the demo, the R-transaction reason
codes in French, and the official schemas shipped with ``sepaxml``."""
