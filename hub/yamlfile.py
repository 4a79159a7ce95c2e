"""YAML for configuration, pipelines and mappings: safe, and without aliases.

An alias (``*name``) repeats a node by reference, so nine nested lists of nine aliases
(an "alias bomb", a few hundred bytes) become 387 million items once walked: 2.9 GB for
a 577-byte config.yaml. Nothing Peyvand reads needs them, so the loader refuses every
alias when it meets it, before anything is built. A key written twice in one mapping
is refused too: YAML would keep the last one silently.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise ComposerError(None, None, "YAML aliases (*name) are not accepted in "
                                "Peyvand's files: write the value out where it is used",
                                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise ConstructorError(None, None, f"the key {key!r} is written twice: keep "
                                       "one", key_node.start_mark)
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """The YAML document ``text``, as ``yaml.safe_load`` reads it, refusing aliases.

    Raises:
        yaml.YAMLError: the text is not YAML, or it holds an alias.
    """
    return yaml.load(text, Loader=_NoAliasLoader)
