"""Settling a conflict: the records a new one links disagree, so they are clustered again.

When the records an incoming one links disagree among themselves (two national codes, a
rejected pair), greedy joining would depend on who came first. ``settle`` clusters them
again together, strongest links first (Kruskal's order), never across a veto or a
contradiction, and lays the clusters over the masters they were on. It only decides:
the planner (``hub.matching.plan``) applies the ``Settlement`` to its state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.matching.evidence import Evidence
from hub.matching.scoring import VETO, Scored

if TYPE_CHECKING:   # plan.py imports this module: its types are only annotations here
    from hub.matching.plan import Matcher, Member, Ref
    from hub.matching.profile import Profile

    Scorer = Callable[[Ref, Profile, Member], Scored]   # a reviewer's rejection is a veto
    Age = Callable[[str], tuple[bool, str]]             # sorts the oldest master first

MAX_RECLUSTER = 60   # records clustered again at once when a conflict is settled


@dataclass(frozen=True, slots=True)
class Settlement:
    """Where the records of a settled conflict go (indexes into the records settled).

    Args:
        owner_of: record index -> its master now.
        evidence: the incoming record's strongest link that was used (None: it links none).
        emptied: (absorbed, survivor) for each master none of whose records kept its id.
        refused: links of the incoming record a veto refused, as (record index, scored).
    """

    owner_of: dict[int, str]
    evidence: Evidence | None
    emptied: list[tuple[str, str]]
    refused: list[tuple[int, Scored]]


def contradicts(score: float, contradiction: float) -> bool:
    """Whether a pair keeps its two records' clusters apart: vetoed, rejected by a
    reviewer, or ``contradiction`` bits or less."""
    return score == VETO or score <= contradiction


def compatible(mine: Iterable[Member], theirs: Sequence[Member], *, score: Scorer,
               contradiction: float) -> bool:
    """Whether two clusters may join: no pair between them contradicts the match."""
    for a in mine:
        for b in theirs:
            if contradicts(score(a.ref, a.profile, b).score, contradiction):
                return False
    return True


def settle(records: list[tuple[str | None, Member]], *, score: Scorer, matcher: Matcher,
           contradiction: float, age: Age, spare: str | None,
           new_master: Callable[[], str]) -> Settlement | None:
    """Cluster ``records`` (each with the master it is on; the incoming record last, on
    None) again, strongest links first, and lay the clusters over their masters (each
    keeps the id most of its records had). ``spare`` is a master the incoming record may
    keep (it was on it); ``new_master`` makes one. None when there are too many records to
    do it here (matching then goes on greedily and the conflict waits for ``peyvand
    rematch``)."""
    if len(records) > MAX_RECLUSTER:
        return None
    parts, best, blocked = _kruskal([member for _, member in records], score, matcher,
                                    contradiction)
    owner_of = _lay_over(records, parts, age, spare, new_master)
    last = len(records) - 1
    refused = [(j if i == last else i, scored) for i, j, scored in blocked if last in (i, j)]
    return Settlement(owner_of, best.get(last), _emptied(records, owner_of, age), refused)


def _kruskal(members: list[Member], score: Scorer, matcher: Matcher, contradiction: float
             ) -> tuple[list[set[int]], dict[int, Evidence], list[tuple[int, int, Scored]]]:
    """Clusters of ``members`` by links at or above the match threshold, strongest
    first, never joining two clusters across a veto or a contradiction; each record's
    strongest link that was used; and the links refused."""
    n = len(members)
    scored = {(i, j): score(members[i].ref, members[i].profile, members[j])
              for i in range(n) for j in range(i + 1, n)}
    group = {i: {i} for i in range(n)}
    best: dict[int, Evidence] = {}
    blocked: list[tuple[int, int, Scored]] = []
    edges = sorted((s.score, min(members[i].ref, members[j].ref),
                    max(members[i].ref, members[j].ref), i, j)
                   for (i, j), s in scored.items() if s.score >= matcher.match)
    for _, _, _, i, j in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        gi, gj = group[i], group[j]
        if gi is gj:
            continue
        if any(contradicts(scored[min(x, y), max(x, y)].score, contradiction)
               for x in gi for y in gj):
            blocked.append((i, j, scored[i, j]))
            continue
        gi |= gj
        for k in gj:
            group[k] = gi
        for k, other in ((i, j), (j, i)):
            best.setdefault(k, matcher.evidence(scored[min(i, j), max(i, j)],
                                                members[other].ref))
    parts = list({id(g): g for g in group.values()}.values())
    return parts, best, blocked


def _lay_over(records: list[tuple[str | None, Member]], parts: list[set[int]], age: Age,
              spare: str | None, new_master: Callable[[], str]) -> dict[int, str]:
    """Record index -> master: each cluster, largest first, takes the master most of
    its records were on (the oldest among equals); a cluster of none takes ``spare`` if
    still free, else a new one."""
    taken: set[str] = set()
    owner_of: dict[int, str] = {}
    for part in sorted(parts, key=lambda p: (-len(p), min(records[i][1].ref for i in p))):
        votes: Counter[str] = Counter(m for i in part if (m := records[i][0]) is not None)
        free = sorted((m for m in votes if m not in taken), key=lambda m: (-votes[m], age(m)))
        if free:
            owner = free[0]
        elif spare is not None and spare not in taken:
            owner = spare
        else:
            owner = new_master()
        taken.add(owner)
        owner_of.update(dict.fromkeys(part, owner))
    return owner_of


def _emptied(records: list[tuple[str | None, Member]], owner_of: dict[int, str],
             age: Age) -> list[tuple[str, str]]:
    """A master none of whose records kept its id is merged into the one that took
    most of them: (absorbed, survivor), in the masters' order."""
    kept = set(owner_of.values())
    out = []
    for master in dict.fromkeys(was for was, _ in records if was is not None):
        if master in kept:
            continue
        went = Counter(owner_of[i] for i, (was, _) in enumerate(records) if was == master)
        out.append((master, sorted(went, key=lambda m: (-went[m], age(m)))[0]))
    return out
