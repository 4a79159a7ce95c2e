"""Tests for hub.standardize.national_codes."""

from __future__ import annotations

import re

import pytest

from hub.errors import InvalidValue
from hub.standardize.national_codes import (
    is_valid_national_code,
    standardize_economic_code,
    standardize_legal_id,
    standardize_national_code,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0076229645", "0076229645"),
        ("1583250689", "1583250689"),
        ("11537027", "0011537027"),  # Excel dropped two zeros
        ("076229645", "0076229645"),  # and one
        ("11537027.0", "0011537027"),  # Excel float
        ("۰۰۷۶۲۲۹۶۴۵", "0076229645"),
        ("٠٠٧٦٢٢٩٦٤٥", "0076229645"),
        ("۰۰۷۶۲٢٩٦٤٥", "0076229645"),  # mixed scripts
        ("007-622964-5", "0076229645"),
        ("007 622 9645", "0076229645"),
        ("۱۵۸-۳۲۵۰۶۸-۹", "1583250689"),
        (" 1583250689\u200f", "1583250689"),
    ],
)
def test_standardize_national_code(raw: str, expected: str) -> None:
    assert standardize_national_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0012345678", "fails the national code check digit"),
        ("1583250688", "fails the national code check digit"),
        ("1111111111", "placeholder"),  # passes the check digit
        ("0000000000", "placeholder"),
        ("۲۲۲۲۲۲۲۲۲۲", "placeholder"),
        ("1230000004", "digits 4 to 9 are all zero"),
        ("1234567", "has 7 digits"),
        ("15832506891", "has 11 digits"),
        ("1.58325E+09", "characters other than digits"),  # Excel scientific notation
        ("158325068X", "characters other than digits"),
        ("", "empty"),
    ],
)
def test_invalid_national_code(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_national_code(raw)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0076229645", True),
        ("1583250689", True),
        ("0011537027", True),
        ("11537027", False),  # no padding here
        ("0076229646", False),
        ("1111111111", False),
        ("۰۰۷۶۲۲۹۶۴۵", False),  # ASCII only
        ("007622964 ", False),
    ],
)
def test_is_valid_national_code(code: str, expected: bool) -> None:
    assert is_valid_national_code(code) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10380284790", "10380284790"),
        ("۱۰۳۸۰۲۸۴۷۹۰", "10380284790"),
        ("103-8028-4790", "10380284790"),
        ("10380284790.0", "10380284790"),
    ],
)
def test_standardize_legal_id(raw: str, expected: str) -> None:
    assert standardize_legal_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("10380284791", "fails the legal-entity national ID check digit"),
        ("1038028479", "has 10 digits"),
        ("10300000090", "digits 4 to 9 are all zero"),
    ],
)
def test_invalid_legal_id(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_legal_id(raw)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0076229645", "0076229645"),  # national code
        ("10380284790", "10380284790"),  # legal-entity ID
        ("411111111111", "411111111111"),  # old 12-digit code, unchecked
        ("4111-1111-1111", "411111111111"),
        ("00762296450001", "00762296450001"),  # new natural-person code
        ("۰۰۷۶۲۲۹۶۴۵۰۰۰۱", "00762296450001"),
    ],
)
def test_standardize_economic_code(raw: str, expected: str) -> None:
    assert standardize_economic_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0076229646", "as a national code it fails the national code check digit"),
        ("10380284791", "as a legal-entity national ID it fails"),
        ("00762296460001", "its national code fails the national code check digit"),
        ("11111111110001", "placeholder"),
        ("76229645", "has 8 digits"),  # no padding for economic codes
        ("1234567890123", "has 13 digits"),
    ],
)
def test_invalid_economic_code(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_economic_code(raw)
    assert reason in str(info.value)
