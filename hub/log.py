"""Logging, set up once: structlog, console on a terminal, JSON otherwise, personal data masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import structlog


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


# Keys whose values are personal data whatever they look like.
PERSONAL_KEYS = frozenset({"name", "full_name", "email", "phone", "mobile", "national_code",
                           "value", "raw", "address", "postal_code", "birth_date"})

_EMAIL = re.compile(r"([^\s@<>\"']{1,2})[^\s@<>\"']*@")
_DIGITS = re.compile(r"(?<!\d)(\+?\d{2})[\d -]{4,}(\d{2})(?!\d)")


def mask(text: str) -> str:
    """``ali.karimi@x.ir`` -> ``al***@x.ir``; ``09121234567`` -> ``09***67``."""
    return _DIGITS.sub(r"\1***\2", _EMAIL.sub(r"\1***@", text))


def mask_personal_data(_logger: Any, _method: str,
                       event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask personal keys entirely, and e-mails/numbers in any string."""
    for key, value in event_dict.items():
        if key in PERSONAL_KEYS and value is not None:
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = mask(value)
    return event_dict


def configure(level: str = "warning", fmt: str = "auto") -> None:
    """Configure structlog for the process; logs go to stderr, results to stdout."""
    json_out = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json_out
                     else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_personal_data,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
