"""Digit-string cleaning shared by the identifier standardizers."""

from __future__ import annotations

import re

from hub.errors import InvalidValue
from hub.standardize.persian_text import to_ascii_digits

# Excel turns an ID column into numbers: "12345678.0" in a CSV, leading zeros lost.
_EXCEL_FLOAT = re.compile(r"(\d+)[.\u066b]0")
# Group separators people type (spaces, dashes, dots, thousands commas incl. the
# Arabic ٬) and the invisible marks copied out of RTL text.
_SEPARATORS = re.compile(
    r"[\s\-_.,/\u066b\u066c\u2010-\u2015\u2212\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def clean_digits(raw: str, what: str) -> str:
    """ASCII digits of ``raw`` with separators and an Excel ``.0`` removed.

    Args:
        raw: the value as typed.
        what: the value's name for the error sentence, e.g. ``"national code"``.

    Returns:
        A non-empty string of ASCII digits.

    Raises:
        InvalidValue: nothing is left, or a character other than a digit or a
            separator is present (e.g. Excel's ``1.23457E+09``).
    """
    text = to_ascii_digits(raw).strip()
    if excel := _EXCEL_FLOAT.fullmatch(text):
        text = excel.group(1)
    digits = _SEPARATORS.sub("", text)
    if not digits:
        raise InvalidValue(f"{raw!r} is empty, not a {what}")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidValue(f"{raw!r} is not a {what}: it contains characters other than digits")
    return digits
