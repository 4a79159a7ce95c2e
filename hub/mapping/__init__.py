"""Declarative source -> canonical mappings; the loader is picked by file extension.

``.yaml`` mappings restructure columns, or read XML records by ``xpath`` fields
(``hub.mapping.yaml_mapping``); ``.xslt`` stylesheets turn an XML record into fields
(``hub.mapping.xslt_mapping``). The pipeline sees either as a ``Mapping``.
"""

from __future__ import annotations

from collections.abc import Mapping as AbcMapping
from pathlib import Path
from typing import Any, Protocol

from hub.errors import MappingError
from hub.mapping.xslt_mapping import XsltMapping, load_xslt_mapping
from hub.mapping.yaml_mapping import Mapping as YamlMapping
from hub.mapping.yaml_mapping import Rule, load_yaml_mapping
from hub.records import RawRecord, Target
from hub.schema_model import Model

__all__ = ["Mapping", "XsltMapping", "YamlMapping", "load_mapping"]


class Mapping(Protocol):
    """What the pipeline (``Preparer``, the sink, ``peyvand check``) uses of a mapping."""

    @property
    def path(self) -> Path: ...
    @property
    def target(self) -> Target: ...
    @property
    def fingerprint(self) -> str:
        """Changes when the file or Peyvand's version does: records are prepared again."""
    @property
    def rules(self) -> tuple[Rule, ...]:
        """The column rules, for comparing with a source's header (none for XSLT)."""
    @property
    def model(self) -> Model: ...
    @property
    def options(self) -> dict[str, dict[str, Any]]:
        """Per field path, the standardizers' options (``calendar``, ``area_code``...)."""
    @property
    def strict(self) -> frozenset[str]:
        """Field paths whose bad value holds the whole record back."""

    def apply(self, record: RawRecord, *, sparse: bool = False) -> dict[str, list[str]]:
        """Raw values per field path; MappingFailed names what is wrong with the record.
        ``sparse``: a column the record lacks is empty, not a configuration error."""


def load_mapping(path: Path, attributes: AbcMapping[str, str] | None = None) -> Mapping:
    """Load and check the mapping at ``path``; every problem is listed at once.

    ``attributes``: the custom attributes config.yaml declares (name -> type).
    """
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml_mapping(path, attributes=attributes)
    if suffix in (".xslt", ".xsl"):
        return load_xslt_mapping(path, attributes=attributes)
    raise MappingError(str(path), [f"unknown mapping format {path.suffix!r}; use .yaml "
                                   "(columns, or XML by xpath fields) or .xslt (XML records)"])
