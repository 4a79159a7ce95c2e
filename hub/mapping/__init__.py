"""Declarative source -> canonical mappings; the loader is picked by file extension."""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from pathlib import Path

from hub.errors import MappingError
from hub.mapping.yaml_mapping import Mapping, load_yaml_mapping

__all__ = ["Mapping", "load_mapping"]


def load_mapping(path: Path, attributes: AbcMapping[str, str] | None = None) -> Mapping:
    """Load and check the mapping at ``path``; every problem is listed at once.

    ``attributes``: the custom attributes config.yaml declares (name -> type).
    """
    if path.suffix in (".yaml", ".yml"):
        return load_yaml_mapping(path, attributes=attributes)
    if path.suffix in (".xslt", ".xsl"):
        raise MappingError(str(path), ["XSLT mappings are not supported yet: they arrive "
                                       "with the ERP adapter. Use a YAML mapping."])
    raise MappingError(str(path), [f"unknown mapping format {path.suffix!r}; "
                                   "use .yaml (tabular and dict sources)"])
