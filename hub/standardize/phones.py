"""Phone numbers to E.164 with a kind (PERSIAN.md §3).

phonenumbers does the parsing: with region ``IR`` it accepts every Iranian
prefix form (0912..., +98..., 0098..., 98..., and 912... after Excel dropped
the 0). Only the cleaning around it lives here; the regexes are compiled at
import, and per call nothing is built beyond phonenumbers' own parse object.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from hub.errors import InvalidValue
from hub.standardize.persian_text import to_ascii_digits

# What people put around the digits; letters are refused (phonenumbers would
# read them as a keypad vanity number: "0912abc" -> +98912222).
_ALLOWED = re.compile(r"\+?[\d\s().\-/\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
_EXCEL_FLOAT = re.compile(r"(\d+)\.0")

_KINDS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
}


def standardize_phone(raw: str, region: str = "IR",
                      area_code: str | None = None) -> tuple[str, str]:
    """Standardize a phone number.

    Args:
        raw: the number as typed: any prefix form, spaces, dashes, parentheses,
            Persian/Arabic-Indic digits, or an Excel float such as
            ``"9121234567.0"``.
        region: the country assumed for numbers without a country code.
        area_code: the Iranian area code (``21``) of a local landline written without
            it (``55296397``), from the record's city or the mapping.

    Returns:
        ``(e164, kind)``, kind being ``"mobile"``, ``"landline"`` or
        ``"other"``. ``FIXED_LINE_OR_MOBILE`` (which phonenumbers uses where a
        country's plans overlap, e.g. the US) is ``"landline"`` for Iranian
        numbers and ``"other"`` elsewhere.

    Raises:
        InvalidValue: the value is not a valid phone number.
    """
    text = to_ascii_digits(raw).strip()
    if not text:
        raise InvalidValue(f"{raw!r} is empty, not a phone number")
    if excel := _EXCEL_FLOAT.fullmatch(text):
        text = excel.group(1)
    if not any(c.isdigit() for c in text):
        raise InvalidValue(f"{raw!r} is not a phone number: it has no digits")
    if not _ALLOWED.fullmatch(text):
        raise InvalidValue(
            f"{raw!r} is not a phone number: it contains characters other than "
            "digits, '+' and separators"
        )
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidValue(f"{raw!r} is not a phone number: {exc}") from exc
    local = number.country_code == 98 and len(str(number.national_number)) == 8
    if local and area_code and not phonenumbers.is_valid_number(number):
        number = phonenumbers.parse(f"0{area_code}{number.national_number}", region)
    if not phonenumbers.is_valid_number(number):
        hint = " (a local number without area code?)" if local else ""
        raise InvalidValue(f"{raw!r} is not a valid phone number{hint}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    number_type = phonenumbers.number_type(number)
    kind = _KINDS.get(number_type, "other")
    if number_type == PhoneNumberType.FIXED_LINE_OR_MOBILE and number.country_code == 98:
        kind = "landline"
    return e164, kind
