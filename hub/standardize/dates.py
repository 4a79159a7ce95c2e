"""Dates, Jalali or Gregorian, to ISO Gregorian ``YYYY-MM-DD`` (PERSIAN.md §4).

Decisions:

* The calendar follows the year: 1300-1450 Jalali, 1800-2100 Gregorian. A
  forced calendar still requires its own year range, so a column configured
  as Jalali that holds ``2023-08-08`` is reported, not converted to 2644.
* Year-last Gregorian dates are d/m/y or m/d/y by ``day_first`` (a property of
  the source, never guessed per value: ``08/25/2023`` with ``day_first=True``
  is rejected). Year-last Jalali dates are always d/m/y.
* A two-digit year is accepted with ``calendar="jalali"``, read year first
  (``02/05/17`` = 1402/05/17): ``yy >= 30`` -> 13yy, else 14yy; or, for a
  Gregorian source, with a declared ``year_pivot``: ``yy >= pivot`` -> 19yy,
  else 20yy, read year last (``12/03/85``, ``12-Mar-85``).
* English month names, full or short (``12 March 1985``, ``March 12, 1985``,
  ``12-Mar-85``) are Gregorian; Jalali month names (``17 مرداد 1402``) Jalali.
* Excel serials (days since 1899-12-30) are accepted in 20000-80000, i.e.
  1954-10-03 to 2119-01-10; earlier birth dates stored as serials are rejected.
* A time part (``2023-08-08 10:00:00``, ``2023-08-08T10:00``) is dropped.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass

import jdatetime

from hub.errors import InvalidValue
from hub.standardize.persian_text import text_key

JALALI_YEARS = range(1300, 1451)
GREGORIAN_YEARS = range(1800, 2101)
EXCEL_SERIALS = range(20000, 80001)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_CALENDARS = ("auto", "jalali", "gregorian")

_MONTH_NAMES = (
    ("فروردین", "farvardin"),
    ("اردیبهشت", "ordibehesht"),
    ("خرداد", "khordad"),
    ("تیر", "tir"),
    ("مرداد", "امرداد", "mordad", "amordad"),
    ("شهریور", "shahrivar"),
    ("مهر", "mehr"),
    ("آبان", "aban"),
    ("آذر", "azar"),
    ("دی", "dey", "dei"),
    ("بهمن", "bahman"),
    ("اسفند", "esfand"),
)
# Keyed by text_key, so Arabic-letter (اسفنـد, ارديبهشت) and آ/ا spellings match.
_JALALI_MONTHS = {
    text_key(name): month for month, names in enumerate(_MONTH_NAMES, 1) for name in names
}

_SEP = r"[\s/\-.,_\u060c\u066b\u2010-\u2015\u2212]+"
_TIME = re.compile(
    r"(?:t|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:am|pm|z|[+-]\d{2}:?\d{2})?$"
)
_NUMERIC = re.compile(rf"(\d{{1,4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,4}})")
_MONTH = r"([^\W\d_]+?)(?: ?ماه)?"  # "مرداد ماه" / "مردادماه" = مرداد
_NAMED_DAY_FIRST = re.compile(rf"(\d{{1,2}}){_SEP}?{_MONTH}{_SEP}?(\d{{2,4}})")
_NAMED_YEAR_FIRST = re.compile(rf"(\d{{4}}){_SEP}?{_MONTH}{_SEP}?(\d{{1,2}})")
_NAMED_MONTH_FIRST = re.compile(rf"{_MONTH}{_SEP}?(\d{{1,2}}){_SEP}(\d{{2,4}})")
_ENGLISH = ("january february march april may june july august september october november "
            "december").split()
_GREGORIAN_MONTHS = {**{m: i for i, m in enumerate(_ENGLISH, 1)},
                     **{m[:3]: i for i, m in enumerate(_ENGLISH, 1)}, "sept": 9}


@dataclass(frozen=True, slots=True)
class _Form:
    """How a source writes its dates (decided per source, never per value)."""

    calendar: str
    day_first: bool
    pivot: int | None


def standardize_date(
    raw: str | datetime.date | datetime.datetime | int | float,
    *,
    calendar: str = "auto",
    day_first: bool = True,
    year_pivot: int | None = None,
) -> str:
    """Standardize a date to ISO Gregorian.

    Args:
        raw: a ``date``/``datetime`` (also ``jdatetime``), an Excel serial or
            ``YYYYMMDD`` number, or text: ``1402/05/17``, ``۱۴۰۲-۰۵-۱۷``,
            ``14020517``, ``17/05/1402``, ``08/08/2023``, ``17 مرداد 1402``,
            ``2023-08-08 00:00:00``, Persian/Arabic-Indic digits, separators
            ``/ - .`` or spaces.
        calendar: ``"auto"`` (by the year), ``"jalali"`` or ``"gregorian"``.
        day_first: for year-last Gregorian text, d/m/y (True) or m/d/y (False).
        year_pivot: reads a Gregorian two-digit year: ``yy >= year_pivot`` is 19yy,
            else 20yy (None: a two-digit Gregorian year is refused as ambiguous).

    Returns:
        ``YYYY-MM-DD``.

    Raises:
        InvalidValue: not a date, an impossible date, or a year outside the
            calendar's range.
        ValueError: ``calendar`` is not one of the three names (a caller bug).
    """
    if calendar not in _CALENDARS:
        raise ValueError(f"calendar must be one of {_CALENDARS}, not {calendar!r}")
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    if isinstance(raw, jdatetime.date):  # jdatetime.datetime is a subclass
        gregorian: datetime.date = raw.togregorian()
        if isinstance(gregorian, datetime.datetime):
            gregorian = gregorian.date()
        return gregorian.isoformat()
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InvalidValue(f"{raw!r} is not a date")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidValue(f"{raw!r} is not a date")
        if not raw.is_integer():  # a serial with a time of day
            return _from_serial(raw, math.floor(raw))
        raw_number: int | str = int(raw)
    else:
        raw_number = raw
    if isinstance(raw_number, int):
        return _from_text(raw, str(raw_number), _Form(calendar, day_first, year_pivot))
    return _from_text(raw, raw_number, _Form(calendar, day_first, year_pivot))


def _from_serial(raw: object, serial: int) -> str:
    if serial not in EXCEL_SERIALS:
        raise InvalidValue(
            f"{raw!r} is not a date: as an Excel serial number it is outside "
            f"{EXCEL_SERIALS.start}-{EXCEL_SERIALS.stop - 1}"
        )
    return (_EXCEL_EPOCH + datetime.timedelta(days=serial)).isoformat()


def _from_text(raw: object, text: str, form: _Form) -> str:
    # text_key: ASCII digits, no bidi marks, ي/ك folded for month names, casefolded.
    s = _TIME.sub("", text_key(text))
    if not s:
        raise InvalidValue(f"{raw!r} is empty, not a date")
    if s.isdigit():
        if len(s) == 5:
            return _from_serial(raw, int(s))
        if len(s) == 8:
            return _convert(raw, s[:4], s[4:6], s[6:], form)
        raise InvalidValue(f"{raw!r} is not a date: {len(s)} digits are neither "
                           "YYYYMMDD nor an Excel serial")
    if match := _NUMERIC.fullmatch(s):
        first, middle, last = match.groups()
        return _numeric(raw, first, middle, last, form)
    return _named(raw, s, form)


def _numeric(raw: object, first: str, middle: str, last: str, form: _Form) -> str:
    """Three numbers: which is the year, and which the day, by their widths and the form."""
    gregorian_yy = form.pivot is not None and form.calendar != "jalali"
    if len(first) == 4:
        return _convert(raw, first, middle, last, form)
    if len(last) == 4 or (len(last) == 2 and gregorian_yy):
        if _calendar_of(raw, last, form) == "gregorian" and not form.day_first:
            return _convert(raw, last, first, middle, form)
        return _convert(raw, last, middle, first, form)
    if len(first) == 2 and len(last) == 2:
        return _convert(raw, first, middle, last, form)
    raise InvalidValue(f"{raw!r} is not a date: no part of it is a year")


def _named(raw: object, s: str, form: _Form) -> str:
    """A month written as a word: Jalali names are Jalali, English names Gregorian."""
    for pattern, order in ((_NAMED_DAY_FIRST, "dmy"), (_NAMED_YEAR_FIRST, "ymd"),
                           (_NAMED_MONTH_FIRST, "mdy")):
        if match := pattern.fullmatch(s):
            parts = dict(zip(order, match.groups(), strict=True))
            name = parts["m"]
            if name in _GREGORIAN_MONTHS:
                if form.calendar == "jalali":
                    raise InvalidValue(f"{raw!r} names a Gregorian month but the calendar "
                                       "is Jalali")
                month, calendar = _GREGORIAN_MONTHS[name], "gregorian"
            elif name in _JALALI_MONTHS:
                if form.calendar == "gregorian":
                    raise InvalidValue(f"{raw!r} names a Jalali month but the calendar is "
                                       "Gregorian")
                month, calendar = _JALALI_MONTHS[name], "jalali"
            else:
                raise InvalidValue(f"{raw!r} is not a date: {name!r} is not a month name")
            return _convert(raw, parts["y"], str(month), parts["d"],
                            _Form(calendar, form.day_first, form.pivot))
    raise InvalidValue(f"{raw!r} is not a date in a recognised format")


def _calendar_of(raw: object, year: str, form: _Form) -> str:
    """The calendar of a year, checked against a forced calendar."""
    calendar = form.calendar
    if len(year) == 2:   # only read with a pivot (Gregorian) or as Jalali
        return "gregorian" if form.pivot is not None and calendar != "jalali" else "jalali"
    y = int(year)
    if calendar == "auto":
        if y in JALALI_YEARS:
            return "jalali"
        if y in GREGORIAN_YEARS:
            return "gregorian"
        raise InvalidValue(
            f"{raw!r} is not a date: year {y} is neither Jalali (1300-1450) "
            "nor Gregorian (1800-2100)"
        )
    years = JALALI_YEARS if calendar == "jalali" else GREGORIAN_YEARS
    if y not in years:
        raise InvalidValue(
            f"{raw!r} is not a {calendar.title()} date: year {y} is outside "
            f"{years.start}-{years.stop - 1}"
        )
    return calendar


def _convert(raw: object, year: str, month: str, day: str, form: _Form) -> str:
    if len(year) == 2:
        yy = int(year)
        if form.calendar == "jalali":
            year = str((1300 if yy >= 30 else 1400) + yy)
        elif form.pivot is not None:
            year = str((1900 if yy >= form.pivot else 2000) + yy)
        else:
            raise InvalidValue(
                f"{raw!r} has a two-digit year, which is ambiguous unless the source is "
                "known to be Jalali or its mapping sets year_pivot")
    elif len(year) != 4:
        raise InvalidValue(f"{raw!r} is not a date: {year!r} is not a year")
    cal = _calendar_of(raw, year, form)
    y, m, d = int(year), int(month), int(day)
    result: datetime.date
    try:
        if cal == "jalali":
            result = jdatetime.date(y, m, d).togregorian()
        else:
            result = datetime.date(y, m, d)
    except ValueError as exc:
        raise InvalidValue(f"{raw!r} is not a valid {cal.title()} date: {exc}") from exc
    return result.isoformat()
