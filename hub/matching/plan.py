"""Matching a batch, as a pure function: records and candidates in, a plan of decisions out.

The store reads what the plan needs (``Candidates``) once per batch and applies the plan
it gets back; nothing here touches a database, so matching is tested in memory.

For each incoming record, in order: the masters sharing a blocking key with it are
compared (the rules give evidence, the merge policy may veto); no match makes a new
master, one match joins it, several merge into the oldest. Records of the same batch
see each other, so two duplicates in one file become one master.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hub.matching.evidence import Evidence
from hub.matching.policy import national_codes
from hub.matching.profile import Profile

Ref = tuple[str, str]   # (source_system, source_id)


class Matcher(Protocol):
    def compare(self, a: Profile, b: Profile) -> Evidence | None: ...


class Policy(Protocol):
    def allows_join(self, record: Profile, members: Iterable[Profile]) -> bool: ...
    def allows_merge(self, codes: set[str], other: Iterable[Profile]) -> bool: ...


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
        index: blocking key -> masters holding it.
        members: master -> its linked records (the batch's own records left out).
        established: masters stored before this batch; among them the oldest id (ids
            are time-ordered) survives a merge.
    """

    index: dict[str, set[str]] = field(default_factory=dict)
    members: dict[str, list[Member]] = field(default_factory=dict)
    established: set[str] = field(default_factory=set)


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


@dataclass
class Plan:
    """The batch's decisions, with masters to create and established masters merged.

    Masters created and merged within the batch never existed outside it: they are in
    neither ``created`` nor ``merges``, and their records' decisions name the survivor.
    """

    decisions: list[Decision] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)

    def absorbed_by(self) -> dict[str, list[str]]:
        """Survivor -> the established masters it absorbed."""
        out: dict[str, list[str]] = {}
        for merge in self.merges:
            out.setdefault(merge.survivor, []).append(merge.absorbed)
        return out


def plan_batch(incoming: Sequence[Incoming], candidates: Candidates, *, matcher: Matcher,
               policy: Policy, new_id: Callable[[], str]) -> Plan:
    """Decide where each incoming record goes; ``candidates`` is updated as it goes."""
    return _Planner(candidates, matcher, policy, new_id).run(incoming)


class _Planner:
    def __init__(self, candidates: Candidates, matcher: Matcher, policy: Policy,
                 new_id: Callable[[], str]) -> None:
        self.c, self.matcher, self.policy, self.new_id = candidates, matcher, policy, new_id
        self.redirect: dict[str, str] = {}    # absorbed master -> survivor
        self.created: list[str] = []
        self.merges: list[Merge] = []         # every absorption, in order

    def find(self, master: str) -> str:
        while master in self.redirect:
            master = self.redirect[master]
        return master

    def run(self, incoming: Sequence[Incoming]) -> Plan:
        placed = [self.place(item) for item in incoming]
        return Plan([self._final(d) for d in placed],
                    [m for m in self.created if m not in self.redirect],
                    self._established_merges())

    def _final(self, decision: Decision) -> Decision:
        """The decision as it stands after the batch: its master may have been merged."""
        if decision.master not in self.redirect:
            return decision
        merge = next(m for m in self.merges if m.absorbed == decision.master)
        # The evidence of the merge: the record that matched this record's master.
        why = Evidence(merge.evidence.rule, merge.evidence.levels, merge.evidence.score,
                       merge.by)
        return Decision(decision.ref, self.find(decision.master), DecisionKind.MERGED, why)

    def place(self, item: Incoming) -> Decision:
        matched = self.matches(item)
        if matched:
            master, *others = sorted(matched, key=self._age)
            self.absorb(master, others, item, matched)
            decision = Decision(item.ref, master, DecisionKind.JOINED, matched[master])
        elif item.current is not None and item.current not in self.redirect:
            # A changed record stays on its master unless the evidence points elsewhere.
            decision = Decision(item.ref, item.current, DecisionKind.KEPT)
        else:
            decision = Decision(item.ref, self.create(), DecisionKind.NEW)
        self.link(decision.master, item)
        return decision

    def matches(self, item: Incoming) -> dict[str, Evidence]:
        hits = {self.find(m) for k in item.profile.all_keys() for m in self.c.index.get(k, ())}
        found: dict[str, Evidence] = {}
        for master in sorted(hits):
            members = self.c.members.get(master, [])
            if not self.policy.allows_join(item.profile, (m.profile for m in members)):
                continue
            for member in members:
                evidence = self.matcher.compare(item.profile, member.profile)
                if evidence is not None:
                    found[master] = Evidence(evidence.rule, evidence.levels, evidence.score,
                                             member.ref)
                    break
        return found

    def absorb(self, master: str, others: list[str], item: Incoming,
               matched: Mapping[str, Evidence]) -> None:
        codes = national_codes([*self._profiles(master), item.profile])
        for other in others:
            if not self.policy.allows_merge(codes, self._profiles(other)):
                continue   # two people with their own national codes stay apart
            codes |= national_codes(self._profiles(other))
            self.redirect[other] = master
            self.c.members.setdefault(master, []).extend(self.c.members.pop(other, []))
            self.merges.append(Merge(master, other, item.ref, matched[other]))

    def create(self) -> str:
        master = self.new_id()
        while master in self.c.members:   # same millisecond, same random: vanishingly rare
            master = self.new_id()
        self.created.append(master)
        return master

    def link(self, master: str, item: Incoming) -> None:
        self.c.members.setdefault(master, []).append(Member(item.ref, item.profile))
        for key in item.profile.all_keys():
            self.c.index.setdefault(key, set()).add(master)

    def _profiles(self, master: str) -> list[Profile]:
        return [m.profile for m in self.c.members.get(master, [])]

    def _age(self, master: str) -> tuple[bool, str]:
        # Established masters first, then by id: ids are time-ordered, so the oldest.
        return (master not in self.c.established, master)

    def _established_merges(self) -> list[Merge]:
        """Absorptions of established masters, each naming its final survivor (merges
        can chain: A absorbs B, then C absorbs A)."""
        return sorted((Merge(self.find(m.absorbed), m.absorbed, m.by, m.evidence)
                       for m in self.merges if m.absorbed in self.c.established),
                      key=lambda m: (m.survivor, m.absorbed))
