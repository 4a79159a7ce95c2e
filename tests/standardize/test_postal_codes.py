"""Tests for hub.standardize.postal_codes."""

from __future__ import annotations

import re

import pytest

from hub.errors import InvalidValue
from hub.standardize.postal_codes import looks_like_iranian_postal_code, standardize_postal_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1345768913", "1345768913"),
        ("13457-68913", "1345768913"),
        ("13457 68913", "1345768913"),
        ("۱۳۴۵۷-۶۸۹۱۳", "1345768913"),
        ("١٣٤٥٧٦٨٩١٣", "1345768913"),
        ("1345768913.0", "1345768913"),
        ("1234567890", "1234567890"),  # fails the shape rule: still accepted
    ],
)
def test_standardize_postal_code(raw: str, expected: str) -> None:
    assert standardize_postal_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("134576891", "has 9 digits"),
        ("13457689130", "has 11 digits"),
        ("13457-6891A", "characters other than digits"),
        ("", "empty"),
    ],
)
def test_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_postal_code(raw)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1345768913", True),
        ("13457-68913", True),
        ("1234567890", False),  # 2 in the first five
        ("1345568913", False),  # 5th digit 5
        ("1345768923", False),  # 2 in the last five
        ("1111768913", False),  # first four equal
        ("0345768913", False),
    ],
)
def test_looks_like_iranian_postal_code(code: str, expected: bool) -> None:
    assert looks_like_iranian_postal_code(code) is expected
