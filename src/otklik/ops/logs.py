"""Structured logs: one JSON object a line, with the request id and user id of the moment.

`settings.LOGGING` uses `JsonFormatter` when OTKLIK_LOG_FORMAT=json (what `make serve` and
the container set). The user is identified by id only: no names, phones or e-mails, and
the request line carries the view and URL pattern, never the path or query with its values.
"""

import json
import logging
import time
from datetime import UTC, datetime

from otklik.common.request_context import request_id_var, user_id_var

# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    """Puts the current request id and user id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, context, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_") or value in (None, ""):
                continue
            entry[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def monotonic_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
