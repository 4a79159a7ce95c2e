"""Logging, set up once: structlog, console on a terminal, JSON otherwise, personal data masked.

Masking goes by what a value is, not by where it came from: under a personal key
(``PERSONAL_KEYS``) a value is hidden whole, whatever it looks like; in any other string,
e-mail addresses, dates and digit runs (phones, national and postal codes, written with
or without separators) are masked. The keys structlog itself writes (``timestamp``,
``level``, ``event``, ``logger``) are never touched. URLs are shown through ``mask_url``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

import structlog

from hub.errors import ConfigError


@dataclass(frozen=True, slots=True)
class LogSettings:
    """``log:`` in config.yaml.

    Args:
        level: the least severe level written.
        format: ``auto`` (console on a terminal, JSON otherwise), ``console`` or ``json``.
    """

    section: ClassVar[str] = "log"
    level: Literal["debug", "info", "warning", "error"] = "warning"
    format: Literal["auto", "console", "json"] = "auto"


# Keys whose values are personal data whatever they look like. ``reason`` is one: a
# rejection's sentence quotes the value it rejects (a birth date, an e-mail without @).
PERSONAL_KEYS = frozenset({"name", "full_name", "email", "phone", "mobile", "national_code",
                           "value", "values", "raw", "address", "postal_code", "birth_date",
                           "reason", "data", "fields"})
# Written by structlog itself: a timestamp is digits, and must stay whole.
EXEMPT_KEYS = frozenset({"timestamp", "level", "event", "logger"})

# An address starts a token: "guest:***@host" in a masked URL is no address.
_EMAIL = re.compile(r"(?<![^\s<>\"'(,;=\[])([^\s@<>\"'/:]{1,2})[^\s@<>\"'/:]*@")
# 1367/07/31, 2023-08-08, 31.07.1367 (\d is any script's digit: ۱۳۶۷/۰۷/۳۱ too); not an
# IP address (a dot and a digit on either side) nor part of a longer number.
_DATE = re.compile(r"(?<!\d)(?<!\d\.)(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}"
                   r"[-/.]\d{2,4})(?!\.?\d)")
# A run of digits with the separators phones are written with: +98 (912) 123-4567.
# Not inside a word or an identifier (C1A2056..., L-0076, a UUID's groups).
_RUN = re.compile(r"(?<![\w+\-])\+?(?:\(\d+\)|\d)(?:[ \-]?(?:\(\d+\)|\d))*(?![\w\-])")
_MIN_DIGITS = 5    # a 5-digit postal code is personal; a row number or a count is not
_KEEP_ENDS = 10    # long runs keep two digits at each end, to tell lines apart


def _mask_run(match: re.Match[str]) -> str:
    digits = [c for c in match.group() if c.isdigit()]
    if len(digits) < _MIN_DIGITS:
        return match.group()
    if len(digits) < _KEEP_ENDS:
        return "***"
    head = "+" if match.group().startswith("+") else ""
    return f"{head}{''.join(digits[:2])}***{''.join(digits[-2:])}"


def mask(text: str) -> str:
    """``ali.karimi@x.ir`` -> ``al***@x.ir``; ``09121234567`` -> ``09***67``;
    ``1367/07/31`` and ``(0912) 123 45`` -> ``***``."""
    return _RUN.sub(_mask_run, _DATE.sub("***", _EMAIL.sub(r"\1***@", text)))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: "***" if k in PERSONAL_KEYS and v is not None else _masked(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def mask_personal_data(_logger: Any, _method: str,
                       event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: personal keys hidden whole, e-mails, dates and digit runs
    masked in every other string (in lists and dicts too), structlog's own keys kept."""
    for key, value in event_dict.items():
        if key in EXEMPT_KEYS:
            continue
        if key in PERSONAL_KEYS and value is not None:
            event_dict[key] = "***"
        else:
            event_dict[key] = _masked(value)
    return event_dict


# --- URLs ---------------------------------------------------------------------------

# The userinfo runs to the LAST "@": a password may hold "#", "/", "?" or "@" unencoded,
# which ends the authority early for urllib (and kombu), so their parsers cannot be
# trusted to find it.
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@]*):.*@", re.S)
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:password|passwd|pwd)=)[^&#]*")
_MUST_ENCODE = re.compile(r"[/?#@\[\]\s]|%(?![0-9A-Fa-f]{2})")


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, whatever the password holds."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(r"\g<head>:***@", url))


def without_password(text: str, url: str) -> str:
    """``text`` (a driver's error message) with the password of ``url`` cut out, as
    written and percent-decoded: a driver that misread the URL may quote part of it."""
    found = _USERINFO.match(url)
    if found is None:
        return text
    password = found.group()[len(found.group("head")) + 1:-1]
    for secret in {password, unquote(password)}:
        if len(secret) >= 3:   # too short a string would blank out common words
            text = text.replace(secret, "***")
    return text


def password_problem(url: str) -> str | None:
    """Why the password in ``url`` must be percent-encoded first (None: it is fine).

    A driver reading ``user:a#b@host`` takes ``a`` for the host (kombu) or ``b@host`` for
    the host (SQLAlchemy, for ``a@b``), then prints that part of the password in its
    error. The sentence never repeats the password.
    """
    found = _USERINFO.match(url)
    if found is None:
        return None
    password = found.group()[len(found.group("head")) + 1:-1]
    bad = sorted({m.group()[:1] for m in _MUST_ENCODE.finditer(password)})
    if not bad:
        return None
    codes = ", ".join(f"{c!r} as %{ord(c):02X}" for c in bad)
    return (f"{mask_url(url)}: the password holds characters a URL reserves; percent-encode "
            f"them ({codes}), e.g. with python3 -c \"import urllib.parse, getpass; "
            f"print(urllib.parse.quote(getpass.getpass(), safe=''))\"")


# --- set-up -------------------------------------------------------------------------

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


class _StderrLogger:
    """Writes to whatever ``sys.stderr`` is at the time: rich's progress bars replace it
    to print lines above the bars, and a line written past them was erased."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = err = critical = exception = fatal = msg


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure(level: str = "warning", fmt: str = "auto") -> None:
    """Configure structlog for the process; logs go to stderr, results to stdout."""
    if level.lower() not in _LEVELS:
        raise ConfigError("log.level", [f"log.level: {level!r} is not one of "
                                        f"{', '.join(_LEVELS)}"])
    json_out = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json_out
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,   # after format_exc_info: a traceback quotes values too
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level.lower()]),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
