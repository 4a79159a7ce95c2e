"""Tests for hub.standardize.dates."""

from __future__ import annotations

import datetime
import re

import jdatetime
import pytest

from hub.errors import InvalidValue
from hub.standardize.dates import standardize_date

MORDAD_17 = "2023-08-08"  # 1402/05/17


@pytest.mark.parametrize(
    "raw",
    [
        "1402/05/17",
        "1402/5/17",
        "1402-05-17",
        "1402.05.17",
        "1402 05 17",
        "۱۴۰۲/۰۵/۱۷",
        "۱۴۰۲-۰۵-۱۷",
        "١٤٠٢/٠٥/١٧",
        "۱۴۰۲/05/۱۷",  # mixed digits
        "14020517",  # ERP integer as text
        "۱۴۰۲۰۵۱۷",
        "17/05/1402",  # year last: always d/m/y for Jalali
        "17-5-1402",
        "17 مرداد 1402",
        "۱۷ مرداد ۱۴۰۲",
        "17 مرداد ماه 1402",
        "١٧ مردادماه ١٤٠٢",
        "17 امرداد 1402",
        "17-مرداد-1402",
        "1402 مرداد 17",
        "17 Mordad 1402",
        "\u200f1402/05/17\u200e",  # bidi marks from RTL cells
        "1402/05/17 10:30:00",
        "2023-08-08",
        "2023/8/8",
        "20230808",
        "08/08/2023",
        "8.8.2023",
        "45146",  # Excel serial as text
        "2023-08-08 00:00:00",
        "2023-08-08T10:00",
        "2023-08-08T10:00:00+03:30",
    ],
)
def test_same_day(raw: str) -> None:
    assert standardize_date(raw) == MORDAD_17


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1402/06/31", "2023-09-22"),  # months 1-6 have 31 days
        ("1403/12/30", "2025-03-20"),  # 1403 is a leap year
        ("1399/12/30", "2021-03-20"),
        ("1365/08/05", "1986-10-27"),
        ("۵ آبان ۱۳۶۵", "1986-10-27"),
        ("5 ابان 1365", "1986-10-27"),  # آ written as ا
        ("1 دي 1370", "1991-12-22"),  # Arabic yeh
        ("1 ارديبهشت 1360", "1981-04-21"),
        ("29 اسفند 1402", "2024-03-19"),
        ("1 فروردین 1403", "2024-03-20"),
        ("25/08/2023", "2023-08-25"),
        ("03/04/2023", "2023-04-03"),  # day first by default
    ],
)
def test_standardize_date(raw: str, expected: str) -> None:
    assert standardize_date(raw) == expected


def test_day_first_false_only_for_gregorian() -> None:
    assert standardize_date("03/04/2023", day_first=False) == "2023-03-04"
    assert standardize_date("08/25/2023", day_first=False) == "2023-08-25"
    # Jalali year-last stays d/m/y
    assert standardize_date("17/05/1402", day_first=False) == MORDAD_17


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02/05/17", MORDAD_17),
        ("۰۲/۰۵/۱۷", MORDAD_17),
        ("65/08/05", "1986-10-27"),  # yy >= 30 -> 13yy
        ("29/12/29", "2051-03-20"),  # yy < 30 -> 14yy
    ],
)
def test_two_digit_year_when_jalali(raw: str, expected: str) -> None:
    assert standardize_date(raw, calendar="jalali") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (datetime.date(2023, 8, 8), MORDAD_17),
        (datetime.datetime(2023, 8, 8, 23, 59), MORDAD_17),
        (jdatetime.date(1402, 5, 17), MORDAD_17),
        (jdatetime.datetime(1402, 5, 17, 10, 0), MORDAD_17),
        (45146, MORDAD_17),  # Excel serial
        (45146.0, MORDAD_17),
        (45146.75, MORDAD_17),  # serial with a time of day
        (20000, "1954-10-03"),
        (14020517, MORDAD_17),  # ERP integer
        (20230808, MORDAD_17),
        (14020517.0, MORDAD_17),
    ],
)
def test_non_text(raw: object, expected: str) -> None:
    assert standardize_date(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "kwargs", "reason"),
    [
        ("1402/07/31", {}, "is not a valid Jalali date: day is out of range for month"),
        ("1404/12/30", {}, "is not a valid Jalali date: day is out of range"),  # not leap
        ("1402/13/01", {}, "is not a valid Jalali date: month must be in 1..12"),
        ("31 مهر 1402", {}, "is not a valid Jalali date"),
        ("2023-02-30", {}, "is not a valid Gregorian date: day is out of range for month"),
        ("2023/13/01", {}, "is not a valid Gregorian date"),
        ("08/25/2023", {}, "month must be in 1..12"),  # m/d/y under day_first
        ("02/05/17", {}, "two-digit year"),
        ("02/05/17", {"calendar": "gregorian"}, "two-digit year"),
        ("1250/01/01", {}, "neither Jalali (1300-1450) nor Gregorian (1800-2100)"),
        ("2023-08-08", {"calendar": "jalali"}, "year 2023 is outside 1300-1450"),
        ("1402/05/17", {"calendar": "gregorian"}, "year 1402 is outside 1800-2100"),
        ("17 مرداد 1402", {"calendar": "gregorian"}, "names a Jalali month"),
        ("17 مرداد 2023", {}, "year 2023 is outside 1300-1450"),
        ("17 فلان 1402", {}, "is not a month name"),
        ("12345", {}, "outside 20000-80000"),
        ("123", {}, "neither YYYYMMDD nor an Excel serial"),
        ("1402/05", {}, "recognised format"),
        ("فردا", {}, "recognised format"),
        ("", {}, "empty"),
        (" \u200f ", {}, "empty"),
    ],
)
def test_invalid_text(raw: str, kwargs: dict[str, str], reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_date(raw, **kwargs)  # type: ignore[arg-type]
    assert reason in str(info.value)


@pytest.mark.parametrize("raw", [19999, 80001, 123.5, float("nan"), True, None, b"1402"])
def test_invalid_non_text(raw: object) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))):
        standardize_date(raw)  # type: ignore[arg-type]


def test_unknown_calendar_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="calendar must be one of") as info:
        standardize_date("1402/05/17", calendar="hijri")
    assert not isinstance(info.value, InvalidValue)


@pytest.mark.parametrize(("raw", "kwargs", "iso"), [
    ("12 March 1985", {}, "1985-03-12"),
    ("March 12, 1985", {}, "1985-03-12"),
    ("Sept 5 2001", {}, "2001-09-05"),
    ("12-Mar-85", {"year_pivot": 30}, "1985-03-12"),
    ("5 sept 01", {"year_pivot": 30}, "2001-09-05"),
    ("12/03/85", {"year_pivot": 30}, "1985-03-12"),
    ("03/12/85", {"year_pivot": 30, "day_first": False}, "1985-03-12"),
    ("12/03/29", {"year_pivot": 30}, "2029-03-12"),
])
def test_english_month_names_and_a_declared_year_pivot(raw: str, kwargs: dict, iso: str) -> None:
    assert standardize_date(raw, **kwargs) == iso


@pytest.mark.parametrize(("raw", "kwargs", "message"), [
    ("12/03/85", {}, "two-digit year"),
    ("12 March 1985", {"calendar": "jalali"}, "names a Gregorian month"),
    ("12 Foo 1985", {}, "'foo' is not a month name"),
])
def test_what_the_form_cannot_read_is_named(raw: str, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        standardize_date(raw, **kwargs)
