"""Iranian postal codes (کد پستی, 10 digits, no check digit; PERSIAN.md §2.4)."""

from __future__ import annotations

import re

from hub.errors import InvalidValue
from hub.standardize._digits import clean_digits
from hub.standardize.persian_text import to_ascii_digits

_FOREIGN = re.compile(r"[0-9A-Z]([0-9A-Z \-]{0,10}[0-9A-Z])?")

# DNTPersianUtils' shape rule: folklore, not an official spec, hence a flag only.
_SHAPE = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][ -]?[013-9]{5}")


def standardize_postal_code(raw: str, country: str = "IR") -> str:
    """Standardize a postal code of ``country``.

    Iranian codes: only the length is enforced; the widely copied shape rule is not
    (see ``looks_like_iranian_postal_code``). No zero-padding: Iranian postal codes
    do not start with 0, so a 9-digit value is a wrong value, not Excel damage.
    Other countries' codes are kept as written: ASCII digits, upper case, single
    spaces (``sw1a 1aa`` -> ``SW1A 1AA``); each country's own rules are not checked.

    Args:
        raw: digits in any script, ``XXXXX-XXXXX``, spaced, or an Excel float.
        country: the ISO code of the address's country.

    Returns:
        The code.

    Raises:
        InvalidValue: an Iranian code that is not 10 digits, or a code of letters,
            digits, spaces and dashes it is not.
    """
    if country != "IR":
        code = " ".join(to_ascii_digits(raw).upper().split())
        if not _FOREIGN.fullmatch(code):
            raise InvalidValue(f"{raw!r} is not a postal code: use letters, digits, "
                               "spaces and dashes, 2 to 12 of them")
        return code
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
