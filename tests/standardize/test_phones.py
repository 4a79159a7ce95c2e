"""Tests for hub.standardize.phones."""

from __future__ import annotations

import re

import pytest

from hub.errors import InvalidValue
from hub.standardize.phones import standardize_phone

MOBILE = ("+989121234567", "mobile")


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "9121234567",  # Excel dropped the 0
        "9121234567.0",  # Excel float
        "09121234567.0",
        "0912 123 4567",
        "0912-123-4567",
        "(0912) 123-4567",
        "+98 (912) 123-4567",
        "0098 912 123 4567",
        "0912.123.4567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
        "09۱۲1234567",  # mixed digits
        "۰۹۱۲١٢٣۴۵۶۷",  # Persian and Arabic-Indic mixed
        "  09121234567\n",
        "\u200f09121234567\u200e",  # bidi marks from RTL text
    ],
)
def test_mobile_forms(raw: str) -> None:
    assert standardize_phone(raw) == MOBILE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09351234567", ("+989351234567", "mobile")),  # Irancell
        ("09901234567", ("+989901234567", "mobile")),
        ("02188776655", ("+982188776655", "landline")),
        ("۰۲۱-۸۸۷۷۶۶۵۵", ("+982188776655", "landline")),
        ("021 8877 6655", ("+982188776655", "landline")),
        ("2188776655", ("+982188776655", "landline")),  # Excel dropped the 0
        ("03132221111", ("+983132221111", "landline")),  # Isfahan
        ("+98 51 3222 1111", ("+985132221111", "landline")),  # Mashhad
        ("+442079460958", ("+442079460958", "landline")),
        ("+12025550123", ("+12025550123", "other")),  # US: fixed line or mobile
    ],
)
def test_kinds(raw: str, expected: tuple[str, str]) -> None:
    assert standardize_phone(raw) == expected


def test_region_for_numbers_without_country_code() -> None:
    assert standardize_phone("020 7946 0958", region="GB") == ("+442079460958", "landline")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0912abc", "characters other than digits"),
        ("0912 123 4567 داخلی 12", "characters other than digits"),
        ("88776655", "a local number without area code"),
        ("۸۸۷۷۶۶۵۵", "a local number without area code"),
        ("12345", "not a valid phone number"),
        ("0912123456", "not a valid phone number"),  # one digit short
        ("+", "no digits"),
        ("---", "no digits"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_phone(raw)
    assert reason in str(info.value)
