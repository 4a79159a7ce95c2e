"""The probabilistic matcher: Fellegi–Sunter weights, with rules and vetoes on top.

``score`` adds the model's weights for every comparison (``hub.matching.compare``) to
the prior. Three things override the sum, each named in the explanation:

* two different national codes are two people (a veto: never a match);
* what a household shares (e-mail, mobile, landline, postal code, street) is evidence
  only when the given names agree: when both records give a given name and they differ,
  agreement there weighs nothing (a household shares a landline and an address, often a
  mobile; a namesake shares nothing);
* the same national code with names that do not contradict it is a match, whatever
  else differs (the code is checksummed; a typo makes it invalid, not another person's).

Scores are in bits; the thresholds come from config as probabilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hub.matching.compare import COMPARISONS, GIVEN, INDEX, MISSING, compare, values
from hub.matching.evidence import Evidence
from hub.matching.explain import Explanation, FieldWeight
from hub.matching.model import TF_FIELDS, Model
from hub.matching.profile import Profile

VETO = -math.inf
_NATIONAL = INDEX["national_code"]
_FAMILY = INDEX["family_name"]
_BIRTH = INDEX["birth_date"]
_TF_EXACT = {INDEX[name] for name in TF_FIELDS}


def bits(probability: float) -> float:
    return math.log2(probability / (1 - probability))


@dataclass(frozen=True, slots=True)
class Scored:
    """A pair's score (bits, ``VETO`` for never) with its levels and the rule applied."""

    score: float
    levels: tuple[int, ...]
    swapped: bool
    rule: str = ""


class ProbabilisticMatcher:
    """Scores pairs with ``model``; a pair at or above ``match`` bits is a match, one at
    or above ``review`` bits goes to a person."""

    def __init__(self, model: Model, match_probability: float = 0.99,
                 review_probability: float = 0.8, *, off: frozenset[str] = frozenset()
                 ) -> None:
        self.model = model
        self.off = frozenset(INDEX[name] for name in off)   # comparisons not used
        self.match, self.review = bits(match_probability), bits(review_probability)
        self.thresholds = (match_probability, review_probability)

    def score(self, a: Profile, b: Profile) -> Scored:
        if a.national_code and b.national_code and a.national_code != b.national_code:
            return Scored(VETO, (), False, "different national codes")
        levels, swapped = compare(a, b)
        if self.off:
            levels = tuple(MISSING if i in self.off else lvl for i, lvl in enumerate(levels))
        total = self.model.prior_bits + sum(w for w, _ in self.weights(a, b, levels))
        if levels[_NATIONAL] == 1 and not self._names_contradict(levels):
            return Scored(max(total, self.match), levels, swapped, "same national code")
        return Scored(total, levels, swapped)

    def weights(self, a: Profile, b: Profile, levels: tuple[int, ...]
                ) -> list[tuple[float, str]]:
        """Each comparison's weight and why it is not the level's plain one."""
        gated = is_gated(levels)
        out = []
        for i, level in enumerate(levels):
            if level == MISSING:
                out.append((0.0, ""))
                continue
            value = _exact_value(a, b, i) if level == 1 and i in _TF_EXACT else None
            weight, note = self.model.weight(i, level, value)
            if gated and COMPARISONS[i].shared and weight > 0:
                weight, note = 0.0, "a household shares this, and the given names differ"
            out.append((weight, note))
        return out

    @staticmethod
    def _names_contradict(levels: tuple[int, ...]) -> bool:
        different = COMPARISONS[GIVEN].different
        return levels[GIVEN] == different and levels[_FAMILY] == different

    def compare(self, a: Profile, b: Profile) -> Evidence | None:
        """The matcher contract of 2/8: evidence when ``a`` and ``b`` match, else None."""
        scored = self.score(a, b)
        return self.evidence(scored) if scored.score >= self.match else None

    def evidence(self, scored: Scored, record: tuple[str, str] | None = None) -> Evidence:
        levels = {COMPARISONS[i].name: COMPARISONS[i].levels[lvl]
                  for i, lvl in enumerate(scored.levels) if lvl != MISSING}
        rule = scored.rule or "probabilistic"
        return Evidence(rule, levels, round(scored.score, 3), record)

    def explain(self, a: Profile, b: Profile, ref_a: tuple[str, str],
                ref_b: tuple[str, str]) -> Explanation:
        scored = self.score(a, b)
        levels, swapped = (scored.levels, scored.swapped) if scored.levels else compare(a, b)
        rows = []
        for i, (level, (weight, note)) in enumerate(zip(levels, self.weights(a, b, levels),
                                                        strict=True)):
            comp = COMPARISONS[i]
            b_value = values(b, i)
            if swapped and i in (GIVEN, _FAMILY):
                b_value = values(b, _FAMILY if i == GIVEN else GIVEN)
                note = note or "names read swapped"
            rows.append(FieldWeight(comp.name, comp.levels[level], weight, values(a, i),
                                    b_value, note))
        score = scored.score
        probability = 0.0 if score == VETO else 1 / (1 + 2 ** -score)
        decision = ("match" if score >= self.match else
                    "review" if score >= self.review else "no match")
        return Explanation(ref_a, ref_b, self.model.prior_bits, rows, score, probability,
                           decision, self.thresholds, [scored.rule] if scored.rule else [],
                           f"{self.model.source} (version {self.model.version})")


def is_gated(levels: tuple[int, ...]) -> bool:
    """Whether what a household shares must not count: the given names differ, and no
    birth date says it is one person after all (a typo or a nickname)."""
    return levels[GIVEN] == COMPARISONS[GIVEN].different and levels[_BIRTH] != 1


def _exact_value(a: Profile, b: Profile, index: int) -> str | None:
    """The value two records share exactly, for its term frequency."""
    name = COMPARISONS[index].name
    if name == "given_name":
        return a.given
    if name == "family_name":
        return a.family
    pool = {"email": (a.emails, b.emails), "mobile": (a.mobiles, b.mobiles),
            "landline": (a.landlines, b.landlines)}[name]
    shared = pool[0] & pool[1]
    return min(shared) if shared else None
