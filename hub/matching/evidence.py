"""Why two records were judged the same customer: kept with every matching decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """The reason for a link, as data.

    Args:
        rule: the rule that fired, as a phrase (``same mobile``).
        levels: the comparison level reached per field (``{"name": "fuzzy"}``).
        score: a match weight, for scoring matchers (None for rules).
        record: the linked record it was compared with, ``(source_system, source_id)``.
    """

    rule: str
    levels: Mapping[str, str] = field(default_factory=dict)
    score: float | None = None
    record: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule}
        if self.levels:
            out["levels"] = dict(self.levels)
        if self.score is not None:
            out["score"] = self.score
        if self.record is not None:
            out["record"] = {"system": self.record[0], "id": self.record[1]}
        return out
