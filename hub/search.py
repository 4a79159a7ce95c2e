"""Search: by a key that identifies (an e-mail, a phone in any form, a national code, a
source record's ``system/id``), else by name across spellings and scripts.

Keys are looked up among the indexed blocking keys matching keeps (``em:``, ``mo:``,
``nc:``), so a phone typed ``0912 123 4567`` or ``+98 912…`` finds the same customer.

A master's ``search_text`` is ``| term | term |``: each name it is known by as folded
text (``text_key``), compacted (no spaces or ZWNJ), and as ``~skeleton`` terms (whole
name and each word), so ``Hosseinzadeh`` finds حسین‌زاده, حسین زاده and حسینزاده alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from hub.errors import InvalidValue
from hub.records import CanonicalRecord
from hub.standardize.emails import standardize_email
from hub.standardize.national_codes import standardize_national_code
from hub.standardize.persian_text import text_key, to_ascii_digits
from hub.standardize.person_names import compact_key, skeleton
from hub.standardize.phones import standardize_phone

NAME_PATHS = ("name.full", "name.given", "name.family", "organization.name")


def search_text(records: Iterable[CanonicalRecord]) -> str:
    """The stored search terms of a customer known through ``records``."""
    terms: list[str] = []
    for rec in records:
        names = [n for path in NAME_PATHS for n in rec.values(path)]
        names.append(" ".join(rec.values("name.given") + rec.values("name.family")))
        for name in filter(None, names):
            terms += _name_terms(name)
    unique = dict.fromkeys(t for t in terms if t.strip("~"))
    return "| " + " | ".join(unique) + " |" if unique else ""


def query_keys(text: str) -> list[str]:
    """The blocking keys ``text`` stands for, when it is an e-mail, a national code or a
    phone number (none for a name)."""
    text = text.strip()
    if "@" in text:
        return _key("em:", standardize_email, text)
    digits = to_ascii_digits(text)
    if not digits or not any(c.isdigit() for c in digits) or any(c.isalpha() for c in digits):
        return []
    keys = _key("nc:", standardize_national_code, text) if digits.isdigit() else []
    try:
        e164, _kind = standardize_phone(text)
    except InvalidValue:
        return keys
    return [*keys, f"mo:{e164}"]


def _key(prefix: str, standardize: Callable[[str], str], text: str) -> list[str]:
    try:
        return [prefix + standardize(text)]
    except InvalidValue:
        return []


def query_patterns(text: str) -> list[str]:
    """LIKE patterns (``\\`` escapes) that find ``text`` among stored search terms.

    Folded and compacted forms match anywhere; a consonant skeleton only as a whole term
    (KRM finds کریمی, not کرمانی), and only from two consonants on.
    """
    patterns = [f"%{_escape(t)}%" for t in dict.fromkeys((text_key(text), compact_key(text)))
                if t]
    skel = skeleton(text).replace(" ", "")
    if len(skel) >= 2:
        patterns.append(f"%| ~{_escape(skel)} |%")
    return patterns


@functools.lru_cache(maxsize=65536)
def _name_terms(name: str) -> tuple[str, ...]:
    # A master's golden record is rebuilt often; its names rarely change.
    skel = skeleton(name)
    return (text_key(name), compact_key(name), "~" + skel.replace(" ", ""),
            *("~" + word for word in skel.split()))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
