"""Iranian postal codes (کد پستی, 10 digits, no check digit; PERSIAN.md §2.4)."""

from __future__ import annotations

import re

from hub.errors import InvalidValue
from hub.standardize._digits import clean_digits

# DNTPersianUtils' shape rule: folklore, not an official spec, hence a flag only.
_SHAPE = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][ -]?[013-9]{5}")


def standardize_postal_code(raw: str) -> str:
    """Standardize a postal code.

    Only the length is enforced; the widely copied shape rule is not (see
    ``looks_like_iranian_postal_code``). No zero-padding: Iranian postal codes
    do not start with 0, so a 9-digit value is a wrong value, not Excel damage.

    Args:
        raw: digits in any script, ``XXXXX-XXXXX``, spaced, or an Excel float.

    Returns:
        The 10 digits.

    Raises:
        InvalidValue: not exactly 10 digits after cleaning.
    """
    digits = clean_digits(raw, "postal code")
    if len(digits) != 10:
        raise InvalidValue(f"{raw!r} has {len(digits)} digits; a postal code has 10")
    return digits


def looks_like_iranian_postal_code(code: str) -> bool:
    """Whether ``code`` fits the common Iranian postal-code shape rule.

    The rule (no 0 or 2 in the first five digits, 5th digit not 5, no 2 in the
    last five, first four not all equal) circulates in validators but is not
    official, and one variant differs; use the result to flag a value for
    review, never to reject it.

    Args:
        code: a standardized code (10 ASCII digits; ``XXXXX-XXXXX`` also accepted).

    Returns:
        True if the code fits the rule.
    """
    return _SHAPE.fullmatch(code) is not None
