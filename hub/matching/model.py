"""The Fellegi–Sunter model: a weight for every comparison level, learned from the data.

For each comparison (``hub.matching.compare.COMPARISONS``) and level, ``m`` is the
share of true pairs that reach the level and ``u`` the share of other candidate pairs
that do; the level's weight is log2(m/u) bits, a missing value weighs nothing, and a
pair's score is the prior log-odds plus its weights. ``peyvand train`` estimates m, u and
the prior by EM (``hub.matching.train``) and saves them as versioned JSON beside the
config; until then the default model below holds (weights chosen by hand for Iranian
customer data: a shared mobile is strong, a shared landline weak).

Term frequencies: an exact match on a common value is weaker evidence than on a rare one
(two محمدی, or two records giving a company's switchboard). The model keeps the share of
records holding each value seen at least three times in training, hashed (the file holds
no names or numbers), and the chance that two records share any value of the field; an
exact match on a value scales u by the value's share over that chance (bounded), so a
common value weighs less and a rare one more than the level's average.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ConfigError
from hub.matching.compare import COMPARISONS, MISSING

FORMAT = "peyvand-fellegi-sunter"
TF_FIELDS = ("given_name", "family_name", "email", "mobile", "landline")

# Default m and u per level, "missing" left out (it weighs nothing), in COMPARISONS order.
# u is the chance that two records of different people, drawn at random, reach the
# level; the prior is the chance that two random records are one person, for a store of
# about ten thousand customer records (train the model for a bigger one).
_DEFAULT: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "given_name": ((.74, .06, .05, .10, .05), (.03, .01, .04, .005, .915)),
    "family_name": ((.76, .06, .04, .10, .04), (.01, .005, .02, .003, .962)),
    "birth_date": ((.85, .08, .04, .03), (5e-5, 5e-4, .02, .97945)),
    "national_code": ((.97, .02, .01), (1e-9, 1e-8, .99999999)),
    "identifier": ((.90, .07, .03), (1e-8, 1e-7, .99999989)),
    "email": ((.75, .05, .20), (5e-8, 1e-6, .99999895)),
    "mobile": ((.75, .03, .22), (5e-8, 1e-6, .99999895)),
    "landline": ((.70, .30), (1e-5, .99999)),
    "postal_code": ((.80, .05, .15), (1e-5, 1e-4, .99989)),
    "street": ((.70, .15, .15), (1e-4, .01, .9899)),
    "city": ((.88, .06, .06), (.10, .02, .88)),
    "province": ((.95, .05), (.30, .70)),
}
_DEFAULT_PRIOR = 1e-4   # two random records of a 10k store: about one pair in 10,000


def value_hash(value: str) -> str:
    """How the model file names a value it keeps a frequency for."""
    return hashlib.blake2b(value.encode(), digest_size=6).hexdigest()


@dataclass
class Model:
    """m and u per comparison level (index 0, missing, is unused), the prior, term
    frequencies. ``version`` counts trainings; ``source`` is the file it came from."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float = _DEFAULT_PRIOR
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    tf_sum_squares: dict[str, float] = field(default_factory=dict)
    version: int = 0
    trained: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in default"
    weights: list[list[float]] = field(init=False, default_factory=list)
    prior_bits: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.weights = [[0.0] + [math.log2(mi / ui) for mi, ui in zip(m[1:], u[1:],
                                                                       strict=True)]
                        for m, u in zip(self.m, self.u, strict=True)]
        self.prior_bits = math.log2(self.prior / (1 - self.prior))

    @classmethod
    def default(cls) -> Model:
        m = [[0.0, *_DEFAULT[c.name][0]] for c in COMPARISONS]
        u = [[0.0, *_DEFAULT[c.name][1]] for c in COMPARISONS]
        return cls(m, u)

    def weight(self, index: int, level: int, value: str | None = None) -> tuple[float, str]:
        """The weight of ``level`` of comparison ``index``, term-frequency adjusted for an
        exact match on ``value``; and a note when adjusted."""
        if level == MISSING:
            return 0.0, ""
        name = COMPARISONS[index].name
        chance = self.tf_sum_squares.get(name)
        if level == 1 and value is not None and chance:
            share = self.tf[name].get(value_hash(value))
            # A value seen fewer than three times: as rare as the rarest kept.
            factor = (share if share is not None else self._rarest(name)) / chance
            factor = min(max(factor, 1 / 16), 256.0)
            u = min(self.u[index][1] * factor, 0.999)
            note = "common value" if factor > 1 else "rare value"
            return math.log2(self.m[index][1] / u), note
        return self.weights[index][level], ""

    def _rarest(self, name: str) -> float:
        kept = self.tf.get(name)
        return min(kept.values()) if kept else self.tf_sum_squares[name]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": self.version, "trained": self.trained,
            "prior": self.prior,
            "comparisons": [
                {"name": c.name, "levels": [
                    {"level": label, "m": round(self.m[i][j], 8), "u": round(self.u[i][j], 10),
                     "weight": round(self.weights[i][j], 3)}
                    for j, label in enumerate(c.levels) if j != MISSING]}
                for i, c in enumerate(COMPARISONS)],
            "term_frequencies": {name: {"sum_of_squares": self.tf_sum_squares.get(name),
                                        "values": values}
                                 for name, values in self.tf.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str) -> Model:
        if data.get("format") != FORMAT:
            raise ConfigError(source, [f"not a Peyvand matching model (no \"format\": "
                                       f"\"{FORMAT}\"); train one with peyvand train"])
        by_name = {c["name"]: c for c in data["comparisons"]}
        m, u = [], []
        for comp in COMPARISONS:
            stored = by_name.get(comp.name)
            labels = [lvl["level"] for lvl in stored["levels"]] if stored else []
            if stored is None or labels != list(comp.levels[1:]):
                raise ConfigError(source, [f"{comp.name}: trained with other levels "
                                           f"({labels}); train the model again with "
                                           "peyvand train"])
            m.append([0.0, *(float(lvl["m"]) for lvl in stored["levels"])])
            u.append([0.0, *(float(lvl["u"]) for lvl in stored["levels"])])
        tf = {name: dict(t["values"]) for name, t in data.get("term_frequencies", {}).items()}
        floors = {name: float(t["sum_of_squares"])
                  for name, t in data.get("term_frequencies", {}).items()
                  if t.get("sum_of_squares")}
        return cls(m, u, float(data["prior"]), tf, floors, int(data.get("version", 0)),
                   dict(data.get("trained", {})), source)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        tmp.replace(path)   # a crash never leaves half a model


def load_model(path: Path | None) -> Model:
    """The model at ``path``; the built-in default when there is none yet."""
    if path is None or not path.exists():
        return Model.default()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), [f"cannot read the matching model: {exc}"]) from exc
    return Model.from_json(data, str(path))


def smoothed(counts: Sequence[float]) -> list[float]:
    """Shares from counts, with a little added so that no level is impossible."""
    total = sum(counts) + 0.01 * len(counts)
    return [(c + 0.01) / total for c in counts]
