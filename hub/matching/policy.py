"""The merge policy: which matches may join or merge masters, whatever the rules say.

Today one veto: a master never gathers two national codes. A family may share an
e-mail or a mobile, never a national code, so a record whose code differs from a
master's does not join it, and two masters with different codes are not merged through
a third record (it joins the older one; a review queue will decide such cases later).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.matching.profile import Profile


def national_codes(members: Iterable[Profile]) -> set[str]:
    return {p.national_code for p in members if p.national_code}


@dataclass(frozen=True, slots=True)
class NationalCodeVeto:
    """Two different valid national codes are two people."""

    def allows_join(self, record: Profile, members: Iterable[Profile]) -> bool:
        codes = national_codes(members)
        return not (record.national_code and codes and record.national_code not in codes)

    def allows_merge(self, codes: set[str], other: Iterable[Profile]) -> bool:
        """Whether a master holding ``codes`` may absorb the master of ``other``."""
        other_codes = national_codes(other)
        return not (codes and other_codes and codes.isdisjoint(other_codes))
