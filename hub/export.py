"""Export the customer master for other systems (docs/exports.md).

* XML, valid against ``schemas/master.xsd``: each golden record as a canonical customer
  whose every value names the source record it came from.
* JSON Lines: one active customer per line, in the events' public shape, with its version.
* CSV: one row per customer; values exactly as stored unless asked to be spreadsheet-safe.
* The cross-reference: ``source_system,source_id,master_id``, keys exactly as stored.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import structlog
from lxml import etree
from sqlalchemy import Engine, select

from hub.errors import PeyvandError
from hub.events import public_customer, source_ref
from hub.schema_model import Model, load_model
from hub.store.engine import reading
from hub.store.tables import masters, source_records

log = structlog.get_logger("peyvand.export")


class ExportError(PeyvandError):
    """The master holds something an export format cannot carry."""


EXPORT_NS = "urn:peyvand:master:v1"
FORMATS = ("csv", "jsonl", "xml")
_CSV_COLUMNS = ("master_id", "version", "display_name", "kind", "nationalCode", "birthDate",
                "emails.email", "phones.phone:mobile", "phones.phone:landline",
                "addresses.address.city", "addresses.address.postalCode", "lifecycleStage",
                "sources")
# Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Digits a spreadsheet reads as a number and shortens: a leading zero (national codes such
# as 0012345678) is dropped, and 12 digits or more (economic codes) turn into 1.2E+13.
_SHORTENED_NUMBER = re.compile(r"0[0-9]+|[0-9]{12,}")
# What XML 1.0 cannot hold (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/FFFF),
# plus DEL and C1 controls, which it can but no reader wants raw (finding L10).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# JSON strings may hold these raw, but they end or break lines for many readers
# (str.splitlines, editors) and surrogates cannot be encoded: written as \\uXXXX escapes.
_JSON_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _masters(engine: Engine) -> Iterator[Any]:
    with reading(engine, "exporting the master") as conn:
        yield from conn.execution_options(yield_per=1000).execute(
            select(masters).where(masters.c.status == "active").order_by(masters.c.id))


@contextmanager
def opened(path: Path | None) -> Iterator[IO[str]]:
    """Where an export goes, as UTF-8 with newlines untranslated (CSV writes its own).

    A file appears at ``path`` only once complete, so a job picking it up never reads half
    an export and a failed export leaves the previous one in place; without ``path`` it is
    standard output.
    """
    if path is not None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("w", encoding="utf-8", newline="") as f:
                yield f
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:   # stdout replaced by a text-only stream (embedding code)
        yield sys.stdout
        return
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield out
    finally:
        out.flush()
        out.detach()   # standard output stays open


def write_master(engine: Engine, fmt: str, stream: IO[str], *,
                 spreadsheet_safe: bool = False) -> int:
    """The active customers in ``fmt`` (one of FORMATS); how many were written."""
    if fmt == "csv":
        return write_csv(engine, stream, spreadsheet_safe=spreadsheet_safe)
    if spreadsheet_safe:
        raise ValueError("spreadsheet_safe applies to the CSV export only")
    if fmt == "jsonl":
        return write_jsonl(engine, stream)
    if fmt == "xml":
        return write_xml(engine, stream)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


# -- CSV ----------------------------------------------------------------------------------

def safe_cell(value: str) -> str:
    """The text a spreadsheet program shows as it is, for files people open in one.

    OWASP's advice against formula injection: a leading ``'`` on a cell that would run as
    a formula, which also keeps +989121234567 from turning into a number; the same for
    digits that would lose a leading zero or turn into 1.2E+13. Control characters become
    U+FFFD. Lossy by design: exact exports never use it.
    """
    value = _CONTROL.sub("\ufffd", value)
    if value.startswith(_FORMULA_START) or _SHORTENED_NUMBER.fullmatch(value):
        return f"'{value}"
    return value


def _exact(value: str) -> str:
    return value


def write_csv(engine: Engine, stream: IO[str], *, spreadsheet_safe: bool = False) -> int:
    """One row per active customer; several values of a field joined by ``"; "``.

    Values are exactly as stored, unless ``spreadsheet_safe`` (safe_cell on every cell, and
    a byte order mark, without which Excel reads UTF-8 as the local code page).
    """
    cell: Callable[[str], str] = safe_cell if spreadsheet_safe else _exact
    if spreadsheet_safe:
        stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(_CSV_COLUMNS)
    n = 0
    for row in _masters(engine):
        fields = row.golden.get("fields", {})
        cells = [row.id, str(row.version), row.golden.get("display_name", "")]
        cells += ["; ".join(v["value"] for v in fields.get(c, ())) for c in _CSV_COLUMNS[3:-1]]
        cells.append("; ".join(row.golden.get("sources", [])))
        writer.writerow([cell(c) for c in cells])
        n += 1
    return n


def write_xref(engine: Engine, path: Path) -> int:
    """One row per accepted source record: source_system,source_id,master_id.

    Keys are written exactly as stored, never escaped: they are for joining, and an id
    such as ``+98...`` or ``=12`` must still match the source system's.
    """
    n = 0
    with opened(path) as f, reading(engine, "exporting the cross-reference") as conn:
        writer = csv.writer(f)
        writer.writerow(["source_system", "source_id", "master_id"])
        # Open links only: a record its source says is gone links to no one any more.
        query = select(source_records.c.source_system, source_records.c.source_id,
                       source_records.c.master_id).where(
            source_records.c.closed_at.is_(None)).order_by(source_records.c.id)
        for system, source_id, master_id in conn.execution_options(yield_per=5000).execute(query):
            writer.writerow([system, source_id, master_id])
            n += 1
    return n


# -- JSON Lines ---------------------------------------------------------------------------

def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def write_jsonl(engine: Engine, stream: IO[str]) -> int:
    """One JSON object per active customer and line: hub.events.public_customer and
    ``version``. Every value is exact; unusual characters are escaped, never dropped."""
    n = 0
    for row in _masters(engine):
        doc = {"id": row.id, "version": row.version} | public_customer(
            row.id, row.status, row.golden)
        # Only string contents can hold these characters, so escaping the line is safe.
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        stream.write(_JSON_ESCAPED.sub(_json_escape, line) + "\n")
        n += 1
    return n


# -- XML ----------------------------------------------------------------------------------

class _XmlText:
    """Text for XML 1.0. What it cannot hold (and DEL, C1) becomes U+FFFD: standardized
    values should hold none, but a store written by an earlier version may (finding L10)."""

    def __init__(self, customer: str) -> None:
        self.customer = customer

    def __call__(self, text: str, field: str) -> str:
        clean, replaced = _CONTROL.subn("\ufffd", text)
        if replaced:
            log.warning("control characters replaced by U+FFFD in the XML export",
                        customer=self.customer, field=field, count=replaced)
        return clean


def _lineage(ref: str, text: _XmlText) -> dict[str, str]:
    source = source_ref(ref)
    return {"sourceSystem": text(source["system"], "source"),
            "sourceId": text(source["id"], "source")}


def _place(el: etree._Element, model: Model, target: str,
           values: Sequence[Mapping[str, str]], text: _XmlText) -> None:
    """``phones.phone:mobile`` -> ``<phones><phone type="mobile" ...>``, in containers
    shared with the field's siblings (one ``address`` for all its parts); a consent's
    ``sms/marketing`` is ``channel="sms" purpose="marketing"``."""
    path, _, qualifier = target.partition(":")
    *containers, leaf = path.split(".")
    parent = el
    for name in containers:
        found = parent.find(name)
        parent = found if found is not None else etree.SubElement(parent, name)
    spec = model.fields[path]
    for v in values:
        child = etree.SubElement(parent, leaf, spec.attributes(qualifier)
                                 | _lineage(v["source"], text))
        child.text = text(v["value"], target)


def customer_element(master_id: str, version: int, status: str, golden: Mapping[str, Any],
                     model: Model | None = None) -> etree._Element:
    """One ``<customer>`` of schemas/master.xsd, in no namespace: the document's root
    declares it as the default, so every customer inherits it when written inside."""
    model = model or load_model("customer")
    text = _XmlText(master_id)
    el = etree.Element("customer", id=text(master_id, "id"), version=str(version),
                       status=status)
    sources = etree.SubElement(el, "sources")
    for ref in golden.get("sources", []):
        source = source_ref(ref)
        etree.SubElement(sources, "source", system=text(source["system"], "source"),
                         id=text(source["id"], "source"))
    if name := golden.get("display_name"):
        etree.SubElement(el, "displayName").text = text(name, "display_name")
    fields: Mapping[str, Sequence[Mapping[str, str]]] = golden.get("fields", {})
    if unknown := sorted(t for t in fields if t.partition(":")[0] not in model.fields):
        # Only a store written by another version of the model holds one: stop, never drop.
        raise ExportError(f"customer {master_id} holds {', '.join(unknown)}, which the "
                          "canonical model (schemas/customer.xsd) does not know; the XML "
                          "export stops rather than leave it out (JSON Lines carries it)")
    # The canonical model's sequence order, as schemas/customer.xsd and master.xsd have it.
    for target in sorted(fields, key=lambda t: (model.fields[t.partition(":")[0]].order, t)):
        _place(el, model, target, fields[target], text)
    return el


def write_xml(engine: Engine, stream: IO[str]) -> int:
    """``<customers>`` of schemas/master.xsd, one customer at a time (flat memory)."""
    model = load_model("customer")
    stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<customers xmlns="{EXPORT_NS}">\n')
    n = 0
    for row in _masters(engine):
        el = customer_element(row.id, row.version, row.status, row.golden, model)
        # Pretty printing only adds whitespace between elements, never inside a value.
        stream.write(etree.tostring(el, encoding="unicode", pretty_print=True))
        n += 1
    stream.write("</customers>\n")
    return n
