"""Structured logging: one line per event, ``key=value`` pairs after the event name (logfmt)."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

_FIELDS = "fields"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event ``name`` with ``fields``, e.g. ``fetch feed=N1 status=200 ms=84``."""
    logger.log(level, name, extra={_FIELDS: fields})


def _value(value: Any) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        parts = [
            f"{stamp}Z",
            f"level={record.levelname.lower()}",
            f"event={_value(record.getMessage())}",
        ]
        parts += [f"{key}={_value(value)}" for key, value in getattr(record, _FIELDS, {}).items()]
        if record.exc_info:
            parts.append(f"exception={_value(self.formatException(record.exc_info))}")
        return " ".join(parts)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = LogfmtFormatter()
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "pymorphy3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apprise").propagate = False  # its words go into the delivery's error
