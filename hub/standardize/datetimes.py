"""Points in time (an e-mail's Date, an SMS's receipt, a form's submission) to ISO 8601.

Decisions:

* The result always carries its UTC offset (``2026-11-24T10:15:00+03:30``), because
  interactions from several systems are ordered on one timeline.
* A time without an offset is local time of the source, ``Asia/Tehran`` unless the
  mapping says otherwise (``timezone:``); Iran has kept +03:30 all year since 2022,
  earlier dates get the daylight-saving offset of their day from the tz database.
* Accepted: ISO 8601 (``T`` or a space, ``Z`` or an offset), RFC 2822 e-mail dates
  (``Tue, 24 Nov 2026 10:15:00 +0330``), Unix seconds or milliseconds, and a date
  (Jalali or Gregorian, anything ``standardize_date`` reads) followed by a time.
  Seconds are kept, fractions dropped.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import zoneinfo

from hub.errors import InvalidValue
from hub.standardize.dates import standardize_date
from hub.standardize.persian_text import text_key

DEFAULT_TIMEZONE = "Asia/Tehran"
_EPOCH_RANGE = range(946_684_800, 4_102_444_800)   # 2000-01-01 .. 2100-01-01, seconds
_DATE_TIME = re.compile(r"(.+?)[\st]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?"
                        r"\s*(am|pm|ق\.ظ|ب\.ظ)?\s*(z|[+-]\d{2}:?\d{2})?")


def standardize_datetime(raw: str | datetime.datetime | int | float, *,
                         timezone: str = DEFAULT_TIMEZONE) -> str:
    """``raw`` as an ISO 8601 date-time with its offset.

    Raises:
        InvalidValue: not a point in time, or an impossible one.
    """
    zone = _zone(timezone)
    if isinstance(raw, datetime.datetime):
        return _iso(raw, zone)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InvalidValue(f"{raw!r} is not a date and time")
    text = text_key(str(raw))
    if re.fullmatch(r"\d{10}|\d{13}", text):
        seconds = int(text) // (1000 if len(text) == 13 else 1)
        if seconds not in _EPOCH_RANGE:
            raise InvalidValue(f"{raw!r} is not a date and time: as Unix time it is "
                               "outside 2000-2099")
        return _iso(datetime.datetime.fromtimestamp(seconds, datetime.UTC), zone)
    if "," in text or re.search(r"[a-z]{3} \d{4}", text):
        parsed = _rfc2822(str(raw))
        if parsed is not None:
            return _iso(parsed, zone)
    return _date_and_time(raw, text, zone)


def _date_and_time(raw: object, text: str, zone: zoneinfo.ZoneInfo) -> str:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise InvalidValue(f"{raw!r} is not a date and time in a recognised format")
    date_part, hour, minute, second, half, offset = match.groups()
    day = datetime.date.fromisoformat(standardize_date(date_part))
    h = int(hour)
    if half in ("pm", "ب.ظ") and h < 12:
        h += 12
    elif half in ("am", "ق.ظ") and h == 12:
        h = 0
    try:
        moment = datetime.datetime.combine(day, datetime.time(h, int(minute), int(second or 0)))
    except ValueError as exc:
        raise InvalidValue(f"{raw!r} is not a valid time: {exc}") from exc
    if offset:
        return _iso(moment.replace(tzinfo=_fixed(offset)), zone)
    return _iso(moment, zone)


def _rfc2822(text: str) -> datetime.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _fixed(offset: str) -> datetime.timezone:
    if offset == "z":
        return datetime.UTC
    digits = offset[1:].replace(":", "")
    delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return datetime.timezone(delta if offset[0] == "+" else -delta)


def _iso(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.replace(microsecond=0).isoformat()


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue(f"{name!r} is not a time zone name (such as Asia/Tehran)") from exc
