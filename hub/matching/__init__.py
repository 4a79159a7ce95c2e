"""Matching: blocking keys find candidates, comparisons decide who is the same customer.

``plan_batch`` is the whole decision, as a pure function over a batch and its
candidates; the store (``hub.store.master``) reads the candidates and applies the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hub.matching.evidence import Evidence
from hub.matching.plan import (
    Candidates,
    Decision,
    DecisionKind,
    Incoming,
    Member,
    Merge,
    Plan,
    plan_batch,
)
from hub.matching.policy import NationalCodeVeto
from hub.matching.profile import Profile, profile_of
from hub.matching.rules import RuleMatcher

__all__ = ["Candidates", "Decision", "DecisionKind", "Evidence", "Incoming", "MatchSettings",
           "Member", "Merge", "NationalCodeVeto", "Plan", "Profile", "RuleMatcher",
           "plan_batch", "profile_of"]


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """``matching:`` in config.yaml.

    Args:
        name_threshold: names agree when their compacted forms score at least this
            (rapidfuzz ratio, 50-100).
        min_skeleton: the shortest consonant skeleton that links names across scripts.
    """

    section: ClassVar[str] = "matching"
    name_threshold: float = 88.0
    min_skeleton: int = 4

    def problems(self) -> list[str]:
        out = []
        if not 50 <= self.name_threshold <= 100:
            out.append("matching.name_threshold: must be between 50 and 100")
        if self.min_skeleton < 2:
            out.append("matching.min_skeleton: must be 2 or more")
        return out

    def matcher(self) -> RuleMatcher:
        return RuleMatcher(self.name_threshold, self.min_skeleton)
