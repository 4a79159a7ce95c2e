"""Matching: blocking keys find candidates, a Fellegi–Sunter model decides who is who.

``plan_batch`` is the whole decision, as a pure function over a batch and its
candidates; the store (``hub.store.master``) reads the candidates and applies the plan.
``ProbabilisticMatcher`` scores pairs with the model of ``hub.matching.model``, which
``peyvand train`` (``hub.matching.train``) estimates from the store's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from hub.matching.compare import COMPARISONS, INDEX
from hub.matching.evidence import Evidence
from hub.matching.model import Model, load_model
from hub.matching.plan import (
    Candidates,
    Decision,
    DecisionKind,
    Incoming,
    Member,
    Merge,
    Plan,
    Review,
    plan_batch,
)
from hub.matching.profile import KEY_KINDS, Profile, profile_of
from hub.matching.scoring import ProbabilisticMatcher

__all__ = ["Candidates", "Decision", "DecisionKind", "Evidence", "Incoming", "MatchSettings",
           "Member", "Merge", "Model", "Plan", "ProbabilisticMatcher", "Profile", "Review",
           "load_model", "plan_batch", "profile_of"]


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """``matching:`` in config.yaml.

    Args:
        model: the trained model (``peyvand train`` writes it), relative to the config
            file; the built-in default model holds until it exists.
        match_probability: a pair at or above this probability is one customer.
        review_probability: a pair at or above this (and below the match threshold)
            goes to the review queue (``peyvand review``).
        max_key_records: a blocking key shared by more records than this (a company
            switchboard, a very common name with a common birth year) stops proposing
            candidates, so finding them costs the same whatever the size of the store.
        contradiction: bits at or below which a pair of records contradicts a merge of
            their clusters (a weak link does not merge two clusters that disagree).
        comparisons: the comparisons to use (``hub.matching.compare.COMPARISONS``
            names); all when empty.
        blocking: the blocking key kinds that find candidates (``KEY_KINDS``); all when
            empty. Every key is stored whatever this says, so changing it needs no
            re-keying.
    """

    section: ClassVar[str] = "matching"
    model: str = "matching-model.json"
    match_probability: float = 0.99
    review_probability: float = 0.8
    max_key_records: int = 50
    contradiction: float = -30.0
    comparisons: tuple[str, ...] = ()
    blocking: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        out = [f"matching.comparisons: no comparison {name!r}; there are "
               f"{', '.join(c.name for c in COMPARISONS)}"
               for name in self.comparisons if name not in INDEX]
        out += [f"matching.blocking: no key kind {name!r}; there are {', '.join(KEY_KINDS)}"
                for name in self.blocking if name not in KEY_KINDS]
        if not 0.5 <= self.match_probability < 1:
            out.append("matching.match_probability: must be at least 0.5 and below 1")
        if not 0 < self.review_probability <= self.match_probability:
            out.append("matching.review_probability: must be above 0 and at most "
                       "matching.match_probability")
        if self.max_key_records < 2:
            out.append("matching.max_key_records: must be 2 or more")
        return out

    def model_path(self, config_dir: Path) -> Path:
        return config_dir / self.model

    def matcher(self, config_dir: Path | None = None) -> ProbabilisticMatcher:
        path = self.model_path(config_dir) if config_dir is not None else None
        off = frozenset(c.name for c in COMPARISONS) - set(self.comparisons) \
            if self.comparisons else frozenset()
        return ProbabilisticMatcher(load_model(path), self.match_probability,
                                    self.review_probability, off=off)

    def key_prefixes(self) -> tuple[str, ...]:
        return tuple(KEY_KINDS[k] for k in self.blocking if k in KEY_KINDS)
