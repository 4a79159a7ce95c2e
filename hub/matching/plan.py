"""Matching a batch, as a pure function: records and candidates in, a plan of decisions out.

The store reads what the plan needs (``Candidates``) once per batch and applies the plan
it gets back; nothing here touches a database, so matching is tested in memory.

For each incoming record, in order, every master sharing a usable blocking key with it
is scored by its best-scoring record. Clusters are joined the same way whatever their
size, so the same records in any order give the same clusters:

* a cluster may join another when one pair between them scores at or above the match
  threshold, and no pair between them is vetoed (two national codes), rejected by a
  reviewer, or contradicts the match outright (``contradiction`` bits or less: a weak
  link does not merge two clusters whose records disagree on everything else);
* an incoming record that matches several masters joins the best one, then merges the
  others in score order under the same test; a merge the test refuses, and every pair in
  the review band, goes to the review queue;
* no match makes a new master (a changed record stays on its own);
* when the records a new one links disagree among themselves (two national codes, a
  rejected pair), greedy joining would depend on who came first: those records are
  clustered again together, strongest links first (Kruskal's order), never across a
  veto, and may move between their masters (``hub.matching.conflicts``).

Among merged masters the oldest id survives (ids are time-ordered), so ids stay stable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hub.matching import conflicts
from hub.matching.evidence import Evidence
from hub.matching.profile import Profile
from hub.matching.scoring import VETO, Scored

Ref = tuple[str, str]   # (source_system, source_id)


class Matcher(Protocol):
    match: float
    review: float

    def score(self, a: Profile, b: Profile) -> Scored: ...
    def evidence(self, scored: Scored, record: Ref | None = None) -> Evidence: ...


class DecisionKind(StrEnum):
    NEW = "new"          # no match: a new master
    JOINED = "joined"    # matched a master (several: merged into the oldest)
    KEPT = "kept"        # a changed record with no match stays on its own master
    MERGED = "merged"    # its master was merged into another by a later record


@dataclass(frozen=True, slots=True)
class Incoming:
    """A record to match: its profile and, for a changed record, its current master."""

    ref: Ref
    profile: Profile
    current: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A record already linked to a master."""

    ref: Ref
    profile: Profile


@dataclass
class Candidates:
    """What the store knows that the batch may match.

    Args:
        index: blocking key -> masters holding it (keys held by too many records left
            out by the store).
        members: master -> its linked records (the batch's own records left out).
        established: masters stored before this batch; among them the oldest id (ids
            are time-ordered) survives a merge.
        rejected: pairs of records a reviewer said are two people.
        max_key_masters: a key held by more masters than this stops proposing them.
        key_prefixes: the blocking key kinds used to find candidates (all when empty).
    """

    index: dict[str, set[str]] = field(default_factory=dict)
    members: dict[str, list[Member]] = field(default_factory=dict)
    established: set[str] = field(default_factory=set)
    rejected: set[frozenset[Ref]] = field(default_factory=set)
    max_key_masters: int = 50
    key_prefixes: tuple[str, ...] = ()   # the key kinds that propose candidates (all)


@dataclass(frozen=True, slots=True)
class Decision:
    ref: Ref
    master: str
    kind: DecisionKind
    evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class Merge:
    """An established master absorbed by a survivor, because ``by`` matched both."""

    survivor: str
    absorbed: str
    by: Ref
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Move:
    """A stored record that leaves its master for another when a conflict is settled."""

    ref: Ref
    source: str
    target: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Review:
    """A pair for a person to decide, with its score and why it was not decided."""

    a: Ref
    b: Ref
    evidence: Evidence


@dataclass
class Plan:
    """The batch's decisions, with masters to create and established masters merged.

    Masters created and merged within the batch never existed outside it: they are in
    neither ``created`` nor ``merges``, and their records' decisions name the survivor.
    """

    decisions: list[Decision] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)

    def absorbed_by(self) -> dict[str, list[str]]:
        """Survivor -> the established masters it absorbed."""
        out: dict[str, list[str]] = {}
        for merge in self.merges:
            out.setdefault(merge.survivor, []).append(merge.absorbed)
        return out


def plan_batch(incoming: Sequence[Incoming], candidates: Candidates, *, matcher: Matcher,
               new_id: Callable[[], str], contradiction: float = -30.0) -> Plan:
    """Decide where each incoming record goes; ``candidates`` is updated as it goes."""
    return _Planner(candidates, matcher, new_id, contradiction).run(incoming)


@dataclass(frozen=True, slots=True)
class _Hit:
    master: str
    scored: Scored
    member: Ref


class _Planner:
    def __init__(self, candidates: Candidates, matcher: Matcher, new_id: Callable[[], str],
                 contradiction: float) -> None:
        self.c, self.matcher, self.new_id = candidates, matcher, new_id
        self.contradiction = contradiction
        self.redirect: dict[str, str] = {}    # absorbed master -> survivor
        self.created: list[str] = []
        self.merges: list[Merge] = []         # every absorption, in order
        self.reviews: dict[frozenset[Ref], Review] = {}
        self.where: dict[Ref, str] = {}       # the batch's records -> their master now
        self.batch: set[Ref] = set()
        self.moved: dict[Ref, Move] = {}      # stored records moved, by the last move

    def find(self, master: str) -> str:
        while master in self.redirect:
            master = self.redirect[master]
        return master

    def run(self, incoming: Sequence[Incoming]) -> Plan:
        self.batch = {item.ref for item in incoming}
        placed = [self.place(item) for item in incoming]
        moves = [Move(m.ref, m.source, self.find(m.target), m.evidence)
                 for m in self.moved.values()]
        moves = [m for m in moves if m.source != m.target]
        return Plan([self._final(d) for d in placed],
                    [m for m in self.created if m not in self.redirect],
                    self._established_merges(), list(self.reviews.values()), moves)

    def _final(self, decision: Decision) -> Decision:
        """The decision as it stands after the batch: its master may have been merged,
        or the record moved when a conflict was settled."""
        now = self.find(self.where[decision.ref])
        if now != self.find(decision.master):
            return Decision(decision.ref, now, DecisionKind.JOINED, decision.evidence)
        if decision.master not in self.redirect:
            return decision
        merge = next(m for m in self.merges if m.absorbed == decision.master)
        # The evidence of the merge: the record that matched this record's master.
        why = Evidence(merge.evidence.rule, merge.evidence.levels, merge.evidence.score,
                       merge.by)
        return Decision(decision.ref, self.find(decision.master), DecisionKind.MERGED, why)

    def place(self, item: Incoming) -> Decision:
        hits, vetoed = self.hits(item)
        matched = [h for h in hits if h.scored.score >= self.matcher.match]
        conflict = vetoed or (len(matched) > 1 and not self._all_compatible(matched))
        if conflict:
            settled = self.settle(item, [h.master for h in matched] + vetoed)
            if settled is not None:
                return settled
        if matched:
            decision = self.join(item, matched)
        elif item.current is not None and item.current not in self.redirect:
            # A changed record stays on its master unless the evidence points elsewhere.
            decision = Decision(item.ref, item.current, DecisionKind.KEPT)
        else:
            decision = Decision(item.ref, self.create(), DecisionKind.NEW)
        for hit in hits:
            if (self.matcher.review <= hit.scored.score < self.matcher.match
                    and self.find(hit.master) != decision.master):
                self._review(item.ref, hit)
        self.link(decision.master, item)
        return decision

    def hits(self, item: Incoming) -> tuple[list[_Hit], list[str]]:
        """Each candidate master scored by its best record, best first; and the masters
        a member of which vetoes the record while another matches it (a conflict)."""
        masters: set[str] = set()
        for key in item.profile.lookup_keys(self.c.key_prefixes):
            held = self.c.index.get(key, ())
            if len(held) <= self.c.max_key_masters:
                masters.update(self.find(m) for m in held)
        out, vetoed = [], []
        for master in sorted(masters):
            best: _Hit | None = None
            veto = False
            for member in self.c.members.get(master, ()):
                scored = self._score(item.ref, item.profile, member)
                veto = veto or scored.score == VETO
                if best is None or scored.score > best.scored.score:
                    best = _Hit(master, scored, member.ref)
            if best is None:
                continue
            if not veto:
                out.append(best)
            elif best.scored.score >= self.matcher.match:
                vetoed.append(master)
        return sorted(out, key=lambda h: (-h.scored.score, self._age(h.master))), vetoed

    def _score(self, ref: Ref, profile: Profile, member: Member) -> Scored:
        if frozenset((ref, member.ref)) in self.c.rejected:
            return Scored(VETO, (), False, "rejected by a reviewer")
        return self.matcher.score(profile, member.profile)

    def join(self, item: Incoming, matched: list[_Hit]) -> Decision:
        first = matched[0]
        group = [first.master]
        for hit in matched[1:]:
            if self._compatible(group, hit.master):
                group.append(hit.master)
            else:
                self._review(item.ref, hit)
        survivor, *absorbed = sorted(group, key=self._age)
        by_master = {h.master: h for h in matched}
        for other in absorbed:
            self.redirect[other] = survivor
            self.c.members.setdefault(survivor, []).extend(self.c.members.pop(other, []))
            hit = by_master[other]
            self.merges.append(Merge(survivor, other, item.ref,
                                     self.matcher.evidence(hit.scored, hit.member)))
        return Decision(item.ref, survivor, DecisionKind.JOINED,
                        self.matcher.evidence(first.scored, first.member))

    def _all_compatible(self, matched: list[_Hit]) -> bool:
        group = [matched[0].master]
        for hit in matched[1:]:
            if not self._compatible(group, hit.master):
                return False
            group.append(hit.master)
        return True

    def settle(self, item: Incoming, masters: list[str]) -> Decision | None:
        """Settle a conflict (``hub.matching.conflicts``): ``item`` and every record of
        ``masters`` clustered again, then applied here. None when there are too many
        records to do it here (matching then goes on greedily)."""
        owners = sorted({self.find(m) for m in masters}, key=self._age)
        records: list[tuple[str | None, Member]] = [
            (m, member) for m in owners for member in self.c.members.get(m, [])]
        records.append((None, Member(item.ref, item.profile)))
        settled = conflicts.settle(
            records, score=self._score, matcher=self.matcher, contradiction=self.contradiction,
            age=self._age, spare=item.current if item.current not in self.redirect else None,
            new_master=self.create)
        if settled is None:
            return None
        owner_of = settled.owner_of
        why = Evidence("conflict settled, strongest links first", record=item.ref)
        for i, (was, member) in enumerate(records[:-1]):
            now = owner_of[i]
            if now == was:
                continue
            if member.ref in self.batch:
                self.where[member.ref] = now
            else:
                first = self.moved.get(member.ref)
                self.moved[member.ref] = Move(member.ref, first.source if first else str(was),
                                              now, why)
            for key in member.profile.all_keys():
                self.c.index.setdefault(key, set()).add(now)
        for master in owners:
            self.c.members[master] = []
        for i, (_, member) in enumerate(records[:-1]):
            self.c.members.setdefault(owner_of[i], []).append(member)
        for absorbed, survivor in settled.emptied:
            self.redirect[absorbed] = survivor
            self.merges.append(Merge(survivor, absorbed, item.ref, why))
        for i, scored in settled.refused:   # a link a veto refused: a person may look
            self._review(item.ref, _Hit(owner_of[i], scored, records[i][1].ref))
        mine = owner_of[len(records) - 1]
        kind = DecisionKind.JOINED if settled.evidence is not None else (
            DecisionKind.KEPT if mine == item.current else DecisionKind.NEW)
        self.link(mine, item)
        return Decision(item.ref, mine, kind, settled.evidence)

    def _compatible(self, group: list[str], master: str) -> bool:
        """Whether ``master`` may join the masters of ``group``."""
        return conflicts.compatible((m for g in group for m in self.c.members.get(g, [])),
                                    self.c.members.get(master, []), score=self._score,
                                    contradiction=self.contradiction)

    def _review(self, ref: Ref, hit: _Hit) -> None:
        pair = frozenset((ref, hit.member))
        if pair not in self.c.rejected and pair not in self.reviews:
            self.reviews[pair] = Review(ref, hit.member,
                                        self.matcher.evidence(hit.scored, hit.member))

    def create(self) -> str:
        master = self.new_id()
        while master in self.c.members:   # same millisecond, same random: vanishingly rare
            master = self.new_id()
        self.created.append(master)
        return master

    def link(self, master: str, item: Incoming) -> None:
        self.where[item.ref] = master
        self.c.members.setdefault(master, []).append(Member(item.ref, item.profile))
        for key in item.profile.all_keys():
            self.c.index.setdefault(key, set()).add(master)

    def _age(self, master: str) -> tuple[bool, str]:
        # Established masters first, then by id: ids are time-ordered, so the oldest.
        return (master not in self.c.established, master)

    def _established_merges(self) -> list[Merge]:
        """Absorptions of established masters, each naming its final survivor (merges
        can chain: A absorbs B, then C absorbs A)."""
        return sorted((Merge(self.find(m.absorbed), m.absorbed, m.by, m.evidence)
                       for m in self.merges if m.absorbed in self.c.established),
                      key=lambda m: (m.survivor, m.absorbed))
