"""Estimating the model from the data, in three steps (the way Splink does it).

* u, the chance that two different people reach a level, from pairs of records drawn at
  random: nearly all of them are two people, whatever the data.
* m, the chance that two records of one person reach a level, by expectation–
  maximisation with u held fixed, in two sessions: over the pairs sharing a strong key
  (national code, e-mail, mobile, document) for the comparisons other than those keys,
  and over the pairs sharing a name-and-birth key for the others. A comparison is never
  estimated over pairs chosen because they agree on it: blocking brings namesakes
  together, and EM would learn that agreeing names are how two people look alike.
* the prior, the chance that two random records are one person, from pairs that strong
  identifiers link (a national code, a personal document, an e-mail with agreeing given
  names, or full name and birth date), over all pairs, allowing for the links those
  rules miss (``ANCHOR_RECALL``).

Pairs are reduced to their comparison vectors and counted, so EM iterates over distinct
vectors (a few thousand), not pairs. Missing levels weigh nothing, as in scoring.

Term frequencies are counted over the records: a value's share of the records, against
the chance that two records share any value of that field, scales the u of an exact
match on it (two محمدی is weaker evidence than two Yazdani).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.errors import PeyvandError
from hub.matching.compare import COMPARISONS, FAMILY, GIVEN, INDEX, MISSING, compare
from hub.matching.model import TF_FIELDS, Model, smoothed, value_hash
from hub.matching.profile import Profile
from hub.matching.scoring import is_gated

Pattern = tuple[int, ...]
RANDOM_PAIRS = 150_000
ANCHOR_RECALL = 0.8   # share of true pairs the anchor rules are taken to find
_EXACT = 1


class TrainingError(PeyvandError):
    """The data cannot support a model (too few records or duplicates)."""


@dataclass(frozen=True, slots=True)
class TrainingReport:
    records: int
    pairs: int
    patterns: int
    iterations: int
    converged: bool


# (blocking key prefixes, the comparisons those keys select on: held fixed there)
SESSIONS = (
    (("nc:", "em:", "mo:", "id:"), ("national_code", "email", "mobile", "identifier")),
    (("sy:", "bd:"), ("given_name", "family_name", "birth_date")),
)


def candidate_pairs(profiles: Sequence[Profile], max_key_records: int,
                    max_pairs: int, rng: random.Random,
                    prefixes: tuple[str, ...] = ()) -> list[tuple[int, int]]:
    """Pairs of records sharing a blocking key (of ``prefixes``, when given) held by at
    most ``max_key_records``."""
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(profiles):
        for key in p.lookup_keys(prefixes):
            groups.setdefault(key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        if 1 < len(members) <= max_key_records:
            pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1:])
    out = sorted(pairs)
    return rng.sample(out, max_pairs) if len(out) > max_pairs else out


def random_u(profiles: Sequence[Profile], rng: random.Random, pairs: int = RANDOM_PAIRS
             ) -> list[list[float]]:
    """u per level from random pairs (missing values left out).

    What a household shares counts only when the given names agree (scoring), so its u
    is taken over the random pairs whose given names do not differ: two strangers named
    Reza sharing a mobile, not a mother and son.
    """
    counts = [[0.0] * len(c.levels) for c in COMPARISONS]
    n = len(profiles)
    for _ in range(pairs):
        a, b = rng.randrange(n), rng.randrange(n)
        if a == b:
            continue
        pattern = compare(profiles[a], profiles[b])[0]
        gated = is_gated(pattern)
        if anchored(pattern) or (not gated and _shares_contact(pattern)):
            continue   # leave out the few true pairs drawn by chance
        for i, level in enumerate(pattern):
            if not (gated and COMPARISONS[i].shared):
                counts[i][level] += 1
    return [[0.0, *_shares(row[1:])] for row in counts]


def _shares(counts: Sequence[float]) -> list[float]:
    """Shares of random pairs per level. A level never seen is rare (one in ten million),
    not impossible; no pseudo-count, which for a field few records hold (an e-mail on
    both sides of a few thousand pairs) would make a shared value look common."""
    total = sum(counts)
    if not total:
        return smoothed(counts)
    shares = [max(c / total, 1e-7) for c in counts]
    return [x / sum(shares) for x in shares]


def expectation_maximisation(patterns: Counter[Pattern], m: list[list[float]],
                             u: list[list[float]], *, fixed: frozenset[int] = frozenset(),
                             iterations: int = 100, tolerance: float = 1e-6
                             ) -> tuple[list[list[float]], int, bool]:
    """m that best explains ``patterns`` with ``u`` fixed, starting from ``m``; the m of
    comparisons in ``fixed`` stays as given."""
    share = 0.5
    for step in range(1, iterations + 1):
        counts = [[0.0] * len(c.levels) for c in COMPARISONS]
        matched = 0.0
        for pattern, count in patterns.items():
            pm, pu = share, 1 - share
            for i, level in enumerate(pattern):
                if level != MISSING:
                    pm *= m[i][level]
                    pu *= u[i][level]
            g = pm / (pm + pu) if pm + pu > 0 else 0.0
            matched += g * count
            for i, level in enumerate(pattern):
                counts[i][level] += g * count
        share = min(max(matched / sum(patterns.values()), 1e-9), 1 - 1e-9)
        new = [m[i] if i in fixed else [0.0, *smoothed(row[1:])]
               for i, row in enumerate(counts)]
        change = max(abs(x - y) for ro, rn in zip(m, new, strict=True)
                     for x, y in zip(ro, rn, strict=True))
        m = new
        if change < tolerance:
            return m, step, True
    return m, iterations, False


def _shares_contact(pattern: Pattern) -> bool:
    return any(pattern[INDEX[name]] == _EXACT for name in ("email", "mobile"))


def anchored(pattern: Pattern) -> bool:
    """Whether strong identifiers alone link the pair (for the prior)."""
    given, family = pattern[GIVEN], pattern[FAMILY]
    names_agree = given in (1, 2) and family in (1, 2)
    return (pattern[INDEX["national_code"]] == _EXACT
            or pattern[INDEX["identifier"]] == _EXACT
            or (pattern[INDEX["email"]] == _EXACT and given in (1, 2))
            or (names_agree and pattern[INDEX["birth_date"]] == _EXACT))


def term_frequencies(profiles: Sequence[Profile]) -> tuple[dict[str, dict[str, float]],
                                                           dict[str, float]]:
    """Per field: the share of records holding each value seen at least three times
    (hashed), and the chance that two records share a value (the sum of squares)."""
    values: dict[str, Callable[[Profile], Sequence[str]]] = {
        "given_name": lambda p: [p.given] if p.given else [],
        "family_name": lambda p: [p.family] if p.family else [],
        "email": lambda p: sorted(p.emails), "mobile": lambda p: sorted(p.mobiles),
        "landline": lambda p: sorted(p.landlines)}
    tables: dict[str, dict[str, float]] = {}
    sums: dict[str, float] = {}
    for name in TF_FIELDS:
        counts = Counter(v for p in profiles for v in values[name](p))
        n = sum(counts.values())
        if not n:
            continue
        sums[name] = sum((c / n) ** 2 for c in counts.values())
        tables[name] = {value_hash(v): round(c / n, 8) for v, c in counts.items() if c >= 3}
    return tables, sums


def train(profiles: Sequence[Profile], base: Model, *, max_key_records: int = 50,
          max_pairs: int = 2_000_000, seed: int = 1402,
          progress: Callable[[int], None] | None = None) -> tuple[Model, TrainingReport]:
    """A model estimated from ``profiles``, starting from ``base`` (the current model)."""
    if len(profiles) < 100:
        raise TrainingError(f"training needs at least 100 customer records; the store holds "
                            f"{len(profiles)}. Keep the current model until there are more.")
    rng = random.Random(seed)
    u = random_u(profiles, rng, min(RANDOM_PAIRS, 10 * len(profiles) + 10_000))
    seen: dict[tuple[int, int], Pattern] = {}   # every candidate pair, compared once

    def patterns_of(pairs: list[tuple[int, int]]) -> Counter[Pattern]:
        out: Counter[Pattern] = Counter()
        for a, b in pairs:
            if (a, b) not in seen:
                seen[(a, b)] = compare(profiles[a], profiles[b])[0]
                if progress is not None and len(seen) % 10_000 == 0:
                    progress(10_000)
            out[seen[(a, b)]] += 1
        return out

    m, steps, converged = _sessions(profiles, base, u, patterns_of, max_key_records,
                                    max_pairs, rng)
    if not seen:
        raise TrainingError("no two records share a blocking key: there is nothing to "
                            "learn from; keep the current model.")
    links = sum(1 for p in seen.values() if anchored(p)) / ANCHOR_RECALL
    total = len(profiles) * (len(profiles) - 1) / 2
    fitted = Model(m, u, min(max(links / total, 1e-12), 0.5))
    _check(fitted)
    fitted.tf, fitted.tf_sum_squares = term_frequencies(profiles)
    fitted.version = base.version + 1
    report = TrainingReport(len(profiles), len(seen), len(set(seen.values())), steps,
                            converged)
    fitted.trained = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                      "records": report.records, "pairs": report.pairs,
                      "patterns": report.patterns, "iterations": steps,
                      "converged": converged, "anchor_recall": ANCHOR_RECALL}
    return fitted, report


def _sessions(profiles: Sequence[Profile], base: Model, u: list[list[float]],
              patterns_of: Callable[[list[tuple[int, int]]], Counter[Pattern]],
              max_key_records: int, max_pairs: int, rng: random.Random
              ) -> tuple[list[list[float]], int, bool]:
    """m from each session for the comparisons it leaves free, averaged."""
    m = [row[:] for row in base.m]
    estimates: dict[int, list[list[float]]] = {}
    steps, converged = 0, True
    for prefixes, chosen_by in SESSIONS:
        patterns = patterns_of(candidate_pairs(profiles, max_key_records, max_pairs, rng,
                                               prefixes))
        if not patterns:
            continue
        fixed = frozenset(INDEX[name] for name in chosen_by)
        found, n_steps, done = expectation_maximisation(patterns, m, u, fixed=fixed)
        steps, converged = steps + n_steps, converged and done
        for i in range(len(COMPARISONS)):
            if i not in fixed:
                estimates.setdefault(i, []).append(found[i])
    for i, found_m in estimates.items():
        m[i] = [sum(col) / len(found_m) for col in zip(*found_m, strict=True)]
    return m, steps, converged


def _check(model: Model) -> None:
    """EM may settle on the wrong split (households as the matches) when the data holds
    few duplicates: names agreeing must be evidence for a match, not against it."""
    for i in (GIVEN, FAMILY):
        if model.m[i][1] <= model.u[i][1]:
            raise TrainingError(
                f"the estimate makes an exact {COMPARISONS[i].name} evidence against a "
                "match, which means the records hold too few duplicates to learn from; "
                "the current model was kept.")
