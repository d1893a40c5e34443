"""Log filters: an IBAN never reaches a log line in clear."""

from __future__ import annotations

import logging

from raccord.core.masking import mask_ibans_in_text


class MaskIbanFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            try:
                record.msg = record.msg % record.args
                record.args = None
            except (TypeError, ValueError):
                return True
        if isinstance(record.msg, str):
            record.msg = mask_ibans_in_text(record.msg)
        return True
