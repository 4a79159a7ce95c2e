"""Matching rules v1: exact identifiers, or agreeing names plus a second field.

Two records are the same customer when
  * they share a national code, an e-mail or a mobile, and their national codes do not
    conflict (a family may share an e-mail or a mobile, never a national code); or
  * their names agree (fuzzy, across scripts) and they share the birth date or a
    postal code.
A master never gathers two national codes: a record whose code differs from a master's
does not join it, and two masters with different codes are not merged through a third
record (it joins the older one; deciding such cases is the review queue's job, later).
Probabilistic scoring with learned weights replaces the second rule in a later release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from hub.matching.profile import Profile


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Tunable parts of the rules (config.yaml ``matching:``)."""

    name_threshold: float = 88.0   # rapidfuzz ratio, 0-100, on compacted names
    min_skeleton: int = 4          # shorter skeletons collide too often to count


def conflict(a: Profile, b: Profile) -> bool:
    return bool(a.national_code and b.national_code and a.national_code != b.national_code)


def names_agree(a: Profile, b: Profile, rules: MatchRules) -> bool:
    if not a.name_compact or not b.name_compact:
        return False
    if a.name_compact == b.name_compact:
        return True
    if (fuzz.ratio(a.name_compact, b.name_compact) >= rules.name_threshold
            or fuzz.token_sort_ratio(a.name_key, b.name_key) >= rules.name_threshold):
        return True
    # Cross-script: علی کریمی and Ali Karimi share the skeleton LKRM.
    return len(a.skeleton) >= rules.min_skeleton and a.skeleton == b.skeleton


def same_customer(a: Profile, b: Profile, rules: MatchRules) -> str | None:
    """Why ``a`` and ``b`` are the same customer, or None when they are not."""
    if conflict(a, b):
        return None
    if a.national_code and a.national_code == b.national_code:
        return "same national code"
    if a.emails & b.emails:
        return "same e-mail"
    if a.mobiles & b.mobiles:
        return "same mobile"
    shares = (a.birth_date and a.birth_date == b.birth_date) or (a.postal_codes & b.postal_codes)
    if shares and names_agree(a, b, rules):
        return "names agree, same " + ("birth date" if a.birth_date == b.birth_date
                                       else "postal code")
    return None


def national_codes(members: Iterable[Profile]) -> set[str]:
    return {p.national_code for p in members if p.national_code}


def joins(profile: Profile, members: Sequence[Profile], rules: MatchRules) -> bool:
    """Whether a record joins a master: it is the same customer as one of the master's
    records, and its national code conflicts with none of them."""
    codes = national_codes(members)
    if profile.national_code and codes and profile.national_code not in codes:
        return False
    return any(same_customer(profile, p, rules) for p in members)
