"""YAML mappings: restructure source columns into canonical field paths (docs/mappings.md).

Operations: rename (``from``), several columns into a repeated field (``from: [a, b]``),
``join``, ``split`` + ``take``, ``constant``, and a ``lookup`` table. No expressions:
cleaning values is the standardizers' job, so it happens in one place. An XML record is
read by ``xpath`` fields instead of columns (prefixes under a top-level ``namespaces:``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from hub import __version__
from hub.errors import MappingError, MappingFailed
from hub.mapping.xslt_mapping import compile_xpath, xpath_texts
from hub.records import RawRecord, Target
from hub.schema_model import TARGETS, FieldSpec, Model, load_model
from hub.standardize.persian_text import header_key, text_key
from hub.suggest import did_you_mean
from hub.yamlfile import load_yaml

# Options a field takes by its XSD type (docs/mappings.md lists what each does).
_TYPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "calendar": ("Date", "AttributeValue"), "day_first": ("Date", "AttributeValue"),
    "year_pivot": ("Date", "AttributeValue"), "timezone": ("DateTime",),
    "area_code": ("Phone",), "country": ("PostalCode", "Phone"), "by_shape": ("NationalCode",),
}
_OPS = {"from", "join", "constant", "xpath", "with", "split", "take", "lookup", "default", "strict",
        *_TYPE_OPTIONS}
_TAKES = ("first", "last", "all_but_first", "all_but_last", "each")
_CALENDARS = ("auto", "jalali", "gregorian")
_TYPE_WORDS = {"Date": "dates", "DateTime": "date-times", "Phone": "phones",
               "PostalCode": "postal codes", "NationalCode": "national codes"}


@dataclass(frozen=True)
class Rule:
    """How one canonical target gets its values."""

    target: str
    columns: tuple[str, ...] = ()
    constant: str | None = None
    join_with: str | None = None         # set for join
    split_by: str | None = None          # set for split
    take: str | None = None
    lookup: dict[str, str] | None = None  # text_key(source value) -> canonical value
    default: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # calendar, day_first, timezone
    strict: bool = False   # a value that cannot be cleaned holds the whole record back
    xpath: etree.XPath | None = field(default=None, compare=False)  # XML records: the nodes
    one_value: bool = False   # an xpath field whose target holds one value

    @property
    def column_keys(self) -> tuple[str, ...]:
        return _keys(self.columns)


@dataclass(frozen=True)
class Mapping:
    """A checked mapping; ``apply`` turns a raw record into target -> raw strings."""

    path: Path
    target: Target
    rules: tuple[Rule, ...]
    fingerprint: str   # changes when the file or Peyvand's version does: reprocess then

    @property
    def model(self) -> Model:
        return load_model(self.target)

    @property
    def strict(self) -> frozenset[str]:
        """Targets whose bad value holds the whole record back (``strict: true``)."""
        return frozenset(r.target for r in self.rules if r.strict)

    @property
    def options(self) -> dict[str, dict[str, Any]]:
        return {r.target: r.options for r in self.rules if r.options}

    def apply(self, record: RawRecord, *, sparse: bool = False) -> dict[str, list[str]]:
        """Values per target, as raw text; empty cells are left out. ``sparse``: a
        column the record lacks is empty (a pushed request names only its fields)."""
        if isinstance(record.data, etree._Element):
            return self._apply_xml(record, record.data)
        if any(rule.xpath is not None for rule in self.rules):
            raise MappingFailed("this record is a row of columns; this mapping reads XML "
                                "records (xpath fields)")
        columns = _column_index(tuple(record.data))
        out: dict[str, list[str]] = {}
        for rule in self.rules:
            cells = [_text(record.data[columns[c]]) if c in columns
                     else self._missing(c, record, sparse) for c in rule.column_keys]
            values = self._values(rule, cells, record)
            if values:
                out.setdefault(rule.target, []).extend(values)
        return out

    def _apply_xml(self, record: RawRecord, element: etree._Element) -> dict[str, list[str]]:
        if any(rule.columns for rule in self.rules):
            raise MappingFailed("this record is an XML document and this YAML mapping reads "
                                "columns (from, join): read XML by xpath fields, or with an "
                                "XSLT mapping")
        out: dict[str, list[str]] = {}
        for rule in self.rules:
            cells: list[str | None] = []
            if rule.xpath is not None:
                cells = list(xpath_texts(rule.xpath, element))
            values = self._values(rule, cells, record)
            if rule.one_value and len(set(values)) > 1:
                shown = ", ".join(repr(v) for v in dict.fromkeys(values))
                raise MappingFailed(f"{rule.target} holds one value and xpath "
                                    f"{rule.xpath.path if rule.xpath else ''!r} found "
                                    f"{len(set(values))}: {shown}; select one (e.g. [1])",
                                    field=rule.target, record=record.source_id)
            if values:
                out.setdefault(rule.target, []).extend(values[:1] if rule.one_value else values)
        return out

    def _missing(self, key: str, record: RawRecord, sparse: bool) -> str | None:
        """A column the record lacks: empty in a sparse record, else the mapping is wrong."""
        if sparse:
            return None
        name = next(c for r in self.rules for c in r.columns if header_key(c) == key)
        known = ", ".join(repr(c) for c in record.data)
        raise MappingError(str(self.path), [
            f"column {name!r} is not in the source ({record.location or record.source_id});"
            f" its columns are: {known}"])

    def _values(self, rule: Rule, cells: list[str | None], record: RawRecord) -> list[str]:
        if rule.constant is not None:
            return [rule.constant]
        present = [c for c in cells if c]
        if rule.join_with is not None:
            present = [rule.join_with.join(present)] if present else []
        elif rule.split_by is not None and present:
            present = _take(present[0].split(rule.split_by), rule.take)
        if rule.lookup is None:
            return present
        mapped = []
        for value in present:
            hit = rule.lookup.get(text_key(value), rule.default)
            if hit is None:
                known = ", ".join(sorted(rule.lookup))
                source = (f"column {rule.columns[0]!r}" if rule.columns else
                          f"xpath {rule.xpath.path if rule.xpath else ''!r}")
                raise MappingFailed(f"value {value!r} of {source} is not in "
                                    f"the lookup table (known: {known})", field=rule.target,
                                    record=record.source_id)
            mapped.append(hit)
        return mapped


def _take(parts: list[str], take: str | None) -> list[str]:
    parts = [p for p in (s.strip() for s in parts) if p]
    if take == "each":   # a list in one cell: every part is a value of its own
        return parts
    if len(parts) < 2:
        # One word: it is the given name if we take the start, else nothing.
        return parts if take in ("first", "all_but_last") else []
    chosen = {"first": parts[:1], "last": parts[-1:], "all_but_first": parts[1:],
              "all_but_last": parts[:-1]}[take or "first"]
    return [" ".join(chosen)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


@functools.cache
def _keys(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(header_key(c) for c in columns)


_index_cache: dict[tuple[str, ...], dict[str, str]] = {}


def _column_index(header: tuple[str, ...]) -> dict[str, str]:
    """Source header names by their key: ``كد ملي`` finds ``کد ملی`` (``header_key``)."""
    index = _index_cache.get(header)
    if index is None:
        index = _index_cache[header] = {header_key(h): h for h in header}
    return index


def load_yaml_mapping(path: Path, model: Model | None = None,
                      attributes: MappingABC[str, str] | None = None) -> Mapping:
    """Read ``path`` and check every rule against the XSD; raise MappingError listing all.

    ``attributes`` are the custom attributes config.yaml declares (name -> type): a
    mapping may fill ``attributes.attribute:<name>`` for those.
    """
    try:
        doc = load_yaml(path.read_text(encoding="utf-8"))   # refuses alias bombs
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(str(path), [f"cannot read the file: {exc}"]) from exc
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("fields"), dict):
        raise MappingError(str(path), ["expected a mapping with a 'fields:' table"])
    target = str(doc.get("target", "customer"))
    if target not in TARGETS:
        raise MappingError(str(path), [f"target: {target!r} is not a target; use one of "
                                       f"{', '.join(TARGETS)}.{did_you_mean(target, TARGETS)}"])
    model = model or load_model(target)
    unknown_top = set(doc) - {"target", "fields", "description", "namespaces"}
    problems += [f"{k}: unknown key" for k in sorted(unknown_top)]
    namespaces = _namespaces(doc.get("namespaces", {}), problems)
    rules = []
    for target, spec in doc["fields"].items():
        rule = _check_rule(str(target), spec, model, problems, attributes or {}, namespaces)
        if rule:
            rules.append(rule)
    specs = [s for s in doc["fields"].values() if isinstance(s, dict)]
    if any("xpath" in s for s in specs) and any("from" in s or "join" in s for s in specs):
        problems.append("fields: a mapping reads columns (from, join) or XML (xpath), "
                        "not both")
    if problems:
        raise MappingError(str(path), problems)
    text = path.read_bytes() + __version__.encode()
    return Mapping(path, Target(model.root), tuple(rules),
                   hashlib.sha256(text).hexdigest()[:16])


def _check_rule(target: str, spec: Any, model: Model, problems: list[str],
                attributes: MappingABC[str, str],
                namespaces: MappingABC[str, str] | None = None) -> Rule | None:
    where = f"fields.{target}"
    path, _, qualifier = target.partition(":")
    fspec = model.fields.get(path)
    if fspec is None:
        problems.append(f"{where}: {path!r} is not a field of {model.root}.xsd."
                        f"{did_you_mean(path, model.fields)}")
        return None
    if fspec.qualifier_attr and not fspec.qualifiers:   # a free name: a custom attribute
        if qualifier not in attributes:
            declared = ", ".join(sorted(attributes)) or "none"
            problems.append(f"{where}: {qualifier!r} is not an attribute declared in "
                            f"config.yaml (attributes: {declared})."
                            f"{did_you_mean(qualifier, attributes)}")
    elif qualifier and (problem := fspec.qualifier_problem(qualifier)):
        problems.append(f"{where}: {problem}")
    if not isinstance(spec, dict):
        problems.append(f"{where}: expected a table like {{from: column}}, got {spec!r}")
        return None
    for key in sorted(set(spec) - _OPS):
        problems.append(f"{where}: unknown key {key!r}.{did_you_mean(key, _OPS)}")
    sources = [k for k in ("from", "join", "constant", "xpath") if k in spec]
    if len(sources) != 1:
        problems.append(f"{where}: give exactly one of from, join, constant "
                        f"(got {', '.join(sources) or 'none'}), or xpath for XML records")
        return None
    kind = sources[0]
    columns = _columns(spec.get(kind)) if kind in ("from", "join") else ()
    _check_operations(where, spec, kind, columns, fspec, problems)
    lookup = spec.get("lookup")
    if lookup is not None and not isinstance(lookup, dict):
        problems.append(f"{where}: lookup must be a table of source value: canonical value")
        lookup = None
    canonical = [*(lookup or {}).values(), *([spec["constant"]] if kind == "constant" else []),
                 *([spec["default"]] if "default" in spec else [])]
    for value in canonical:
        if not fspec.accepts(str(value)):
            problems.append(f"{where}: {value!r} is not a valid {path} in {model.root}.xsd")
    options = _type_options(where, spec, fspec, problems)
    if qualifier in attributes and fspec.qualifier_attr and not fspec.qualifiers:
        options["attribute_type"] = attributes[qualifier]
    return Rule(
        target=target,
        columns=columns,
        constant=str(spec["constant"]) if kind == "constant" else None,
        join_with=str(spec.get("with", " ")) if kind == "join" else None,
        split_by=str(spec["split"]) if "split" in spec else None,
        take=spec.get("take"),
        lookup={text_key(str(k)): str(v) for k, v in lookup.items()} if lookup else None,
        default=str(spec["default"]) if "default" in spec else None,
        options=options,
        strict=_strict(where, spec, problems),
        xpath=_xpath(where, spec, namespaces or {}, problems) if kind == "xpath" else None,
        one_value=kind == "xpath" and not fspec.repeated,
    )


def _check_operations(where: str, spec: dict[str, Any], kind: str, columns: tuple[str, ...],
                      fspec: FieldSpec, problems: list[str]) -> None:
    """Whether the operations of one rule go together."""
    if kind in ("from", "join") and not columns:
        problems.append(f"{where}: {kind} needs a column name or a list of them")
    if kind == "from" and len(columns) > 1 and not fspec.repeated:
        problems.append(f"{where}: {fspec.path} holds one value; several columns need 'join'")
    if ("split" in spec) != ("take" in spec) or ("split" in spec and kind != "from"):
        problems.append(f"{where}: split goes with take and one 'from' column")
    if "take" in spec and spec["take"] not in _TAKES:
        problems.append(f"{where}: take must be one of {', '.join(_TAKES)}")
    if "with" in spec and kind != "join":
        problems.append(f"{where}: 'with' goes with 'join'")


def _type_options(where: str, spec: dict[str, Any], fspec: FieldSpec,
                  problems: list[str]) -> dict[str, Any]:
    """The options a field's type takes (calendar, day_first, timezone), checked."""
    options = {k: spec[k] for k in _TYPE_OPTIONS if k in spec}
    for key in options:
        if fspec.type_name not in _TYPE_OPTIONS[key]:
            problems.append(f"{where}: {key} applies to {_TYPE_WORDS[_TYPE_OPTIONS[key][0]]} "
                            "only")
    if options.get("calendar", "auto") not in _CALENDARS:
        problems.append(f"{where}: calendar must be one of {', '.join(_CALENDARS)}")
    return options


def _xpath(where: str, spec: dict[str, Any], namespaces: MappingABC[str, str],
           problems: list[str]) -> etree.XPath | None:
    """An xpath field's expression, compiled against the mapping's namespaces."""
    expression = spec["xpath"]
    if not isinstance(expression, str) or not expression.strip():
        problems.append(f"{where}: xpath must be an XPath expression, got {expression!r}")
        return None
    try:
        return compile_xpath(expression, namespaces)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return None


def _namespaces(value: Any, problems: list[str]) -> dict[str, str]:
    """``namespaces: {prefix: URI}``, for the xpath fields."""
    if not isinstance(value, MappingABC) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()):
        problems.append("namespaces: must be a table of prefix: namespace URI")
        return {}
    return dict(value)


def _strict(where: str, spec: dict[str, Any], problems: list[str]) -> bool:
    value = spec.get("strict", False)
    if not isinstance(value, bool):
        problems.append(f"{where}: strict must be true or false, got {value!r}")
        return False
    return value


def _columns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, MappingABC):
        return tuple(str(v) for v in value)
    return ()
