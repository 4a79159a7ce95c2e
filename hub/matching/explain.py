"""Why two records match or not, as data: what ``peyvand explain`` and the review queue show.

A Fellegi–Sunter score is the prior log-odds plus one weight (log2 of m/u) per field,
so an explanation is that sum written out, field by field, with the deterministic rules
and vetoes that overrode it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Ref = tuple[str, str]   # (source_system, source_id)


@dataclass(frozen=True, slots=True)
class FieldWeight:
    """One field's comparison: the level reached and its weight in bits.

    Args:
        field: the comparison's name (``given_name``, ``birth_date``...).
        level: the level reached (``exact``, ``jaro-winkler >= 0.92``, ``missing``...).
        weight: log2(m/u) of that level, after term-frequency adjustment; 0 for missing.
        a, b: the values compared, as standardized (empty when missing).
        note: why the weight is not the level's plain one (``common value``...).
    """

    field: str
    level: str
    weight: float
    a: str = ""
    b: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "level": self.level,
                               "weight": round(self.weight, 3), "a": self.a, "b": self.b}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Explanation:
    """The comparison of two records.

    Args:
        prior: log2 odds that two records sharing a blocking key are one person.
        fields: every comparison, in the model's order.
        rules: deterministic rules and vetoes that decided over the score.
        score: prior + the field weights (bits); ``probability`` is its logistic.
        decision: ``match``, ``review`` or ``no match``.
        thresholds: (match, review) as probabilities, as config gives them.
    """

    a: Ref
    b: Ref
    prior: float
    fields: list[FieldWeight]
    score: float
    probability: float
    decision: str
    thresholds: tuple[float, float]
    rules: list[str] = field(default_factory=list)
    model: str = ""   # the model file and its version

    def to_json(self) -> dict[str, Any]:
        return {"a": {"system": self.a[0], "id": self.a[1]},
                "b": {"system": self.b[0], "id": self.b[1]},
                "prior": round(self.prior, 3), "score": round(self.score, 3),
                "probability": round(self.probability, 6), "decision": self.decision,
                "thresholds": {"match": self.thresholds[0], "review": self.thresholds[1]},
                "rules": list(self.rules), "model": self.model,
                "fields": [f.to_json() for f in self.fields]}
