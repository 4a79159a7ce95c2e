"""XLSX workbooks from hostile or unusual writers: error cells, size limits checked before
anything is built, declared sizes never trusted, encrypted files (findings L5, H3, R1, L9)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import FatalSourceError
from hub.records import RawRecord

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ERRORS = ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NULL!", "#NUM!"]


def read(path: Path, **options) -> tuple[SpreadsheetAdapter, list[RawRecord]]:
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                                 context=SourceContext(base_dir=Path.cwd()))
    return adapter, list(adapter.read(None))


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Customers"
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def rewrite(path: Path, out: Path, parts: dict[str, bytes]) -> Path:
    """``path`` with ``parts`` replaced or added (the rest copied as they are)."""
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename not in parts:
                zout.writestr(item, zin.read(item.filename))
        for name, data in parts.items():
            zout.writestr(name, data)
    return out


def sheet_xml(rows: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}">{head}<sheetData>{rows}'
            "</sheetData></worksheet>").encode()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


@pytest.fixture
def never_built(monkeypatch):
    """Fail the test if any reader starts to build the workbook."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the workbook was opened despite its limits")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    monkeypatch.setattr(python_calamine, "load_workbook", refuse)


# -- L5: error values ---------------------------------------------------------------------


def test_excel_error_values_are_empty_and_never_source_ids(tmp_path):
    path = workbook(tmp_path / "errors.xlsx", [["Code", "Name", "Score"], ["C1", "Ali", 1]])
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for i, code in enumerate(ERRORS, start=3):
        for col, value in ((1, code), (2, f"n{i}"), (3, code)):
            sheet.cell(i, col).value = value
        sheet.cell(i, 1).data_type = sheet.cell(i, 3).data_type = "e"
    sheet.cell(3, 2).value, sheet.cell(3, 2).data_type = "#REF!", "e"
    book.save(path)

    _, records = read(path, id_column="Code", row_ids="position")

    assert records[0].data == {"Code": "C1", "Name": "Ali", "Score": 1}
    # Row 3 holds nothing but error values: an empty row, skipped as blank rows are.
    assert [r.source_id for r in records[1:]] == [f"errors.xlsx:row {i}" for i in range(4, 10)]
    assert [r.data for r in records[1:]] == [{"Code": None, "Name": f"n{i}", "Score": None}
                                             for i in range(4, 10)]


# -- H3: limits checked before the workbook is built ----------------------------------------


def declare_size(path: Path, name: str, size: int) -> None:
    """Make the zip's central directory claim ``size`` uncompressed bytes for ``name``."""
    raw = bytearray(path.read_bytes())
    at = _central_entry(raw, name.encode())
    raw[at + 24:at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def _central_entry(raw: bytearray, name: bytes) -> int:
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + length] == name:
            return at
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name!r} not in the central directory")


def test_a_workbook_whose_parts_add_up_past_1_gb_is_refused_unbuilt(tmp_path, never_built):
    base = workbook(tmp_path / "base.xlsx", [["id", "name"], [1, "Ali"]])
    path = rewrite(base, tmp_path / "big.xlsx", {"xl/media/padding.bin": b"0123456789" * 10})
    declare_size(path, "xl/media/padding.bin", 1_250_000_000)

    with pytest.raises(FatalSourceError,
                       match=r"big\.xlsx: .*1,250 MB uncompressed.*limit of 1,000 MB"):
        read(path)


def test_a_part_that_inflates_over_100_times_is_refused_unbuilt(tmp_path, never_built):
    base = workbook(tmp_path / "base.xlsx", [["id", "name"], [1, "Ali"]])
    padded = sheet_xml(" " * 20_000_000 + f'<row r="1">{inline("A1", "id")}'
                       f'{inline("B1", "name")}</row>')
    path = rewrite(base, tmp_path / "bomb.xlsx", {SHEET: padded})

    with pytest.raises(FatalSourceError,
                       match=r"bomb\.xlsx: .*sheet1\.xml inflates \d[\d,]* times.*limit of "
                             r"100 times"):
        read(path)


@pytest.mark.parametrize("part", ["xl/styles.xml", SHEET])
def test_a_part_that_inflates_past_its_declared_size_is_refused(tmp_path, part):
    path = workbook(tmp_path / "lying.xlsx", [["id", "name"], [1, "Ali"]])
    declare_size(path, part, 100)   # the zip directory lies about the part's size

    with pytest.raises(FatalSourceError, match=rf"lying\.xlsx\b.*: its part {part} inflates "
                                               r"past the 100 bytes it declares"):
        read(path)


def test_parts_a_reader_inflates_on_opening_are_checked_before_it_opens(tmp_path,
                                                                       never_built):
    path = workbook(tmp_path / "lying.xlsx", [["id", "name"], [1, "Ali"]])
    declare_size(path, "xl/styles.xml", 100)

    with pytest.raises(FatalSourceError, match=r"styles\.xml inflates past"):
        read(path)


@pytest.mark.parametrize("where", ["inline", "shared", "shared in runs"])
def test_a_cell_over_32767_characters_is_refused(tmp_path, where):
    base = workbook(tmp_path / "base.xlsx", [["id", "name"], [1, "Ali"]])
    text = "ب" * 40_000
    if where == "inline":
        parts = {SHEET: sheet_xml('<row r="1">' + inline("A1", "id") + inline("B1", "name")
                                  + '</row><row r="2"><c r="A2"><v>1</v></c>'
                                  + inline("B2", text) + "</row>")}
    else:
        item = (f"<r><t>{text[:20_000]}</t></r><r><t>{text[20_000:]}</t></r>"
                if where == "shared in runs" else f"<t>{text}</t>")
        parts = shared_strings(base, ["id", "name"], item)
    path = rewrite(base, tmp_path / "long.xlsx", parts)

    with pytest.raises(FatalSourceError,
                       match=r"long\.xlsx\b.*40,000 characters.*limit of 32,767"):
        read(path)


def shared_strings(base: Path, header: list[str], long_item: str) -> dict[str, bytes]:
    """Parts that put the header and one long text in a shared-strings table."""
    with zipfile.ZipFile(base) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    types = types.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
                          'ContentType="application/vnd.openxmlformats-officedocument.'
                          'spreadsheetml.sharedStrings+xml"/></Types>')
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdSST" Type="http://schemas.'
                        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                        'Target="sharedStrings.xml"/></Relationships>')
    items = "".join(f"<si><t>{h}</t></si>" for h in header) + f"<si>{long_item}</si>"
    sst = (f'<?xml version="1.0"?><sst xmlns="{MAIN_NS}" count="3" uniqueCount="3">{items}'
           "</sst>").encode()
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>')
    return {"[Content_Types].xml": types.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
            "xl/sharedStrings.xml": sst, SHEET: sheet_xml(rows)}


def test_shared_strings_are_read(tmp_path):
    base = workbook(tmp_path / "base.xlsx", [["id", "name"], [1, "Ali"]])
    path = rewrite(base, tmp_path / "sst.xlsx", shared_strings(base, ["id", "name"],
                                                               "<t>علی</t>"))

    _, records = read(path)

    assert [r.data for r in records] == [{"id": 1, "name": "علی"}]


# -- R1: declared sizes are not trusted -----------------------------------------------------

_PROBE = """
import json, resource, sys, time
from pathlib import Path
from hub.adapter import SourceContext
from hub.errors import FatalSourceError
from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
adapter = SpreadsheetAdapter(SpreadsheetSettings(path=sys.argv[1]),
                             context=SourceContext(base_dir=Path.cwd()))
try:
    out = {"rows": [r.data for r in adapter.read(None)]}
except FatalSourceError as exc:
    out = {"error": str(exc)}
out["seconds"] = time.perf_counter() - start
out["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def probe(path: Path) -> dict[str, object]:
    """Read ``path`` in a child process with 3 GB of address space at most: a reader that
    trusts a declared size fails there, not in the test run."""
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_a_sheet_declaring_the_whole_grid_reads_its_real_rows_quickly(tmp_path):
    base = workbook(tmp_path / "base.xlsx", [["id", "name"], [1, "Ali"], [2, "Sara"]])
    with zipfile.ZipFile(base) as z:
        xml = z.read(SHEET)
    xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    xml = xml.replace(b"<sheetData>", b'<cols><col min="12" max="16384" width="9" '
                                      b'customWidth="1"/></cols><sheetData>')
    assert b"A1:XFD1048576" in xml
    path = rewrite(base, tmp_path / "gnumeric.xlsx", {SHEET: xml})

    out = probe(path)

    assert out.get("rows") == [{"id": 1, "name": "Ali"}, {"id": 2, "name": "Sara"}]
    assert out["seconds"] < 2.0      # milliseconds in fact; generous for a busy machine
    assert out["peak_mb"] < 50       # a few MB in fact


@pytest.mark.parametrize("far", [
    f'<row r="1048576">{inline("XFD1048576", "far")}</row>',
    # Cells without an r follow the one before: 16,384 of them fill the last row.
    '<row r="1048576">' + "<c><v>1</v></c>" * 16_384 + "</row>",
], ids=["placed", "unplaced"])
def test_two_cells_at_opposite_corners_of_the_grid_are_refused_unbuilt(tmp_path, far):
    # Readers that lay a sheet out as a grid would need 16384 x 1048576 cells here.
    rows = (f'<row r="1">{inline("A1", "id")}{inline("B1", "name")}</row>'
            f'<row r="2"><c r="A2"><v>1</v></c>{inline("B2", "Ali")}</row>' + far)
    base = workbook(tmp_path / "base.xlsx", [["id", "name"]])
    path = rewrite(base, tmp_path / "corners.xlsx", {SHEET: sheet_xml(rows)})

    out = probe(path)

    assert "limit of" in str(out.get("error")), out
    assert re.search(r"corners\.xlsx sheet Customers: .*1,048,576 rows by 16,384 columns",
                     str(out["error"])), out["error"]
    assert out["peak_mb"] < 50


# -- L9: files that are not XLSX inside -------------------------------------------------------

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole2_with(*streams: str) -> bytes:
    """An OLE2 (Compound File) header and directory entries naming ``streams``: what Office
    writes for a password-protected workbook, as far as the adapter looks."""
    entries = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + bytes(64)
                       for name in ("Root Entry", *streams))
    return OLE2 + bytes(504) + entries + bytes(4096)


def test_an_encrypted_workbook_asks_to_save_it_without_a_password(tmp_path):
    path = tmp_path / "secret.xlsx"
    path.write_bytes(ole2_with("EncryptionInfo", "EncryptedPackage"))

    with pytest.raises(FatalSourceError, match=r"secret\.xlsx: is encrypted \(password-"
                                               r"protected\); save it without a password"):
        read(path)


@pytest.mark.samples
def test_an_xls_workbook_named_xlsx_says_what_it_is(tmp_path):
    sample = SAMPLES / "spreadsheet" / "calamine_any_sheets.xls"
    if not sample.is_file():
        pytest.skip(f"real-world samples not found at {SAMPLES}")
    path = tmp_path / "renamed.xlsx"
    path.symlink_to(sample)   # read in place, never copied

    with pytest.raises(FatalSourceError, match=r"renamed\.xlsx: is an Excel 97-2003 \(\.xls\) "
                                               r"workbook.*save it as XLSX"):
        read(path)
