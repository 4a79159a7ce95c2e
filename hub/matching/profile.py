"""The part of a canonical record that matching looks at, computed once per record."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hub.records import CanonicalRecord
from hub.standardize.person_names import compact_key, name_key, skeleton


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

    def exact_keys(self) -> list[str]:
        """Keys that identify a person by themselves (unless national codes conflict)."""
        keys = [f"em:{e}" for e in sorted(self.emails)]
        keys += [f"mo:{m}" for m in sorted(self.mobiles)]
        return [f"nc:{self.national_code}", *keys] if self.national_code else keys

    def fuzzy_keys(self) -> list[str]:
        """Keys that only propose a candidate; the names must agree as well."""
        keys = [f"pc:{p}" for p in sorted(self.postal_codes)]
        return [f"bd:{self.birth_date}", *keys] if self.birth_date else keys

    def all_keys(self) -> list[str]:
        return self.exact_keys() + self.fuzzy_keys()


def display_name(record: CanonicalRecord) -> str:
    """The person's or organization's name as one string ('' when there is none)."""
    full = record.first("name.full")
    if full:
        return full
    parts = [record.first("name.given"), record.first("name.family")]
    joined = " ".join(p for p in parts if p)
    return joined or record.first("organization.name") or ""


@functools.lru_cache(maxsize=65536)
def _name_forms(name: str) -> tuple[str, str, str]:
    # Names repeat across records and batches: fold each distinct one once.
    if not name:
        return "", "", ""
    return name_key(name), compact_key(name), skeleton(name).replace(" ", "")


def profile_of(record: CanonicalRecord) -> Profile:
    key, compact, skel = _name_forms(display_name(record))
    return Profile(
        national_code=record.first("nationalCode"),
        emails=frozenset(record.values("emails.email")),
        mobiles=frozenset(record.values("phones.phone:mobile")),
        birth_date=record.first("birthDate"),
        postal_codes=frozenset(record.values("addresses.address.postalCode")),
        name_key=key,
        name_compact=compact,
        skeleton=skel,
    )
