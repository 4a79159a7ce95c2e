"""Checks of ``survivorship.rules`` and ``survivorship.groups``: every problem named by its
key, for ``peyvand check`` to list at once.

A field pattern is a path of the customer model (``birthDate``), with a qualifier
(``phones.phone:mobile``, ``attributes.attribute:tier``) or without (all of them), or a
prefix ending in ``*`` (``name.*``). Consents, e-mails and phones have fixed rules, and a
field belongs to at most one group; a rule naming only grouped fields would do nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.suggest import did_you_mean
from hub.survivorship_rules import CONSENTS, MULTI_VALUED, RULES

_GROUP_KEYS = ("fields", "rule")


def rule_problems(rules: Mapping[Any, Any], groups: Mapping[Any, Any]) -> list[str]:
    """What is wrong with ``rules`` (pattern -> rule) and ``groups`` (name -> spec)."""
    from hub.schema_model import load_model  # the XSD is compiled only when rules exist

    model = {path: (spec.qualifier_attr, spec.qualifiers)
             for path, spec in load_model("customer").fields.items()}
    problems: list[str] = []
    grouped: dict[str, str] = {}   # model field -> its group
    for name, spec in groups.items():
        where = f"survivorship.groups.{name}"
        if not isinstance(name, str):
            problems.append(f"survivorship.groups: a group's name is text, got {name!r}")
            continue
        for pattern in _group_patterns(where, spec, problems):
            for path in _fields(f"{where}: {pattern}", pattern, model, problems):
                if grouped.setdefault(path, name) != name:
                    problems.append(f"{where}: {path} is already in the group "
                                    f"{grouped[path]!r}; a field belongs to one group")
    for pattern, rule in rules.items():
        where = f"survivorship.rules.{pattern}"
        if not (isinstance(rule, str) and rule in RULES):
            problems.append(f"{where}: {_unknown_rule(rule)}")
        fields = _fields(where, pattern, model, problems)
        if fields and all(path in grouped for path in fields):
            problems.append(f"{where}: {fields[0]} is in the lock-step group "
                            f"{grouped[fields[0]]!r}, which takes its fields from one "
                            "record; name the rule on the group ({fields: [...], rule: ...})")
    return problems


def _group_patterns(where: str, spec: Any, problems: list[str]) -> list[str]:
    """The field patterns of one group, with every problem of its shape listed."""
    if isinstance(spec, Mapping):
        for key in spec:
            if key not in _GROUP_KEYS:
                problems.append(f"{where}.{key}: unknown key; a group has fields: and "
                                f"rule:.{did_you_mean(str(key), _GROUP_KEYS)}")
        rule = spec.get("rule")
        if rule is not None and not (isinstance(rule, str) and rule in RULES):
            problems.append(f"{where}.rule: {_unknown_rule(rule)}")
        if "fields" not in spec:
            problems.append(f"{where}.fields: required: the field paths taken together")
            return []
        where, spec = f"{where}.fields", spec["fields"]
    if not (isinstance(spec, list) and spec and all(isinstance(p, str) for p in spec)):
        problems.append(f"{where}: expected a list of field paths such as "
                        f"[addresses.address.*], or {{fields: [...], rule: ...}}, got {spec!r}")
        return []
    return spec


def _fields(where: str, pattern: Any, model: Mapping[str, tuple[str | None, tuple[str, ...]]],
            problems: list[str]) -> list[str]:
    """The model fields ``pattern`` names that a rule may choose for (problems listed)."""
    if not isinstance(pattern, str) or not pattern.strip("*"):
        problems.append(f"{where}: expected a field path such as name.full or a prefix "
                        f"such as name.*, got {pattern!r}")
        return []
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        named = [f for f in model if f.startswith(prefix) or f == prefix.partition(":")[0]]
        if not named:
            problems.append(f"{where}: no field of the customer model (schemas/customer.xsd) "
                            f"starts with {prefix!r}.{did_you_mean(pattern, _prefixes(model))}")
    else:
        path, _, qualifier = pattern.partition(":")
        if path not in model:
            problems.append(f"{where}: no such field in the customer model (schemas/"
                            f"customer.xsd).{did_you_mean(path, model)}")
            return []
        attr, allowed = model[path]
        first = qualifier.partition("/")[0] if path.startswith(CONSENTS) else qualifier
        if qualifier and (attr is None or (allowed and first not in allowed)):
            known = f"one of {', '.join(allowed)}" if allowed else "none"
            problems.append(f"{where}: {first!r} is not a qualifier of {path} "
                            f"({attr or 'qualifiers'}: {known})")
            return []
        named = [path]
    chosen = [f for f in named if not f.startswith(CONSENTS) and f not in MULTI_VALUED]
    if named and not chosen:
        problems.append(f"{where}: " + (
            "consents always take the most restrictive statement across records; no rule "
            "applies" if named[0].startswith(CONSENTS) else
            "e-mails and phones keep every distinct value; no rule chooses among them"))
    return chosen


def _prefixes(model: Mapping[str, Any]) -> list[str]:
    return [f"{path.rsplit('.', 1)[0]}.*" for path in model if "." in path]


def _unknown_rule(rule: Any) -> str:
    return (f"unknown rule {rule!r}; the rules are {', '.join(RULES)}."
            f"{did_you_mean(str(rule), RULES)}")
