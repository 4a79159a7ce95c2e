"""The source adapters, found by name and imported only when asked for.

Adapters of this repository are listed in ``ADAPTERS`` (alias -> ``module:Class``, the
kombu pattern); adapters from other packages register under the entry-point group
``peyvand.adapters`` (``my-adapter = "my_package.module:MyAdapter"``). An entry point
never replaces a built-in adapter of the same name.
"""

from __future__ import annotations

import functools
import importlib
import sys
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # hub imports this package: importing hub here would be circular
    from hub.adapter import Adapter

ENTRY_POINT_GROUP = "peyvand.adapters"

ADAPTERS: dict[str, str] = {
    "email": "adapters.email:EmailAdapter",
    "inbox": "adapters.inbox:InboxAdapter",
    "spreadsheet": "adapters.spreadsheet:SpreadsheetAdapter",
    "sql": "adapters.sql:SqlAdapter",
    "xml_files": "adapters.xml_files:XmlFilesAdapter",
}

__all__ = ["ADAPTERS", "ENTRY_POINT_GROUP", "adapter_names", "get_adapter_class"]


def _registry() -> dict[str, str]:
    return dict(_registry_on(tuple(sys.path)))


@functools.lru_cache(maxsize=8)
def _registry_on(path: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # Reading every installed package's entry points takes milliseconds, and the serve
    # worker asks on every run: once per import path (a plugin installed later is found).
    plugins = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return tuple({**plugins, **ADAPTERS}.items())


def adapter_names() -> list[str]:
    """Every adapter that can be named in a pipeline, built-in and installed."""
    return sorted(_registry())


def get_adapter_class(name: str, *, where: str = "pipeline") -> type[Adapter]:
    """The adapter class registered as ``name``; a typo gets a suggestion."""
    from hub.adapter import Adapter
    from hub.errors import ConfigError
    from hub.suggest import did_you_mean

    registry = _registry()
    try:
        dotted = registry[name]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ConfigError(where, [f"adapter: no adapter {name!r}."
                                  f"{did_you_mean(name, registry)} Known: {known}."]) from None
    module_name, _, class_name = dotted.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(where, [f"adapter: {name!r} ({dotted}) cannot be loaded: {exc}"]) \
            from exc
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise ConfigError(where, [f"adapter: {dotted} is not a peyvand Adapter"])
    return cls
