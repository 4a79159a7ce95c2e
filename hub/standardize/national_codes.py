"""Iranian person and company identifiers (PERSIAN.md §2.1-2.3).

Placeholder policy: a national code with all ten digits equal (``1111111111``,
``0000000000`` ...) passes the check digit but is what forms and clerks type
when the real code is unknown, so it is rejected. PERSIAN.md notes that one
real person reportedly holds ``1111111111``: such a record goes to
quarantine, where a data steward can release it. Flagged, never silently
accepted.
"""

from __future__ import annotations

from hub.errors import InvalidValue
from hub.standardize._digits import clean_digits

_LEGAL_ID_WEIGHTS = (29, 27, 23, 19, 17)


def _national_code_problem(code: str) -> str | None:
    """Why a 10-digit ASCII code is not acceptable, or None if it is."""
    if len(code) != 10 or not (code.isascii() and code.isdigit()):
        return "is not 10 digits"
    if code == code[0] * 10:
        return "is a placeholder value (all ten digits are equal), not a real national code"
    if code[3:9] == "000000":
        return "is not a national code: digits 4 to 9 are all zero"
    s = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    if int(code[9]) != (s if s < 2 else 11 - s):
        return "fails the national code check digit"
    return None


def is_valid_national_code(code: str) -> bool:
    """Whether ``code`` is an acceptable national code, exactly as given.

    The same rule as ``standardize_national_code`` (check digit, placeholder
    and zero-middle rejections) but without cleaning or padding.

    Args:
        code: 10 ASCII digits.

    Returns:
        True if acceptable.
    """
    return _national_code_problem(code) is None


def standardize_national_code(raw: str) -> str:
    """Standardize a person's national code (کد ملی).

    Args:
        raw: digits in any script, with spaces/dashes/dots, possibly an Excel
            float (``"12345678.0"``) or missing its leading zeros.

    Returns:
        The 10-digit code, left-padded with zeros from 8 or 9 digits.

    Raises:
        InvalidValue: wrong length, placeholder, zero middle or failed check digit.
    """
    digits = clean_digits(raw, "national code")
    if not 8 <= len(digits) <= 10:
        raise InvalidValue(
            f"{raw!r} has {len(digits)} digits; a national code has 10 "
            "(8 or 9 when leading zeros were lost)"
        )
    code = digits.zfill(10)
    if problem := _national_code_problem(code):
        raise InvalidValue(f"{raw!r} {problem}")
    return code


def _legal_id_problem(code: str) -> str | None:
    """Why an 11-digit ASCII legal ID is not acceptable, or None if it is."""
    if code[3:9] == "000000":
        return "is not a legal-entity national ID: digits 4 to 9 are all zero"
    d = [int(c) for c in code]
    k = d[9] + 2
    s = sum((k + d[i]) * _LEGAL_ID_WEIGHTS[i % 5] for i in range(10)) % 11
    if (0 if s == 10 else s) != d[10]:
        return "fails the legal-entity national ID check digit"
    return None


def standardize_legal_id(raw: str) -> str:
    """Standardize a legal entity's national ID (شناسه ملی, 11 digits).

    Args:
        raw: digits in any script, with separators or as an Excel float.

    Returns:
        The 11-digit ID.

    Raises:
        InvalidValue: not 11 digits, zero middle or failed check digit.
    """
    digits = clean_digits(raw, "legal-entity national ID")
    if len(digits) != 11:
        raise InvalidValue(
            f"{raw!r} has {len(digits)} digits; a legal-entity national ID has 11"
        )
    if problem := _legal_id_problem(digits):
        raise InvalidValue(f"{raw!r} {problem}")
    return digits


def standardize_economic_code(raw: str) -> str:
    """Standardize an economic code (کد اقتصادی), old or new style.

    Accepted by length after cleaning: 10 (a person's national code, checked),
    11 (a legal entity's national ID, checked), 12 (the old code; no check
    digit is known) and 14 (new natural-person code: national code + 4 digits;
    the national code is checked). No padding: the length is the type.

    Args:
        raw: digits in any script, with separators or as an Excel float.

    Returns:
        The digits.

    Raises:
        InvalidValue: another length, or the embedded national code/ID is invalid.
    """
    digits = clean_digits(raw, "economic code")
    n = len(digits)
    if n in (10, 14):
        problem = _national_code_problem(digits[:10])
        what = "its national code" if n == 14 else "as a national code it"
    elif n == 11:
        problem = _legal_id_problem(digits)
        what = "as a legal-entity national ID it"
    elif n == 12:
        return digits
    else:
        raise InvalidValue(
            f"{raw!r} has {n} digits; an economic code has 10, 11, 12 or 14"
        )
    if problem:
        raise InvalidValue(f"{raw!r} is not a valid economic code: {what} {problem}")
    return digits
