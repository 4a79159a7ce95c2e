"""Large files: a 500,000-row CSV and the same rows as an XLSX, through the whole pipeline.

run.py (``--large ROWS``) calls ``generate`` once, then ``measure`` for each format and
``read_only`` for each format, every call in a fresh process, so each peak RSS is that
measurement's alone (interpreter and imports included).

The rows are ``hub.testing.write_synthetic_csv``'s (seed 1402, the accounting export's ten
columns), cut to exactly ``rows``. The XLSX holds them as Excel writes text: every cell
a shared string, in one worksheet, deflated; it is written here directly (zipfile), as a
writer library would take minutes for five million cells.
"""

from __future__ import annotations

import csv
import itertools
import time
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from harness import make_workspace, peak_rss_mb, timed_run

from hub.testing import write_synthetic_csv

MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "accounting_customers.yaml"
ID_COLUMN = "کد مشتری"
SEED = 1402
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def generate(rows: int, folder: Path) -> dict[str, Any]:
    """Write ``large.csv`` and ``large.xlsx`` with the same ``rows`` rows."""
    full = folder / "synthetic.csv"
    write_synthetic_csv(full, int(rows / 1.38) + 1000, seed=SEED)   # ~1.39 rows a person
    with full.open(encoding="utf-8", newline="") as f:
        table = list(itertools.islice(csv.reader(f), rows + 1))
    full.unlink()
    if len(table) < rows + 1:
        raise SystemExit(f"the generator gave {len(table) - 1} rows, fewer than {rows}")
    with (folder / "large.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(table)
    write_xlsx(folder / "large.xlsx", table)
    return {"rows": rows, "csv_mb": (folder / "large.csv").stat().st_size / 1e6,
            "xlsx_mb": (folder / "large.xlsx").stat().st_size / 1e6}


def write_xlsx(path: Path, table: list[list[str]]) -> None:
    """One worksheet of shared strings, as Excel writes a sheet of text."""
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName='
            f'"/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/><Override PartName='
            f'"/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/><Override '
            f'PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
            "</Types>"))
        book.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"))
        book.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" '
            f'xmlns:r="{_REL}"><sheets><sheet name="Customers" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"))
        book.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"))
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
                        "<sheetData>".encode())
            for r, row in enumerate(table, start=1):
                cells = "".join(
                    f'<c r="{_letters(c)}{r}" t="s"><v>{strings.setdefault(v, len(strings))}'
                    "</v></c>" for c, v in enumerate(row) if v)
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as sst:
            sst.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" '
                      f'uniqueCount="{len(strings)}">'.encode())
            for text in strings:
                sst.write(f"<si><t>{escape(text)}</t></si>".encode())
            sst.write(b"</sst>")


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def measure(folder: Path, fmt: str, *, batch_size: int) -> dict[str, Any]:
    """The pipeline over ``large.<fmt>`` into a new store: the first run, then a rerun
    with the checkpoint kept (the file unchanged: nothing is read)."""
    baseline_mb = peak_rss_mb()
    work = folder / f"run-{fmt}"
    work.mkdir()
    hub = make_workspace(work, name="large", csv_path=folder / f"large.{fmt}",
                         id_column=ID_COLUMN, source_system="large", mapping=MAPPING,
                         batch_size=batch_size)
    first = timed_run(hub)
    first_mb = peak_rss_mb()
    again = timed_run(hub)
    hub.close()
    return {"format": fmt, "records": first.stats.read, "seconds": first.seconds,
            "records_per_s": first.records_per_s, "quarantined": first.stats.rejected,
            "baseline_rss_mb": baseline_mb, "peak_rss_mb": first_mb,
            "rerun_read": again.stats.read, "rerun_seconds": again.seconds}


def read_only(folder: Path, fmt: str) -> dict[str, Any]:
    """The adapter alone over ``large.<fmt>``: every record made, none kept."""
    from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
    from hub.adapter import SourceContext

    baseline_mb = peak_rss_mb()
    start = time.perf_counter()
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=f"large.{fmt}",
                                                     id_column=ID_COLUMN),
                                 context=SourceContext(base_dir=folder))
    count = sum(1 for _ in adapter.read(None))
    return {"format": fmt, "records": count, "seconds": time.perf_counter() - start,
            "baseline_rss_mb": baseline_mb, "peak_rss_mb": peak_rss_mb()}


def tables(generated: dict[str, Any], runs: list[dict[str, Any]],
           reads: list[dict[str, Any]]) -> str:
    lines = [f"\nLarge files: {generated['rows']:,} rows; CSV {generated['csv_mb']:.0f} MB, "
             f"XLSX {generated['xlsx_mb']:.0f} MB",
             "| format | records | seconds | records/s | RSS MB start → peak | "
             "rerun (checkpoint kept): read, s |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['format']} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records_per_s']:,.0f} | {r['baseline_rss_mb']:.0f} → "
              f"{r['peak_rss_mb']:.0f} | {r['rerun_read']}, {r['rerun_seconds']:.2f} |"
              for r in runs]
    lines += ["", "Adapter alone (records made, none kept)",
              "| format | records | seconds | RSS MB start → peak |", "|---|---:|---:|---:|"]
    lines += [f"| {r['format']} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['baseline_rss_mb']:.0f} → {r['peak_rss_mb']:.0f} |" for r in reads]
    return "\n".join(lines) + "\n"
