"""Typed settings: a frozen dataclass per module, checked with every problem listed.

Each module owns its settings (``StoreSettings`` in ``hub.store``, ``BusSettings`` in
``hub.bus``, an adapter's ``Settings``...). ``parse_settings`` builds one from a plain
mapping (a section of ``config.yaml``, a pipeline's ``options``) and reports unknown,
missing and mistyped keys all at once, each with the key's dotted name.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing as t
from collections.abc import Mapping

from hub.errors import ConfigError
from hub.suggest import did_you_mean

S = t.TypeVar("S")


def parse_settings(settings_cls: type[S], options: Mapping[str, t.Any], *, where: str,
                   prefix: str = "options") -> S:
    """Check ``options`` against ``settings_cls``; raise ConfigError listing every problem.

    Args:
        settings_cls: a dataclass; its field types say what each key accepts.
        options: the values given.
        where: the file or section named in the error.
        prefix: how a key is named in messages (``options.path``, ``store.url``).
    """
    problems = settings_problems(settings_cls, options, prefix=prefix)
    if problems:
        raise ConfigError(where, problems)
    return settings_cls(**{k: _coerce(v, _hints(settings_cls)[k])
                           for k, v in options.items()})


_SECRET = re.compile(r"password|secret|token|api_key", re.IGNORECASE)


def well_typed(settings_cls: type, options: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The known keys of ``options`` whose values have the right type."""
    hints = _hints(settings_cls)
    return {k: v for k, v in options.items() if k in hints and _fits(v, hints[k])}


def settings_problems(settings_cls: type, options: Mapping[str, t.Any], *,
                      prefix: str) -> list[str]:
    """What is wrong with ``options`` for ``settings_cls`` (empty when nothing)."""
    fields = {f.name: f for f in dataclasses.fields(settings_cls)}
    hints = _hints(settings_cls)
    problems = [f"{prefix}.{key}: unknown setting.{did_you_mean(str(key), fields)}"
                for key in options if key not in fields]
    for name, f in fields.items():
        if name not in options:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"{prefix}.{name}: required setting is missing.")
        elif not _fits(options[name], hints[name]):
            # a secret typed in the wrong place is not repeated into logs and terminals
            shown = "a value" if _SECRET.search(name) else repr(options[name])
            problems.append(f"{prefix}.{name}: expected {type_name(hints[name])}, "
                            f"got {shown}.")
    return problems


def describe_settings(settings_cls: type) -> list[tuple[str, str, str]]:
    """(name, type, default) of each setting, for ``peyvand adapters`` and the docs."""
    hints = _hints(settings_cls)
    rows = []
    for f in dataclasses.fields(settings_cls):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "required"
        rows.append((f.name, type_name(hints[f.name]), default))
    return rows


def _hints(settings_cls: type) -> dict[str, t.Any]:
    return t.get_type_hints(settings_cls)


def _fits(value: t.Any, hint: t.Any) -> bool:
    origin, args = t.get_origin(hint), t.get_args(hint)
    if origin in (t.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if origin is t.Literal:
        return value in args
    if hint is t.Any:
        return True
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):  # list[str], tuple[str, ...]: a YAML list of those
        return isinstance(value, list | tuple) and all(_fits(v, args[0]) for v in value)
    if origin in (dict, Mapping):
        return isinstance(value, Mapping)
    return isinstance(value, origin or hint)


def _coerce(value: t.Any, hint: t.Any) -> t.Any:
    # YAML gives lists; frozen settings hold tuples so they stay hashable and read-only.
    if t.get_origin(hint) in (t.Union, types.UnionType):
        fitting = [a for a in t.get_args(hint) if a is not type(None) and _fits(value, a)]
        return _coerce(value, fitting[0]) if fitting else value
    if t.get_origin(hint) is tuple and isinstance(value, list):
        return tuple(value)
    if hint is float and isinstance(value, int):
        return float(value)
    return value


_NAMES = {int: "a whole number", float: "a number", str: "text", bool: "true or false",
          type(None): "nothing"}


def type_name(hint: t.Any) -> str:
    """What a setting of type ``hint`` accepts, in words: ``a list of text``."""
    origin, args = t.get_origin(hint), t.get_args(hint)
    if origin is t.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (t.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {type_name(args[0])}"
    if origin in (dict, Mapping):
        return "keys and values"
    return _NAMES.get(hint) or getattr(hint, "__name__", None) or str(hint)
