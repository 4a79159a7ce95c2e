"""XSLT mappings: a stylesheet in ``mappings/`` turns one XML record into canonical fields.

The contract (docs/adapters.md, section "xml_files", has it with an example):

* **In**: the record's element, as the root of a document of its own: ``/*`` (or
  ``/cac:Party``) is the record, and nothing outside it can be reached. That is what a
  quarantined record is when it is replayed, so a stylesheet behaves the same both times.
* **Out**: ``<fields><field path="name.full">raw text</field>...</fields>``: one
  ``field`` per value, its ``path`` a field of the target's schema as in a YAML mapping
  (``phones.phone:mobile``), its text raw. Empty fields are left out; a path repeated
  gives several values (repeated fields only). Cleaning stays in ``hub/standardize``.
* **Declarations**, top-level elements in ``urn:peyvand:mapping:v1`` (XSLT ignores them):
  ``<pv:target>interaction</pv:target>`` (default ``customer``) and
  ``<pv:options path="birthDate" calendar="jalali" strict="true"/>`` (the options a YAML
  field takes).
* **Sandbox**: parsed without entities, DTDs or network; run with
  ``XSLTAccessControl.DENY_ALL`` and no Python extensions; ``xsl:include``,
  ``xsl:import``, ``document()`` and extension elements are refused when it loads.

At load time every literal ``path`` is checked against the XSD (all problems at once,
with "did you mean"); a path computed at run time is checked per record, and a bad one,
like a stylesheet that fails on a record, quarantines that record (MappingFailed).

The XML helpers here (a hardened parser, XPath compiled and probed) also serve the YAML
mappings' ``xpath`` fields and the ``xml_files`` adapter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from hub import __version__
from hub.errors import MappingError, MappingFailed
from hub.records import RawRecord, Target
from hub.schema_model import TARGETS, Model, load_model
from hub.suggest import did_you_mean

if TYPE_CHECKING:
    from hub.mapping.yaml_mapping import Rule

__all__ = ["PV_NS", "XML_PARSER", "XsltMapping", "compile_xpath", "dtd_problem",
           "load_xslt_mapping", "path_problem", "syntax_problem", "xpath_texts"]

PV_NS = "urn:peyvand:mapping:v1"
_XSL = "http://www.w3.org/1999/XSL/Transform"

# Untrusted XML (source files, stylesheets): no entities, DTDs, network or huge trees.
# Unlike hub.schema_model.HARDENED_PARSER it keeps blank text: <xsl:text> </xsl:text>
# is a space a stylesheet means.
XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
_PROBE = etree.Element("probe")
_DOCUMENT_CALL = re.compile(r"\bdocument\s*\(")
_BOOL_OPTIONS = ("strict", "day_first", "by_shape")


def dtd_problem(tree: etree._ElementTree) -> str | None:
    """Why a parsed document is refused for its DTD, or None.

    Entity and element declarations live in the internal subset: that is where an
    external entity (a local file, a URL) or a billion-laughs bomb is declared. They are
    never expanded here, but a document that declares them is refused outright. A
    DOCTYPE that only names an external DTD (cXML does) is read; the DTD is not loaded.
    """
    dtd = tree.docinfo.internalDTD
    if dtd is None or not (any(True for _ in dtd.iterentities())
                           or any(True for _ in dtd.iterelements())):
        return None
    return ("it declares a DTD with entities or elements (<!DOCTYPE ... [ ... ]>), "
            "which is refused: declarations are how XML reads local files, reaches the "
            "network or explodes in memory. Export it without an internal DTD")


def syntax_problem(exc: etree.XMLSyntaxError) -> str:
    """libxml2's complaint with its line and column: ``line 3, column 5: ...``."""
    line, column = exc.position
    message = re.sub(r", line \d+, column \d+$", "", exc.msg or str(exc))
    return f"line {line}, column {column}: {message}"


def compile_xpath(expression: str, namespaces: MappingABC[str, str]) -> etree.XPath:
    """The expression compiled; ValueError with a sentence when it cannot be used.

    It is evaluated once on an empty element: an undefined prefix or an unknown function
    only shows then, and should show when the configuration is checked.
    """
    try:
        xpath = etree.XPath(expression, namespaces=dict(namespaces), regexp=False,
                            smart_strings=False)
        xpath(_PROBE)
    except (etree.XPathError, TypeError, ValueError) as exc:
        hint = "; declare every prefix it uses under namespaces" if "prefix" in str(exc) \
            else ""
        raise ValueError(f"{expression!r} is not a usable XPath expression ({exc}){hint}") \
            from None
    return xpath


def xpath_texts(xpath: etree.XPath, element: etree._Element) -> list[str]:
    """The values ``xpath`` selects from ``element``: each node's text, or the string,
    number or boolean it computes; stripped, empty ones left out."""
    result = xpath(element)
    items = result if isinstance(result, list) else [result]
    texts = []
    for item in items:
        if isinstance(item, etree._Element):
            text = "".join(item.itertext())
        elif isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, float):
            text = "" if item != item else str(int(item)) if item.is_integer() else str(item)
        else:
            text = str(item)
        if text := text.strip():
            texts.append(text)
    return texts


def path_problem(target: str, model: Model, attributes: MappingABC[str, str]) -> str | None:
    """What is wrong with a canonical field path (``phones.phone:mobile``), or None."""
    path, _, qualifier = target.partition(":")
    spec = model.fields.get(path)
    if spec is None:
        return f"{path!r} is not a field of {model.root}.xsd.{did_you_mean(path, model.fields)}"
    if spec.qualifier_attr and not spec.qualifiers:   # a free name: a custom attribute
        if qualifier not in attributes:
            declared = ", ".join(sorted(attributes)) or "none"
            return (f"{qualifier!r} is not an attribute declared in config.yaml "
                    f"(attributes: {declared}).{did_you_mean(qualifier, attributes)}")
    elif qualifier:
        return spec.qualifier_problem(qualifier)
    return None


@dataclass(frozen=True)
class XsltMapping:
    """A checked stylesheet; ``apply`` turns an XML record into target -> raw strings."""

    path: Path
    target: Target
    fingerprint: str   # changes when the file or Peyvand's version does: reprocess then
    transform: etree.XSLT = field(compare=False, repr=False)
    attributes: MappingABC[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    strict: frozenset[str] = frozenset()
    rules: tuple[Rule, ...] = ()   # no columns: ``peyvand check`` compares none
    # Paths computed at run time found valid: a stylesheet gives the same few every record.
    _checked: set[str] = field(default_factory=set, compare=False, repr=False)

    @property
    def model(self) -> Model:
        return load_model(self.target)

    def apply(self, record: RawRecord, *, sparse: bool = False) -> dict[str, list[str]]:
        """Values per field path, as raw text; a failure names the record."""
        if not isinstance(record.data, etree._Element):
            raise MappingFailed("this record is a row of columns; an XSLT mapping reads XML "
                                "records, so map it with a YAML mapping",
                                record=record.source_id)
        try:
            result = self.transform(record.data)
        except etree.XSLTError as exc:
            # libxslt sometimes raises "unknown error" and says what in its log (runaway
            # recursion); the log belongs to this run of the transform.
            detail = str(exc)
            if detail in ("", "unknown error"):
                detail = "; ".join(_log_lines(self.transform.error_log)[:2]) or detail
            raise MappingFailed(f"the stylesheet {self.path.name} failed on this record: "
                                f"{detail}", record=record.source_id) from exc
        root = result.getroot()
        if root is None or not isinstance(root.tag, str) or \
                etree.QName(root).localname != "fields":
            raise MappingFailed(f"the stylesheet {self.path.name} gave no <fields> element "
                                "for this record (docs/adapters.md, xml_files, says what it "
                                "must give)", record=record.source_id)
        return self._values(root, record)

    def _values(self, root: etree._Element, record: RawRecord) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for child in root.iterchildren(tag=etree.Element):
            target, local = (child.get("path") or "").strip(), etree.QName(child).localname
            if local != "field" or not target:
                raise MappingFailed(f"the stylesheet {self.path.name} gave <{local}> where a "
                                    "<field path=\"...\"> belongs",
                                    record=record.source_id)
            self._check(target, record)
            if text := "".join(child.itertext()).strip():
                out.setdefault(target, []).append(text)
        for target, values in out.items():
            if not self.model.fields[target.partition(":")[0]].repeated:
                distinct = list(dict.fromkeys(values))
                if len(distinct) > 1:
                    shown = ", ".join(repr(v) for v in distinct)
                    raise MappingFailed(f"{target} holds one value and the stylesheet gave "
                                        f"{len(distinct)}: {shown}; select one (e.g. [1])",
                                        field=target, record=record.source_id)
                out[target] = distinct
        return out

    def _check(self, target: str, record: RawRecord) -> None:
        if target in self._checked:
            return
        problem = path_problem(target, self.model, self.attributes)
        if problem is not None:
            raise MappingFailed(f"the stylesheet {self.path.name} gave field path "
                                f"{target!r}: {problem}", field=target, record=record.source_id)
        self._checked.add(target)


def load_xslt_mapping(path: Path, attributes: MappingABC[str, str] | None = None
                      ) -> XsltMapping:
    """Read, check and compile the stylesheet at ``path``; MappingError lists every problem.

    Nothing in the file is fetched: includes, ``document()`` and extension elements are
    refused before it is compiled, and it runs with every file and network access denied.
    """
    attributes = attributes or {}
    try:
        data = path.read_bytes()
        tree = etree.fromstring(data, XML_PARSER).getroottree()
    except OSError as exc:
        raise MappingError(str(path), [f"cannot read the file: {exc}"]) from exc
    except etree.XMLSyntaxError as exc:
        raise MappingError(str(path), [f"not well-formed XML: {syntax_problem(exc)}"]) from exc
    problems = _sandbox_problems(tree)
    refused = bool(problems)
    target = _target(tree.getroot(), problems)
    model = load_model(target)
    options, strict = _options(tree.getroot(), model, problems)
    problems += _literal_path_problems(tree.getroot(), model, attributes)
    if refused:   # never compiled: compiling is what would fetch an include
        raise MappingError(str(path), problems)
    try:
        transform = etree.XSLT(tree, access_control=etree.XSLTAccessControl.DENY_ALL,
                               regexp=False)
    except etree.XSLTParseError as exc:
        problems += _compile_problems(exc)
    if problems:
        raise MappingError(str(path), problems)
    for name, kind in attributes.items():   # custom attributes are cleaned by their type
        options.setdefault(f"attributes.attribute:{name}", {})["attribute_type"] = kind
    return XsltMapping(path, Target(target), hashlib.sha256(data + __version__.encode())
                       .hexdigest()[:16], transform, dict(attributes), options, strict)


def _sandbox_problems(tree: etree._ElementTree) -> list[str]:
    """What makes a stylesheet reach beyond its record: refused before compiling."""
    root = tree.getroot()
    problems = []
    if (dtd := dtd_problem(tree)) is not None:
        problems.append(dtd)
    if root.tag not in (f"{{{_XSL}}}stylesheet", f"{{{_XSL}}}transform"):
        problems.append(f"the root element is <{etree.QName(root).localname}>; an XSLT "
                        f"mapping is an <xsl:stylesheet version=\"1.0\"> (xmlns:xsl=\"{_XSL}\")")
    for el in root.iter(f"{{{_XSL}}}include", f"{{{_XSL}}}import"):
        problems.append(f"line {el.sourceline}: xsl:{etree.QName(el).localname} is not "
                        "allowed: a mapping is one self-contained file")
    for el in root.iter(tag=etree.Element):
        for name, value in el.attrib.items():
            local = etree.QName(name).localname
            if local == "extension-element-prefixes" and (el is root or name.startswith("{")):
                problems.append(f"line {el.sourceline}: extension elements are not allowed "
                                "(they write files and call out)")
            elif _DOCUMENT_CALL.search(value):
                problems.append(f"line {el.sourceline}: document() is not allowed: a "
                                "mapping reads only its record")
    return problems


def _target(root: etree._Element, problems: list[str]) -> str:
    declared = root.findall(f"{{{PV_NS}}}target")
    if len(declared) > 1:
        problems.append(f"line {declared[1].sourceline}: pv:target is declared twice")
    target = (declared[0].text or "").strip() if declared else "customer"
    if target not in TARGETS:
        problems.append(f"line {declared[0].sourceline}: pv:target {target!r} is not a target;"
                        f" use one of {', '.join(TARGETS)}.{did_you_mean(target, TARGETS)}")
        return "customer"   # go on checking the paths against something
    return target


def _options(root: etree._Element, model: Model, problems: list[str]
             ) -> tuple[dict[str, dict[str, Any]], frozenset[str]]:
    """``<pv:options path=... calendar=... strict=.../>``: checked as a YAML field's."""
    # yaml_mapping reads XPath with this module's helpers: import it when loading.
    from hub.mapping.yaml_mapping import _type_options

    known = ("target", "options")
    for el in root.iterchildren(f"{{{PV_NS}}}*"):
        if (local := etree.QName(el).localname) not in known:
            problems.append(f"line {el.sourceline}: unknown declaration pv:{local}."
                            f"{did_you_mean(local, known)}")
    options: dict[str, dict[str, Any]] = {}
    strict = set()
    for el in root.iterchildren(f"{{{PV_NS}}}options"):
        where = f"line {el.sourceline}: pv:options"
        target = el.get("path", "")
        fspec = model.fields.get(target.partition(":")[0])
        if fspec is None:
            problems.append(f"{where}: path {target!r} is not a field of {model.root}.xsd."
                            f"{did_you_mean(target, model.fields)}")
            continue
        spec = _option_values(el, where, problems)
        if spec.pop("strict", False):
            strict.add(target)
        if found := _type_options(where, spec, fspec, problems):
            options[target] = found
    return options, frozenset(strict)


def _option_values(el: etree._Element, where: str, problems: list[str]) -> dict[str, Any]:
    """The attributes of one ``pv:options`` as the values a YAML field would hold."""
    from hub.mapping.yaml_mapping import _TYPE_OPTIONS

    allowed = ("path", *_BOOL_OPTIONS, *_TYPE_OPTIONS)
    spec: dict[str, Any] = {}
    for key, text in el.attrib.items():
        if key not in allowed:
            problems.append(f"{where}: unknown option {key!r}.{did_you_mean(str(key), allowed)}")
        elif key in _BOOL_OPTIONS:
            spec[key] = text == "true"
            if text not in ("true", "false"):
                problems.append(f"{where}: {key} must be true or false, got {text!r}")
        elif key == "year_pivot":
            spec[key] = int(text) if text.isdigit() else 30
            if not text.isdigit():
                problems.append(f"{where}: year_pivot must be a whole number, got {text!r}")
        elif key != "path":
            spec[key] = text
    return spec


def _literal_path_problems(root: etree._Element, model: Model,
                           attributes: MappingABC[str, str]) -> list[str]:
    """Every ``<field path="...">`` written out literally, checked against the XSD; a
    computed one (``path="{...}"``, ``xsl:attribute``) is checked per record."""
    problems = []
    for el in root.iter(tag=etree.Element):
        path = el.get("path")
        if (path is None or etree.QName(el).localname != "field"
                or etree.QName(el).namespace in (_XSL, PV_NS) or "{" in path):
            continue
        if (problem := path_problem(path.strip(), model, attributes)) is not None:
            problems.append(f"line {el.sourceline}: field path {path!r}: {problem}")
    return problems


def _compile_problems(exc: etree.XSLTParseError) -> list[str]:
    return ([f"{line.partition(': ')[0]}: the stylesheet does not compile: "
             f"{line.partition(': ')[2]}" for line in _log_lines(exc.error_log)]
            or [f"the stylesheet does not compile: {exc}"])


def _log_lines(log: etree._ListErrorLog) -> list[str]:
    """libxslt says where (``compilation error, element 'value-of'`` with a line) and
    then what (without one): ``line 4: <what>`` for each, generic messages left out."""
    lines, line = [], 0
    for entry in log:
        message = entry.message.splitlines()[0] if entry.message else ""
        if entry.line:
            line = entry.line
        elif line and message not in ("Invalid expression", "unknown error", ""):
            lines.append(f"line {line}: {message}")
    return list(dict.fromkeys(lines))
