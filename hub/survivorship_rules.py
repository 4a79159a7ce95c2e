"""Survivorship rules: which linked record gives each golden field its value.

A rule looks at the records that have a value and picks one record; the golden value
names it (``source``) and the rule (``rule``). Ties always fall to the trust order
(``source_priority``), then to the newest record. A lock-step group is chosen as one:
its rule picks a single record and every field of the group comes from it, so an address
is never stitched from two sources. Consents and multi-valued contacts follow fixed rules
(``hub.survivorship``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hub.records import CanonicalRecord

RULES = ("source_priority", "most_recent", "most_complete", "most_frequent")
MOST_RESTRICTIVE = "most_restrictive"   # consents: any "no" beats "yes"
UNION = "union"                         # e-mails and phones: every distinct value
MULTI_VALUED = ("emails.email", "phones.phone")
CONSENTS = "consents."
_REFUSED = ("false", "0")   # xs:boolean's "no"


class Received(Protocol):
    """A linked record: the record, when it was received (sortable), and its time."""

    @property
    def record(self) -> CanonicalRecord: ...
    @property
    def received(self) -> tuple[Any, ...]: ...
    @property
    def at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Group:
    """Fields taken together from one record (``survivorship.groups``)."""

    name: str
    patterns: tuple[str, ...]
    rule: str


@dataclass(frozen=True)
class GoldenRules:
    """The survivorship rules, compiled from ``SurvivorshipSettings``."""

    source_priority: tuple[str, ...] = ()
    default: str = "source_priority"
    rules: tuple[tuple[str, str], ...] = ()   # (pattern, rule)
    groups: tuple[Group, ...] = ()
    # path -> its group or rule; paths are few, and a master rebuild asks for each
    _routes: dict[str, Group | str] = field(default_factory=dict, compare=False,
                                             repr=False)

    def route(self, path: str) -> Group | str:
        """The group ``path`` belongs to, else the rule that picks its value."""
        if (found := self._routes.get(path)) is None:
            group = next((g for g in self.groups if any(matches(p, path)
                                                        for p in g.patterns)), None)
            found = group or _most_specific(self.rules, path) or self.default
            self._routes[path] = found
        return found


def matches(pattern: str, path: str) -> bool:
    """``name.*`` covers ``name.full``; ``phones.phone`` covers ``phones.phone:mobile``."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern or path.partition(":")[0] == pattern


def _most_specific(rules: Iterable[tuple[str, str]], path: str) -> str | None:
    """The rule of the pattern that names ``path`` most closely: the path itself, then
    the path without its qualifier, then the longest prefix."""
    def closeness(pattern: str) -> tuple[int, int]:
        return (2 if pattern == path else 0 if pattern.endswith("*") else 1, len(pattern))
    named = [(closeness(p), rule) for p, rule in rules if matches(p, path)]
    return max(named)[1] if named else None


@dataclass(frozen=True, slots=True)
class Orders:
    """The linked records newest first, and by trust (then newest first)."""

    newest: Sequence[Received]
    ranked: Sequence[Received]

    @classmethod
    def of(cls, linked: Iterable[Received], priority: Sequence[str]) -> Orders:
        rank = {system: i for i, system in enumerate(priority)}
        newest = sorted(linked, key=lambda i: i.received, reverse=True)
        return cls(newest, sorted(newest, key=lambda i: rank.get(i.record.source_system,
                                                                   len(rank))))


Values = Callable[[Received], tuple[str | None, ...]]


def choose(rule: str, orders: Orders, values: Values) -> Received | None:
    """The record ``rule`` picks among those with any of ``values`` (None: none has)."""
    if rule == "most_recent":
        return next((i for i in orders.newest if any(values(i))), None)
    if rule == "source_priority":   # the default: the first that has one, read lazily
        return next((i for i in orders.ranked if any(values(i))), None)
    having = [(i, found) for i in orders.ranked if any(found := values(i))]
    if not having:
        return None
    # max() keeps the first of equals: ties fall to trust order, then recency.
    if rule == "most_complete":
        return max(having, key=lambda pair: _filled(pair[1]))[0]
    if rule == "most_frequent":
        votes = Counter(found for _, found in having)
        return max(having, key=lambda pair: votes[pair[1]])[0]
    return having[0][0]


def _filled(values: tuple[str | None, ...]) -> tuple[int, int]:
    """How many of the values are there, and how long they are together."""
    present = [v for v in values if v]
    return len(present), sum(len(v) for v in present)


def most_restrictive(path: str, orders: Orders) -> dict[str, str] | None:
    """A consent across the records of one customer.

    Each source's statement is its newest record that states one (an SMS "شروع" after a
    "لغو" from the same gateway takes it back); across sources any "no" beats "yes".
    The newest of the winning statements is named, with the time it was received.

    A purpose's consent (``consents.consent:sms/marketing``) is also bound by its
    channel's (``consents.consent:sms``): when the channel's is a "no", a purpose's "yes"
    gives way to it, and the golden value is that channel-wide "no", naming its record.
    A purpose's own "no" stays its own.
    """
    if (own := _restrictive(path, orders)) is None:
        return None
    channel, slash, _ = path.partition("/")
    if slash and not own[1] and (wide := _restrictive(channel, orders)) and wide[1]:
        return _stated(wide, channel)
    return _stated(own, path)


def _restrictive(path: str, orders: Orders) -> tuple[Received, bool] | None:
    """The most restrictive statement at ``path`` and whether it is a "no"."""
    stated: dict[str, Received] = {}   # source system -> its newest statement
    for item in orders.newest:
        if item.record.first(path):
            stated.setdefault(item.record.source_system, item)
    if not stated:
        return None
    refused = [i for i in stated.values() if str(i.record.first(path)).lower() in _REFUSED]
    return (refused[0], True) if refused else (next(iter(stated.values())), False)


def _stated(found: tuple[Received, bool], path: str) -> dict[str, str]:
    """The golden consent: the statement's value at ``path``, its record, rule and time."""
    winner = found[0]
    value = lineage(winner, path, MOST_RESTRICTIVE)
    if winner.at is not None:
        at = winner.at if winner.at.tzinfo else winner.at.replace(tzinfo=UTC)
        value["at"] = at.isoformat()
    return value


def lineage(item: Received, path: str, rule: str) -> dict[str, str]:
    """A golden value: the record's value at ``path``, its source and the rule."""
    rec = item.record
    return {"value": str(rec.first(path)), "source": f"{rec.source_system}/{rec.source_id}",
            "rule": rule}
