"""The part of a canonical record that matching looks at, computed once per record.

A profile is stored beside its source record (``source_records.profile``), so finding
candidates reads small profiles instead of decoding whole canonical records. It carries
``VERSION``: a profile written by another version is recomputed from the record.

Blocking keys come from the profile. Strong keys identify a person by themselves
(national code, e-mail, mobile, a personal document's number); the others only propose
candidates that the comparisons then weigh: the birth date, the postal code, and the
name's consonant skeleton (the same for محمد and Mohammad) with the birth year or with
the postal code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from hub.records import CanonicalRecord
from hub.standardize.persian_text import text_key
from hub.standardize.person_names import compact_key, name_key, skeleton

VERSION = 3
# Blocking key kinds as config names them (matching.blocking) and their prefixes.
KEY_KINDS = {"national_code": "nc:", "email": "em:", "mobile": "mo:", "document": "id:",
             "birth_date": "bd:", "postal_code": "pc:", "name_birth_year": "sy:",
             "name_postal_code": "sp:", "name_landline": "sl:"}
# Identifiers that name a person anywhere; a customer number only within its system.
PERSONAL_SCHEMES = ("passport", "tax-id", "social-security", "driving-licence")

# Company legal forms are not part of the name that tells two companies apart.
_LEGAL_FORMS = re.compile(
    r"\b(شرکت|سهامی خاص|سهامی عام|سهامی|مسئولیت محدود|مسیولیت محدود|تعاونی|گروه|"
    r"co|company|ltd|limited|inc|llc|plc|gmbh|corp|corporation|group|pjs|pjsc)\b\.?")

# Street words written in full or abbreviated (PERSIAN.md): folded to one form so that
# token overlap sees خ. ولیعصر and خیابان ولیعصر as the same street.
_STREET_WORDS = {"خ": "خیابان", "خیابان": "خیابان", "ک": "کوچه", "کوچه": "کوچه",
                 "پ": "پلاک", "پلاک": "پلاک", "ب": "بلوار", "بلوار": "بلوار",
                 "م": "میدان", "میدان": "میدان", "ط": "طبقه", "طبقه": "طبقه",
                 "st": "street", "str": "street", "street": "street", "rd": "road",
                 "road": "road", "ave": "avenue", "av": "avenue", "avenue": "avenue",
                 "pl": "place", "place": "place", "cres": "crescent", "ct": "court",
                 "dr": "drive", "drive": "drive", "cl": "close", "hwy": "highway",
                 "unit": "unit", "u": "unit", "no": "", "نبش": "نبش", "واحد": "واحد"}
_NON_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True, slots=True)
class Profile:
    """Comparable digest of one source record (every text in its match-key form)."""

    national_code: str | None
    emails: frozenset[str]
    mobiles: frozenset[str]
    birth_date: str | None
    postal_codes: frozenset[str]
    name_key: str        # normalized tokens, for order-insensitive comparison
    name_compact: str    # no spaces or ZWNJ: محمدرضا == محمد رضا
    skeleton: str        # consonant skeleton, the same for Persian and Latin spellings
    identifiers: frozenset[str] = frozenset()   # "passport:X12345678", personal ones only
    given: str = ""      # given name tokens (name_key form), "" when unknown
    family: str = ""
    landlines: frozenset[str] = frozenset()
    street: str = ""     # folded street tokens
    city: str = ""
    province: str = ""
    organization: bool = False
    # all_keys(), made once: the plan, the store and the candidate search each ask
    _keys: tuple[str, ...] | None = field(default=None, init=False, repr=False,
                                          compare=False)

    def exact_keys(self) -> list[str]:
        """Keys that identify a person by themselves (unless national codes conflict)."""
        keys = [f"em:{e}" for e in sorted(self.emails)]
        keys += [f"mo:{m}" for m in sorted(self.mobiles)]
        keys += [f"id:{i}" for i in sorted(self.identifiers)]
        return [f"nc:{self.national_code}", *keys] if self.national_code else keys

    def fuzzy_keys(self) -> list[str]:
        """Keys that only propose a candidate; the comparisons decide. The birth date goes
        with the initial of each name part (swapped names still meet; thousands share a
        birth date in a big store, few share it and an initial)."""
        keys = [f"pc:{p}" for p in sorted(self.postal_codes)]
        names = " ".join(sorted(self.skeleton_tokens()))
        if self.birth_date:
            initials = sorted({t[0] for t in self.skeleton_tokens()}) or [""]
            keys += [f"bd:{self.birth_date}|{i}" for i in initials]
            if names:   # year and month: a typo in the day still meets
                keys.append(f"sy:{names}|{self.birth_date[:7]}")
        if names:
            keys += [f"sp:{names}|{p}" for p in sorted(self.postal_codes)]
            keys += [f"sl:{names}|{t}" for t in sorted(self.landlines)]
        return keys

    def all_keys(self) -> tuple[str, ...]:
        """Every key, as stored (interactions find their customer by em: and mo:)."""
        keys = self._keys
        if keys is None:
            keys = tuple(dict.fromkeys(self.exact_keys() + self.fuzzy_keys()))
            object.__setattr__(self, "_keys", keys)
        return keys

    def lookup_keys(self, prefixes: tuple[str, ...] = ()) -> list[str]:
        """The keys that propose candidates: those of ``prefixes`` (all when empty)."""
        keys = self.all_keys()
        return [k for k in keys if k.startswith(prefixes)] if prefixes else list(keys)

    def skeleton_tokens(self) -> list[str]:
        return [t for t in self.skeleton.split(" ") if t]

    def to_json(self) -> list[Any]:
        """A compact list for the store (``from_json`` reads it back)."""
        return [VERSION, self.national_code, sorted(self.emails), sorted(self.mobiles),
                self.birth_date, sorted(self.postal_codes), self.name_key,
                self.name_compact, self.skeleton, sorted(self.identifiers), self.given,
                self.family, sorted(self.landlines), self.street, self.city,
                self.province, self.organization]

    @classmethod
    def from_json(cls, data: Any) -> Profile | None:
        """The stored profile, or None when it is missing or of another version."""
        if not isinstance(data, list) or not data or data[0] != VERSION:
            return None
        (_, code, emails, mobiles, birth, postal, key, compact, skel, ids, given, family,
         landlines, street, city, province, org) = data
        return cls(code, frozenset(emails), frozenset(mobiles), birth, frozenset(postal),
                   key, compact, skel, frozenset(ids), given, family, frozenset(landlines),
                   street, city, province, org)


@functools.lru_cache(maxsize=65536)
def _name_forms(name: str) -> tuple[str, str, str]:
    # Names repeat across records and batches: fold each distinct one once.
    if not name:
        return "", "", ""
    return name_key(name), compact_key(name), skeleton(name)


@functools.lru_cache(maxsize=65536)
def _key(text: str) -> str:
    return name_key(text) if text else ""


def organization_name(name: str) -> str:
    """A company's name without its legal form: شرکت نوآوران سهامی خاص -> نوآوران."""
    return " ".join(_LEGAL_FORMS.sub(" ", text_key(name)).split())


@functools.lru_cache(maxsize=65536)
def street_key(street: str) -> str:
    """Street tokens with abbreviations folded (خ. -> خیابان), for token overlap."""
    words = (_STREET_WORDS.get(w, w) for w in _NON_WORD.sub(" ", text_key(street)).split())
    return " ".join(w for w in words if w)


def _split_name(record: CanonicalRecord, key: str) -> tuple[str, str]:
    given, family = _key(record.first("name.given") or ""), _key(record.first("name.family")
                                                                   or "")
    if given or family or not key:
        return given, family
    tokens = key.split(" ")
    # A full name alone: the last token is the family name (زاده, پور are glued on).
    return (" ".join(tokens[:-1]), tokens[-1]) if len(tokens) > 1 else (tokens[0], "")


def profile_of(record: CanonicalRecord) -> Profile:
    organization = record.first("kind") == "organization"
    name = record.display_name()
    if organization:
        name = organization_name(name)
    key, compact, skel = _name_forms(name)
    given, family = ("", "") if organization else _split_name(record, key)
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
        given=given,
        family=family,
        landlines=frozenset(v for path in ("phones.phone:landline", "phones.phone:work",
                                           "phones.phone:fax")
                            for v in record.values(path)),
        street=street_key(record.first("addresses.address.street") or ""),
        city=_key(record.first("addresses.address.city") or ""),
        province=_key(record.first("addresses.address.province") or ""),
        organization=organization,
    )
