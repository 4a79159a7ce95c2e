"""Export the master: golden records as XML or CSV, and the source -> master cross-reference."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree
from sqlalchemy import Engine, select

from hub.store.engine import reading
from hub.store.tables import masters, source_records

EXPORT_NS = "urn:peyvand:master:v1"
_CSV_COLUMNS = ("master_id", "version", "display_name", "kind", "nationalCode", "birthDate",
                "emails.email", "phones.phone:mobile", "phones.phone:landline",
                "addresses.address.city", "addresses.address.postalCode", "lifecycleStage",
                "sources")
# Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _masters(engine: Engine) -> Iterator[Any]:
    with reading(engine, "exporting the master") as conn:
        yield from conn.execution_options(yield_per=1000).execute(
            select(masters).where(masters.c.status == "active").order_by(masters.c.id))


def safe_cell(value: str) -> str:
    """Neutralize formula injection (OWASP: prefix a quote). E.164 phones get it too,
    which also keeps spreadsheet programs from turning +989121234567 into a number."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def write_csv(engine: Engine, stream: IO[str]) -> int:
    writer = csv.writer(stream)
    writer.writerow(_CSV_COLUMNS)
    n = 0
    for row in _masters(engine):
        fields = row.golden.get("fields", {})
        cells = [row.id, str(row.version), row.golden.get("display_name", "")]
        cells += ["; ".join(v["value"] for v in fields.get(c, ())) for c in _CSV_COLUMNS[3:-1]]
        cells.append("; ".join(row.golden.get("sources", [])))
        writer.writerow([safe_cell(c) for c in cells])
        n += 1
    return n


def write_xml(engine: Engine, stream: IO[str]) -> int:
    """``<customers>`` with one ``<customer id version>`` each; every value names its source."""
    stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<customers xmlns="{EXPORT_NS}">\n')
    n = 0
    for row in _masters(engine):
        el = etree.Element(f"{{{EXPORT_NS}}}customer", id=row.id, version=str(row.version),
                           nsmap={None: EXPORT_NS})
        etree.SubElement(el, f"{{{EXPORT_NS}}}displayName").text = row.golden.get(
            "display_name", "")
        for path, values in row.golden.get("fields", {}).items():
            name, _, qualifier = path.partition(":")
            for v in values:
                field = etree.SubElement(el, f"{{{EXPORT_NS}}}field", path=name,
                                         source=v["source"])
                if qualifier:
                    field.set("qualifier", qualifier)
                field.text = v["value"]
        text = etree.tostring(el, encoding="unicode", pretty_print=True)
        stream.write("  " + text.replace(f' xmlns="{EXPORT_NS}"', "", 1).replace("\n", "\n  ")
                     .rstrip() + "\n")
        n += 1
    stream.write("</customers>\n")
    return n


def write_xref(engine: Engine, path: Path) -> int:
    """One row per accepted source record: source_system,source_id,master_id."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f, \
            reading(engine, "exporting the cross-reference") as conn:
        writer = csv.writer(f)
        writer.writerow(["source_system", "source_id", "master_id"])
        query = select(source_records.c.source_system, source_records.c.source_id,
                       source_records.c.master_id).order_by(source_records.c.id)
        for system, source_id, master_id in conn.execution_options(yield_per=5000).execute(query):
            writer.writerow([safe_cell(system), safe_cell(source_id), master_id])
            n += 1
    return n
