"""The golden record: built from every linked source record; each value knows its source
and the rule that chose it.

Single-valued fields follow the rule config gives them (``survivorship.rules``, else
``survivorship.default``, else the trust order ``source_priority``); a lock-step group
(``survivorship.groups``) takes all its fields from one record. E-mails and phones keep
every distinct value (rule ``union``).

Consents (``consents.*``, one per channel and one per channel and purpose) take the most
restrictive statement (``most_restrictive``): each source's statement is its newest
record that states one, and across sources any "no" beats "yes", so a "لغو" texted today
outranks the "yes" an old lead sheet recorded, while a "شروع" from the same gateway takes
it back. A channel-wide "no" also holds for every purpose of that channel. "Received"
is when the hub stored the record (a changed record counts from its change), so a source
that re-sends an unchanged record does not revive an old statement. Records that say
nothing about a consent leave it as it was.

The golden record is a pure function of the open records: unmerging or closing a record
rebuilds it, and each remaining record's own statements come back.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from hub.errors import ConfigError
from hub.records import CanonicalRecord, display_name
from hub.survivorship_config import rule_problems
from hub.survivorship_rules import (
    CONSENTS,
    MULTI_VALUED,
    RULES,
    UNION,
    GoldenRules,
    Group,
    Orders,
    Values,
    choose,
    lineage,
    most_restrictive,
)

__all__ = ["RULES", "GoldenRules", "Linked", "SurvivorshipSettings", "build_golden"]

Rule = Literal["source_priority", "most_recent", "most_complete", "most_frequent"]


@dataclass(frozen=True, slots=True)
class SurvivorshipSettings:
    """``survivorship:`` in config.yaml.

    Args:
        source_priority: source systems, most trusted first (rule ``source_priority``:
            the first of them that has a value; the newest record among equals).
        default: the rule of fields no rule names: ``source_priority``, ``most_recent``
            (the newest record that has one), ``most_complete`` (the longest value),
            ``most_frequent`` (the value most records agree on).
        rules: field path (``birthDate``, ``phones.phone:mobile``) or prefix (``name.*``)
            -> rule; the closest naming wins.
        groups: name -> field paths (``address: [addresses.address.*]``), or
            ``{fields: [...], rule: most_recent}``: the rule picks one record, and every
            field of the group comes from it (the default rule when none is named).
    """

    section: ClassVar[str] = "survivorship"
    source_priority: tuple[str, ...] = ()
    default: Rule = "source_priority"
    rules: Mapping[str, Any] = field(default_factory=dict)
    groups: Mapping[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What is wrong inside ``rules`` and ``groups`` (unknown rules, unknown fields,
        wrong types, a field in two groups), each named by its key."""
        return rule_problems(self.rules, self.groups) if self.rules or self.groups else []

    def golden_rules(self) -> GoldenRules:
        """The rules compiled for ``build_golden``; ConfigError when they are wrong."""
        if problems := self.problems():
            raise ConfigError(self.section, problems)
        return _compile(self)


@dataclass(frozen=True, slots=True)
class Linked:
    """A source record as survivorship sees it."""

    record: CanonicalRecord
    received: tuple[Any, ...]   # sorts later for a record received later
    at: datetime | None = None  # when the hub received it: a consent's time


def build_golden(linked: Sequence[Linked],
                 priority: GoldenRules | SurvivorshipSettings | Sequence[str]) -> dict[str, Any]:
    """The golden record as stored: fields with lineage, display name, sources.

    ``priority`` is ``SurvivorshipSettings.golden_rules()`` (compiled once), the settings,
    or just the trust order (rule ``source_priority`` for every field).
    """
    rules = priority if isinstance(priority, GoldenRules) else _compile(priority) if isinstance(
        priority, SurvivorshipSettings) else _trust_only(tuple(priority))
    orders = Orders.of(linked, rules.source_priority)
    paths = sorted({p for i in linked for p in i.record.fields})
    fields: dict[str, list[dict[str, str]]] = {}
    groups: dict[Group, list[str]] = {}
    for path in paths:
        if path.startswith(CONSENTS):
            if value := most_restrictive(path, orders):
                fields[path] = [value]
        elif path.partition(":")[0] in MULTI_VALUED:
            fields[path] = _union(path, orders)
        elif isinstance(route := rules.route(path), Group):
            groups.setdefault(route, []).append(path)
        elif chosen := choose(route, orders, _values_at((path,))):
            fields[path] = [lineage(chosen, path, route)]
    for group, members in groups.items():
        chosen = choose(group.rule, orders, _values_at(tuple(members)))
        for path in members:
            if chosen is not None and chosen.record.first(path):
                fields[path] = [lineage(chosen, path, group.rule)]

    def first(path: str) -> str | None:
        return fields[path][0]["value"] if fields.get(path) else None

    return {
        "display_name": display_name(first),
        "fields": dict(sorted(fields.items())),
        "sources": sorted(f"{i.record.source_system}/{i.record.source_id}" for i in linked),
    }


def _values_at(paths: tuple[str, ...]) -> Values:
    """A record's first value at each of ``paths`` (None where it has none)."""
    return lambda item: tuple(item.record.first(p) for p in paths)


def _union(path: str, orders: Orders) -> list[dict[str, str]]:
    """Every distinct value, in trust order (then newest first), each from the first
    record that has it."""
    kept: dict[str, dict[str, str]] = {}
    for item in orders.ranked:
        rec = item.record
        for value in rec.fields.get(path, ()):
            kept.setdefault(value.value, {"value": value.value, "rule": UNION,
                                          "source": f"{rec.source_system}/{rec.source_id}"})
    return list(kept.values())


@functools.lru_cache(maxsize=8)
def _trust_only(priority: tuple[str, ...]) -> GoldenRules:
    """Rule ``source_priority`` for every field: ``build_golden(linked, ["erp", "crm"])``."""
    return GoldenRules(source_priority=priority)


def _compile(settings: SurvivorshipSettings) -> GoldenRules:
    """The rules from settings already checked (``problems``); what is malformed is
    left out rather than guessed."""
    default = settings.default if settings.default in RULES else "source_priority"
    rules = tuple((str(p), r) for p, r in settings.rules.items() if r in RULES)
    groups = []
    for name, spec in settings.groups.items():
        patterns = spec.get("fields", ()) if isinstance(spec, Mapping) else spec
        rule = spec.get("rule", default) if isinstance(spec, Mapping) else default
        if isinstance(patterns, list | tuple) and rule in RULES:
            groups.append(Group(str(name), tuple(str(p) for p in patterns), rule))
    return GoldenRules(tuple(settings.source_priority), default, rules, tuple(groups))
