"""Matching rules v1: exact identifiers, or agreeing names plus a second field.

Two records are the same customer when
  * they share a national code, an e-mail, a mobile or a personal document's number
    (passport, tax id, social security, driving licence); or
  * their names agree (fuzzy, across scripts) and they share the birth date or a
    postal code.
Whether a shared e-mail or mobile may join two people with different national codes is
not the rules' call but the merge policy's (``hub.matching.policy``).
Probabilistic scoring with learned weights replaces the second rule in a later release.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from hub.matching.evidence import Evidence
from hub.matching.profile import Profile


@dataclass(frozen=True, slots=True)
class RuleMatcher:
    """The v1 rules with their tunable parts (config.yaml ``matching:``).

    Args:
        name_threshold: rapidfuzz ratio (0-100) on compacted names for names to agree.
        min_skeleton: shorter consonant skeletons collide too often to count.
    """

    name_threshold: float = 88.0
    min_skeleton: int = 4

    def compare(self, a: Profile, b: Profile) -> Evidence | None:
        """Why ``a`` and ``b`` are the same customer, or None when they are not."""
        if a.national_code and a.national_code == b.national_code:
            return Evidence("same national code")
        if a.emails & b.emails:
            return Evidence("same e-mail")
        if a.mobiles & b.mobiles:
            return Evidence("same mobile")
        if shared := a.identifiers & b.identifiers:
            return Evidence(f"same {min(shared).partition(':')[0]}")
        same_birth = bool(a.birth_date) and a.birth_date == b.birth_date
        if not (same_birth or a.postal_codes & b.postal_codes):
            return None
        names = self.names_agree(a, b)
        if names is None:
            return None
        second = "birth date" if same_birth else "postal code"
        return Evidence(f"names agree, same {second}", levels={"name": names,
                                                                second: "exact"})

    def names_agree(self, a: Profile, b: Profile) -> str | None:
        """How the names agree (a comparison level), or None when they do not."""
        if not a.name_compact or not b.name_compact:
            return None
        if a.name_compact == b.name_compact:
            return "exact"
        if (fuzz.ratio(a.name_compact, b.name_compact) >= self.name_threshold
                or fuzz.token_sort_ratio(a.name_key, b.name_key) >= self.name_threshold):
            return "fuzzy"
        # Cross-script: علی کریمی and Ali Karimi share the skeleton LKRM.
        if len(a.skeleton) >= self.min_skeleton and a.skeleton == b.skeleton:
            return "skeleton"
        return None
