"""Structured logging: one line per event, ``key=value`` pairs after the event name (logfmt),
or one JSON object per line for log shippers (``--log-format json``).

The tool's own loggers (``monitor.*``) log from the level ``chosen_level`` picks: ``-v``, else
``--log-level`` ($MONITOR_LOG_LEVEL), else the config's ``[logging] level``, else info. The
libraries' stay at WARNING unless asked for with ``-vv``, since their debug lines carry what we
never log ourselves (urllib3 writes each request's path, and a webhook's token is in its path).
A URL's password is masked in every line written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_FIELDS = "fields"

# scheme://user:password@: the netloc runs to the first "/", "?", "#" or space, its userinfo to
# the last "@" in it, as urllib and SQLAlchemy read it
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/?#\s:@]*):[^/?#\s]*@")
# every control character, and the Unicode line and paragraph separators: a reader of the log
# must not see one event as two lines
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]


def escapes(codes: Iterable[int]) -> dict[int, str]:
    """A ``str.translate`` table writing each of ``codes`` as its escape: ``\\x1b``, ``\\u202e``."""
    return {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in codes}


_ESCAPES = str.maketrans(
    escapes(_CONTROLS)
    | {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
)
_QUOTED = re.compile(r'[\s"=\x00-\x1f\x7f-\x9f\u2028\u2029]')


def hide_passwords(text: str) -> str:
    """``text`` with the password of each URL in it masked: ``postgresql://u:***@host/db``."""
    return _USERINFO.sub(r"\g<scheme>\g<user>:***@", text)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event ``name`` with ``fields``, e.g. ``fetch feed=N1 status=200 ms=84``."""
    logger.log(level, name, extra={_FIELDS: fields})


def _value(value: Any) -> str:
    text = hide_passwords(str(value))
    if not text or _QUOTED.search(text):
        return '"' + text.translate(_ESCAPES) + '"'
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


class JsonFormatter(logging.Formatter):
    """An event as one JSON object on one line: time, level, event, then its fields (numbers,
    booleans and null as themselves, anything else as its text, passwords masked)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + "Z",
            "level": record.levelname.lower(),
            "event": hide_passwords(record.getMessage()),
        }
        for key, value in getattr(record, _FIELDS, {}).items():
            line.setdefault(
                key,
                value
                if value is None or isinstance(value, bool | int | float)
                else hide_passwords(str(value)),
            )
        if record.exc_info:
            line["exception"] = hide_passwords(self.formatException(record.exc_info))
        # JSON escapes the controls but leaves U+2028 and U+2029, which some readers break lines at
        return json.dumps(line, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


FORMATS = {"logfmt": LogfmtFormatter, "json": JsonFormatter}
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass
class _Asked:
    """What the command line (or its environment) asked for: a config's level does not override it."""

    verbose: int = 0
    level: str | None = None


_asked = _Asked()


def chosen_level(verbose: int, asked: str | None, configured: str | None) -> int:
    """The tool's log level: debug with ``-v``, else the one ``--log-level`` (or
    $MONITOR_LOG_LEVEL) asked for, else the config's ``[logging] level``, else info."""
    if verbose:
        return logging.DEBUG
    return LEVELS[asked or configured or "info"]


def configure(verbose: int = 0, asked: str | None = None, form: str = "logfmt") -> None:
    """Log the tool's events at the level chosen (see ``chosen_level``; the config's comes
    with ``follow_config``), the libraries' from WARNING (DEBUG with ``-vv``), in the format
    ``form`` names (FORMATS)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = FORMATS[form]()
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    logging.getLogger("apprise").propagate = False  # its words go into the delivery's error
    _asked.verbose, _asked.level = verbose, asked
    follow_config(None)


def follow_config(configured: str | None) -> None:
    """The config's ``[logging] level``, once it is loaded (and again when it is reloaded),
    unless the command line or the environment asked for one."""
    logging.getLogger("monitor").setLevel(chosen_level(_asked.verbose, _asked.level, configured))
