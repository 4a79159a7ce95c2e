"""The part of a canonical record that matching looks at, computed once per record.

A profile is stored beside its source record (``source_records.profile``), so finding
candidates reads small profiles instead of decoding whole canonical records. It carries
``VERSION``: a profile written by another version is recomputed from the record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from hub.records import CanonicalRecord
from hub.standardize.person_names import compact_key, name_key, skeleton

VERSION = 2
# Identifiers that name a person anywhere; a customer number only within its system.
PERSONAL_SCHEMES = ("passport", "tax-id", "social-security", "driving-licence")


@dataclass(frozen=True, slots=True)
class Profile:
    """Comparable digest of one source record."""

    national_code: str | None
    emails: frozenset[str]
    mobiles: frozenset[str]
    birth_date: str | None
    postal_codes: frozenset[str]
    name_key: str        # normalized tokens, for order-insensitive comparison
    name_compact: str    # no spaces or ZWNJ: محمدرضا == محمد رضا
    skeleton: str        # consonant skeleton, the same for Persian and Latin spellings
    identifiers: frozenset[str] = frozenset()   # "passport:X12345678", personal ones only

    def exact_keys(self) -> list[str]:
        """Keys that identify a person by themselves (unless national codes conflict)."""
        keys = [f"em:{e}" for e in sorted(self.emails)]
        keys += [f"mo:{m}" for m in sorted(self.mobiles)]
        keys += [f"id:{i}" for i in sorted(self.identifiers)]
        return [f"nc:{self.national_code}", *keys] if self.national_code else keys

    def fuzzy_keys(self) -> list[str]:
        """Keys that only propose a candidate; the names must agree as well."""
        keys = [f"pc:{p}" for p in sorted(self.postal_codes)]
        return [f"bd:{self.birth_date}", *keys] if self.birth_date else keys

    def all_keys(self) -> list[str]:
        return self.exact_keys() + self.fuzzy_keys()

    def to_json(self) -> list[Any]:
        """A compact list for the store (``from_json`` reads it back)."""
        return [VERSION, self.national_code, sorted(self.emails), sorted(self.mobiles),
                self.birth_date, sorted(self.postal_codes), self.name_key,
                self.name_compact, self.skeleton, sorted(self.identifiers)]

    @classmethod
    def from_json(cls, data: Any) -> Profile | None:
        """The stored profile, or None when it is missing or of another version."""
        if not isinstance(data, list) or not data or data[0] != VERSION:
            return None
        _, code, emails, mobiles, birth, postal, key, compact, skel, ids = data
        return cls(code, frozenset(emails), frozenset(mobiles), birth, frozenset(postal),
                   key, compact, skel, frozenset(ids))


@functools.lru_cache(maxsize=65536)
def _name_forms(name: str) -> tuple[str, str, str]:
    # Names repeat across records and batches: fold each distinct one once.
    if not name:
        return "", "", ""
    return name_key(name), compact_key(name), skeleton(name).replace(" ", "")


def profile_of(record: CanonicalRecord) -> Profile:
    key, compact, skel = _name_forms(record.display_name())
    return Profile(
        national_code=record.first("nationalCode"),
        emails=frozenset(record.values("emails.email")),
        mobiles=frozenset(record.values("phones.phone:mobile")),
        birth_date=record.first("birthDate"),
        postal_codes=frozenset(record.values("addresses.address.postalCode")),
        name_key=key,
        name_compact=compact,
        skeleton=skel,
        # Compared by letters and digits only: X-1234 and X1234 are one passport number.
        identifiers=frozenset(f"{scheme}:{''.join(c for c in value if c.isalnum())}"
                              for scheme in PERSONAL_SCHEMES
                              for value in record.values(f"identifiers.identifier:{scheme}")),
    )
