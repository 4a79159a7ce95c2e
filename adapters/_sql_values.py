"""Column values of the ``sql`` adapter: as record data, as source ids, as checkpoint text.

Three forms, each for one reader:

* ``json_safe``: what a record's ``data`` holds, something JSON can store and a mapping can
  read: dates and date-times as ISO 8601 text (an aware date-time in UTC, with ``+00:00``),
  ``Decimal`` as plain text (``12.50``, never ``1.25E+1``), bytes as lower-case hex, UUIDs
  and anything else a driver invents as ``str``.
* ``render_id``: a key value as part of a source id (``42``, ``C-1001``).
* ``encode``/``decode``: a watermark or key value as tagged text that comes back as the
  very same Python value, so the next read binds exactly what this one saw and the
  database compares it exactly: ``dt:2026-11-24T10:00:00.123456`` (naive, as
  ``timestamp``/``DATETIME`` columns give it), ``tz:2026-11-24T06:30:00.123456+00:00``
  (aware, normalized to UTC: the same instant whatever the session's time zone),
  ``i:42``, ``d:12.50``, ``s:…``, ``b:<hex>``. Microseconds are kept as the driver gave
  them and never added: a ``DATETIME`` (seconds) value binds without a fraction, a
  ``DATETIME(6)`` or PostgreSQL value with all six digits. SQLite stores date-times as
  text, and this adapter reads SQLite's columns untyped, so there the value is the
  stored text (``s:2026-11-24 10:00:00``) and compares as text, exactly as stored.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from hub.errors import FatalSourceError


def json_safe(value: Any) -> Any:
    """``value`` as JSON can hold it (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):   # JSON columns
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):   # PostgreSQL arrays
        return [json_safe(v) for v in value]
    return str(value)


def render_id(value: Any) -> str:
    """A key value as source-id text: the JSON-safe form, as text."""
    safe = json_safe(value)
    return safe if isinstance(safe, str) else str(safe)


# Tag -> (type, how to write it, how to read it). bool before int: bool is an int;
# date-times are written by ``encode`` itself (tz or dt, by whether they are aware).
_CODECS: tuple[tuple[str, type, Any, Any], ...] = (
    ("bool", bool, lambda v: "1" if v else "0", lambda s: s == "1"),
    ("i", int, str, int),
    ("f", float, repr, float),
    ("d", Decimal, str, Decimal),
    ("s", str, str, str),
    ("tz", datetime, None, datetime.fromisoformat),
    ("dt", datetime, None, datetime.fromisoformat),
    ("date", date, lambda v: v.isoformat(), date.fromisoformat),
    ("time", time, lambda v: v.isoformat(), time.fromisoformat),
    ("b", bytes, lambda v: bytes(v).hex(), bytes.fromhex),
    ("u", uuid.UUID, str, uuid.UUID),
)
_READERS = {tag: read for tag, _, _, read in _CODECS}


class UnsupportedValue(ValueError):
    """A watermark or key value of a type no checkpoint can hold."""


def encode(value: Any) -> str:
    """``value`` as tagged text that ``decode`` turns back into an equal value."""
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, datetime):
        # Aware and naive values are different types to the database (timestamptz and
        # timestamp): keep which one it was, or the comparison would shift by the zone.
        return ("tz:" if value.tzinfo is not None else "dt:") + (
            _utc(value).isoformat() if value.tzinfo is not None else value.isoformat())
    for tag, kind, write, _ in _CODECS:
        if write is not None and isinstance(value, kind):
            text: str = write(value)
            return f"{tag}:{text}"
    raise UnsupportedValue(f"a value of type {type(value).__name__}")


def decode(text: str) -> Any:
    """The value ``encode`` wrote; ValueError for text it did not write."""
    tag, sep, body = text.partition(":")
    if not sep or tag not in _READERS:
        raise ValueError(f"{text!r} is not an encoded value")
    return _READERS[tag](body)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _plain(value: Decimal) -> str:
    # str(Decimal("1E+2")) is "1E+2": write it out, keeping the digits after the point.
    return format(value, "f") if value.is_finite() else str(value)


def unsupported(column: str, exc: UnsupportedValue) -> FatalSourceError:
    """The error for a watermark or key column whose values cannot be checkpointed."""
    return FatalSourceError(
        f"sql: column {column!r} holds {exc}, which cannot be a watermark or key; use a "
        "column of whole numbers, text, decimals, dates or date-times (options.watermark, "
        "options.key)")
