"""The source adapters, found by name and imported only when asked for."""

from __future__ import annotations

import difflib
import importlib

from adapters.base import Adapter
from hub.errors import ConfigError

ADAPTERS: dict[str, str] = {
    "spreadsheet": "adapters.spreadsheet:SpreadsheetAdapter",
}

__all__ = ["ADAPTERS", "Adapter", "get_adapter_class"]


def get_adapter_class(name: str, *, where: str = "pipeline") -> type[Adapter]:
    """The adapter class registered as ``name``; a typo gets a suggestion."""
    try:
        dotted = ADAPTERS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ADAPTERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(where, [f"adapter: no adapter {name!r}.{hint} Known: {known}."]) \
            from None
    module_name, _, class_name = dotted.partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module_name), class_name)
    return cls
