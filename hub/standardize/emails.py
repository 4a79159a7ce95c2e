"""E-mail addresses: one comparable form, pragmatically validated.

Not an RFC 5322 parser: quoted local parts, comments and IP-literal domains are
refused, because in customer data they are typing mistakes, not addresses.
"""

from __future__ import annotations

import re

from hub.errors import InvalidValue
from hub.standardize.persian_text import to_ascii_digits

# Invisible marks that ride along when an address is copied out of RTL text.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F),
     *range(0x2066, 0x206A)]
)
_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
_ANGLE = re.compile(r"[^<>]*<([^<>]*)>")  # "Ali Karimi <ali@x.ir>" or "<ali@x.ir>"
# RFC 5322 dot-atom, ASCII only: a Persian-letter local part is, in practice,
# a keyboard-layout slip, and Iranian providers do not offer SMTPUTF8 mailboxes.
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})")


def standardize_email(raw: str) -> str:
    """Standardize an e-mail address.

    Removes a ``mailto:`` prefix, surrounding ``<>`` and a display name
    (``"Ali <ali@x.ir>"``), converts Persian/Arabic-Indic digits, encodes a
    non-ASCII domain to its IDNA (``xn--``) form and casefolds the whole
    address. Casefolding the local part is, strictly, lossy (RFC 5321 lets a
    server distinguish case), but no common provider does, and matching needs
    one form per mailbox.

    Args:
        raw: the address as typed.

    Returns:
        The address, e.g. ``"ali.karimi@example.ir"``.

    Raises:
        InvalidValue: the value is not a usable e-mail address.
    """
    text = to_ascii_digits(raw).translate(_INVISIBLE).strip()
    if _MAILTO.match(text):
        text = text[len("mailto:"):].split("?", 1)[0]
    if angle := _ANGLE.fullmatch(text):
        text = angle.group(1)
    text = text.strip()
    if not text:
        raise InvalidValue(f"{raw!r} is empty, not an e-mail address")
    ats = text.count("@")
    if ats != 1:
        problem = "it has no '@'" if ats == 0 else f"it has {ats} '@' signs"
        raise InvalidValue(f"{raw!r} is not an e-mail address: {problem}")
    local, domain = text.split("@")
    local = local.casefold()
    if not local:
        raise InvalidValue(f"{raw!r} is not a valid e-mail address: nothing before '@'")
    if not _LOCAL.fullmatch(local):
        raise InvalidValue(
            f"{raw!r} is not a valid e-mail address: the part before '@' has spaces "
            "or characters an address cannot have"
        )
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidValue(
                f"{raw!r} is not a valid e-mail address: the domain {domain!r} "
                "is not a valid internationalized domain name"
            ) from exc
    domain = domain.casefold()
    if not _DOMAIN.fullmatch(domain):
        problem = (
            "nothing after '@'" if not domain
            else f"the domain {domain!r} has no top-level domain (such as '.ir')"
            if "." not in domain
            else f"the domain {domain!r} is not a valid domain name"
        )
        raise InvalidValue(f"{raw!r} is not a valid e-mail address: {problem}")
    return f"{local}@{domain}"
