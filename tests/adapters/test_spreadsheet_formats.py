"""XLS and ODS workbooks through calamine after their own limits; the 1904 date system;
Jalali dates kept as typed; large XLSX sheets streamed with the values calamine gives."""

from __future__ import annotations

import datetime as dt
import os
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from adapters._xlsx_stream import format_kind
from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import FatalSourceError
from hub.records import RawRecord

XLS = ["calamine_any_sheets.xls", "calamine_merge_cells.xls", "xlrd_profiles.xls",
       "xlrd_Formate.xls"]
ODS = ["calamine_any_sheets.ods", "calamine_merged_cells.ods", "calamine_date.ods"]


def read(path: Path, **options) -> list[RawRecord]:
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                                 context=SourceContext(base_dir=Path.cwd()))
    records = list(adapter.read(None))
    assert adapter.estimate_total(None) >= len(records)
    return records


@pytest.fixture(name="samples")
def _samples(shared_samples: Path) -> Path:
    return shared_samples / "spreadsheet"


# -- every .xls and .ods sample ----------------------------------------------------------------


@pytest.mark.samples
@pytest.mark.parametrize("name", XLS + ODS)
def test_every_xls_and_ods_sample_is_read_sheet_by_sheet(samples, name):
    records = read(samples / name, sheet="*", header_row=0)

    assert records, name
    assert all(r.location.startswith(f"{name} sheet ") for r in records)
    assert len({r.source_id for r in records}) == len({(r.source_id, repr(r.data))
                                                      for r in records})


@pytest.mark.samples
@pytest.mark.parametrize("name", ["calamine_any_sheets.xls", "calamine_any_sheets.ods"])
def test_any_sheets_reads_the_visible_worksheet_as_the_xlsx_does(samples, name):
    records = read(samples / name, header_row=0)
    as_xlsx = read(samples / "calamine_any_sheets.xlsx", header_row=0)

    assert [r.data for r in records] == [r.data for r in as_xlsx]
    assert {r.location.split(" row ")[0] for r in records} == {f"{name} sheet Visible"}


@pytest.mark.samples
def test_an_xls_chart_sheet_is_refused_and_hidden_sheets_are_skipped(samples):
    with pytest.raises(FatalSourceError, match="'Chart' is a chart sheet"):
        read(samples / "calamine_any_sheets.xls", sheet="Chart")
    everything = read(samples / "calamine_any_sheets.xls", sheet="*", header_row=0)
    assert {r.location.split(" row ")[0].split(" sheet ")[1] for r in everything} == \
        {"Visible"}   # Hidden and VeryHidden are not visible; Chart is no worksheet


@pytest.mark.samples
def test_a_merged_xls_header_names_every_column_it_spans(samples):
    [record] = read(samples / "calamine_merge_cells.xls")

    assert record.data == {"Row Merge": "Column Merge", "Row Merge_2": "Chunk Merged",
                           "Not Merged": None}


@pytest.mark.samples
def test_ods_dates_times_and_several_named_sheets(samples):
    dates = read(samples / "calamine_date.ods", header_row=0)
    formate = read(samples / "xlrd_Formate.xls", sheet=["Blätt3", "Blätt1"], header_row=0)

    assert [r.data["column_1"] for r in dates] == ["2021-01-01", "2021-01-01T10:10:10",
                                                   "10:10:10", "10:10:10.123456"]
    assert formate[0].location == "xlrd_Formate.xls sheet Blätt3 row 1"   # the order asked
    assert formate[0].source_id.startswith("xlrd_Formate.xls:Blätt3:")
    assert [r.data for r in formate if "Blätt1" in r.location][:2] == [
        {"column_1": "Huber", "column_2": "1907-07-03"},
        {"column_1": "Äcker", "column_2": "2005-02-23"}]


# -- hostile .xls files --------------------------------------------------------------------------


def biff(*records: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack("<HH", kind, len(data)) + data for kind, data in records)


def xls_file(path: Path, sheet_records: bytes, globals_extra: bytes = b"") -> Path:
    """A minimal BIFF8 workbook in an OLE2 container (512-byte sectors): FAT sectors
    first, then the directory, then the Workbook stream."""
    name = b"Sheet1"
    bof = biff((0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0)))
    head = bof + globals_extra
    boundsheet_length = len(biff((0x0085, bytes(8) + name)))
    offset = len(head) + boundsheet_length + 4   # the sheet follows the globals' EOF
    stream = head + biff((0x0085, struct.pack("<IBBBB", offset, 0, 0, len(name), 0) + name),
                         (0x000A, b"")) + biff(
        (0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))) + sheet_records + \
        biff((0x000A, b""))
    size = len(stream) + 4096 * (len(stream) < 4096)
    stream = stream.ljust(size, b"\0")
    sectors = (len(stream) + 511) // 512
    fats = (sectors + 1 + 127) // 127   # each FAT sector maps 128, itself included
    fat = [0xFFFFFFFD] * fats + [0xFFFFFFFE] + [fats + 2 + i for i in range(sectors - 1)] \
        + [0xFFFFFFFE]
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat).ljust(512 * fats, b"\xff")

    def entry(name: str, kind: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(16)
                + bytes(4) + bytes(16) + struct.pack("<III", start, size, 0))

    directory = (entry("Root Entry", 5, 0xFFFFFFFE, 0)
                 + entry("Workbook", 2, fats + 1, len(stream))).ljust(512, b"\0")
    difat = list(range(fats)) + [0xFFFFFFFF] * (109 - fats)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, fats, fats, 0, 4096, 0xFFFFFFFE, 0,
                            0xFFFFFFFE, 0) + struct.pack("<109I", *difat))
    path.write_bytes(header + fat_bytes + directory + stream.ljust(sectors * 512, b"\0"))
    return path


def number(row: int, column: int, value: float) -> tuple[int, bytes]:
    return 0x0203, struct.pack("<HHHd", row, column, 0, value)


def label(row: int, column: int, text: str) -> tuple[int, bytes]:
    raw = text.encode("latin-1")
    return 0x0204, struct.pack("<HHHHB", row, column, 0, len(raw), 0) + raw


def test_a_built_xls_is_read(tmp_path):
    path = xls_file(tmp_path / "built.xls", biff(label(0, 0, "id"), label(0, 1, "name"),
                                                 number(1, 0, 7), label(1, 1, "Ali")))

    assert [r.data for r in read(path)] == [{"id": 7, "name": "Ali"}]


@pytest.mark.parametrize(("records", "problem"), [
    # Two cells at opposite corners of a 16-bit grid: 4 billion cells.
    (biff(label(0, 0, "id"), label(0, 1, "name"), number(65535, 65535, 1)),
     r"span 4,294,967,296 cells.*limit of 10,000,000"),
    # A declared extent of four billion rows: calamine would reserve it.
    (biff((0x0200, struct.pack("<IIHHH", 0, 4_000_000_000, 0, 2, 0)), label(0, 0, "id")),
     r"declares 4,000,000,000 rows by 2 columns, beyond the 65,536 by 256"),
    # A MERGECELLS record whose count runs past its end (calamine indexes past it).
    (biff(label(0, 0, "id"), (0x00E5, struct.pack("<H", 500))),
     r"MERGECELLS record is shorter than its count"),
], ids=["corners", "dimensions", "mergecells"])
def test_a_hostile_xls_is_refused_before_calamine_opens_it(tmp_path, monkeypatch, records,
                                                           problem):
    monkeypatch.setattr(python_calamine, "load_workbook", _never)
    path = xls_file(tmp_path / "hostile.xls", records)

    with pytest.raises(FatalSourceError, match=rf"hostile\.xls: .*{problem}"):
        read(path)


def test_one_long_shared_string_named_by_many_cells_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(python_calamine, "load_workbook", _never)
    text = b"x" * 8000   # in one SST record (with its CONTINUE) of 8,000 characters
    sst = struct.pack("<IIHB", 1, 1, len(text), 0) + text
    cells = b"".join(biff((0x00FD, struct.pack("<HHHI", row, 0, 0, 0)))
                     for row in range(1, 13_000))
    path = xls_file(tmp_path / "copies.xls", biff(label(0, 0, "id")) + cells,
                    # A CONTINUE inside a string's characters restates its flags first.
                    globals_extra=biff((0x00FC, sst[:8000]), (0x003C, b"\0" + sst[8000:])))

    with pytest.raises(FatalSourceError, match=r"copies\.xls: its cells hold 103,992,002 "
                                               r"characters of text"):
        read(path)


def test_a_damaged_ole2_container_is_refused_with_the_format_named(tmp_path, monkeypatch):
    monkeypatch.setattr(python_calamine, "load_workbook", _never)
    path = tmp_path / "damaged.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))

    with pytest.raises(FatalSourceError, match=r"damaged\.xls: cannot be read as an Excel "
                                               r"97-2003 \(\.xls\) workbook"):
        read(path)


def _never(*_args, **_kwargs):
    raise AssertionError("calamine opened a workbook that breaks the limits")


# -- hostile .ods files --------------------------------------------------------------------------

ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Customers">{rows}'
    "</table:table></office:spreadsheet></office:body></office:document-content>")


def ods_file(path: Path, rows: str) -> Path:
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                      zipfile.ZIP_STORED)
        book.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            'manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
            'opendocument.spreadsheet"/></manifest:manifest>'))
        book.writestr("content.xml", ODS_CONTENT.format(rows=rows), zipfile.ZIP_DEFLATED)
    return path


def cell(text: str, repeat: int = 1) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{repeat}" '
            f'office:value-type="string"><text:p>{text}</text:p></table:table-cell>')


def test_a_built_ods_is_read(tmp_path):
    path = ods_file(tmp_path / "built.ods", f"<table:table-row>{cell('id')}{cell('name')}"
                                           f"</table:table-row><table:table-row>{cell('7')}"
                                           f"{cell('Ali')}</table:table-row>")

    assert [r.data for r in read(path)] == [{"id": "7", "name": "Ali"}]


@pytest.mark.parametrize(("rows", "problem"), [
    (f'<table:table-row table:number-rows-repeated="1000000">{cell("x", 1000)}'
     "</table:table-row>", r"span 1,000,000,000 cells laid out as grids \(repeated rows"),
    (f'<table:table-row>{cell("id")}<table:table-cell office:value-type="string"><text:p>'
     '<text:s text:c="2000000000"/></text:p></table:table-cell></table:table-row>',
     r"a cell holds 2,000,000,000 characters"),
    (f'<table:table-row table:number-rows-repeated="50000">{cell("y" * 30_000, 100)}'
     "</table:table-row>", r"hold 150,000,000,000 characters of text"),
], ids=["repeats", "spaces", "text"])
def test_a_hostile_ods_is_refused_before_calamine_opens_it(tmp_path, monkeypatch, rows,
                                                           problem):
    monkeypatch.setattr(python_calamine, "load_workbook", _never)
    path = ods_file(tmp_path / "hostile.ods", rows)

    with pytest.raises(FatalSourceError, match=rf"hostile\.ods: .*{problem}"):
        read(path)


# -- dates: the 1904 system, Jalali columns ------------------------------------------------------


def test_a_mac_1904_workbook_gives_the_dates_it_shows(tmp_path):
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["name", "born", "seen"])
    book.active.append(["Ali", dt.date(1986, 7, 3), dt.datetime(2024, 3, 20, 9, 30)])
    book.active["B2"].number_format = "yyyy-mm-dd"
    book.save(tmp_path / "mac.xlsx")
    with zipfile.ZipFile(tmp_path / "mac.xlsx") as z:
        assert b'date1904="1"' in z.read("xl/workbook.xml")
        serial = z.read("xl/worksheets/sheet1.xml")
    # The serial is counted from 1904: read as 1900 it would be four years (1,462 days) early.
    assert b"<v>30134</v>" in serial

    [record] = read(tmp_path / "mac.xlsx")

    assert record.data == {"name": "Ali", "born": "1986-07-03", "seen": "2024-03-20T09:30:00"}


def test_jalali_dates_stay_as_typed_text_and_digits(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["name", "born", "born_number", "formatted"])
    book.active.append(["Ali", "۱۴۰۲/۰۵/۱۷", 14020517, 14020517])
    book.active["D2"].number_format = "yyyy-mm-dd"   # a date format on a Jalali number
    book.save(tmp_path / "jalali.xlsx")
    (tmp_path / "jalali.csv").write_text("name,born\nAli,1402/05/17\n", encoding="utf-8")

    [record] = read(tmp_path / "jalali.xlsx")
    [row] = read(tmp_path / "jalali.csv")

    assert record.data == {"name": "Ali", "born": "۱۴۰۲/۰۵/۱۷", "born_number": 14020517,
                           "formatted": 14020517}   # an int: no float, no date
    assert row.data["born"] == "1402/05/17"


# -- streamed XLSX sheets ------------------------------------------------------------------------

FORMATS = [("yyyy-mm-dd", 45000), ("yyyy-mm-dd", 45000.5), ("yyyy-mm-dd hh:mm", 45000.25),
           ("hh:mm:ss", 0.5), ("[h]:mm:ss", 1.5), ("[mm]:ss", 0.25), ("d/m/yyyy", 45000),
           ("General", 45000), ("0.00", 12.5), ('#,##0"d"', 45000), ("@", 45000),
           ('dd"/"mm', 45000), ("mmm-yy", 45000), ("[$-fa-IR]yyyy/mm/dd", 45000),
           ("yyyy-mm-dd", 60), ("yyyy-mm-dd", 3e6), (None, 14020517), (None, 9121234567)]


def typed_workbook(path: Path, epoch: object = None) -> Path:
    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    sheet.title = "Customers"
    sheet.append(["Code", "Name", "Value", "Flag", "Note"])
    sheet.merge_cells("D1:E1")
    for i, (fmt, value) in enumerate(FORMATS, start=2):
        sheet.append([i, f"نام {i}", value, i % 2 == 0, None if i % 3 else "یادداشت"])
        if fmt:
            sheet.cell(i, 3).number_format = fmt
    sheet.cell(len(FORMATS) + 2, 1).value = "=1/0"
    book.save(path)
    return path


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900", "1904"])
def test_a_streamed_sheet_gives_what_calamine_gives(tmp_path, monkeypatch, epoch):
    path = typed_workbook(tmp_path / "typed.xlsx", epoch)
    by_calamine = read(path, id_column="Code")
    monkeypatch.setattr("adapters._workbook.STREAM_FROM_BYTES", 0)   # stream every sheet

    streamed = read(path, id_column="Code")

    assert [(r.source_id, r.data, r.location) for r in streamed] == \
        [(r.source_id, r.data, r.location) for r in by_calamine]
    assert list(streamed[0].data) == ["Code", "Name", "Value", "Flag", "Flag_2"]


def test_format_kinds_follow_calamines_rule():
    assert [format_kind(f) for f in ("DD/MM/YY", "H:MM:SS;@", "[h]:mm:ss", "#,##0*y",
                                     '"Y: "0.00"m";"Y: "-0.00"m"', "[>=100][Magenta].00",
                                     "*-yyyy-mm-dd", "[Blue]\\+[h]:mm;[Red]\\-[h]:mm")] == [
        "date", "date", "duration", "other", "other", "other", "date", "duration"]


def test_a_streamed_row_naming_one_long_string_everywhere_is_set_aside(tmp_path, monkeypatch):
    book = openpyxl.Workbook()
    book.active.append(["id", "note"])
    long = "ب" * 30_000
    book.active.append([1, *([long] * 40)])
    book.active.append([2, "ok"])
    book.save(tmp_path / "wide.xlsx")
    monkeypatch.setattr("adapters._workbook.STREAM_FROM_BYTES", 0)

    first, second = read(tmp_path / "wide.xlsx", id_column="id")

    assert first.problem is not None and "set aside" in first.problem
    assert (second.problem, second.data) == (None, {"id": 2, "note": "ok"})


def test_a_row_over_16_mb_of_xml_is_refused_before_it_is_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr("adapters._workbook.STREAM_FROM_BYTES", 0)
    noise = os.urandom(9_000_000).hex()   # does not compress: no zip-bomb ratio here
    cells = "".join(f'<c r="{_letters(i)}2" t="inlineStr"><is><t>'
                    f"{noise[i * 30_000:(i + 1) * 30_000]}</t></is></c>" for i in range(1, 600))
    path = _with_sheet(tmp_path, f'<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
                                 f'<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
                                 f'<row r="2">{cells}</row>')

    with pytest.raises(FatalSourceError, match=r"wide\.xlsx sheet Sheet: a row holds 18 MB "
                                               r"of XML, over the limit of 16 MB"):
        read(path)


def test_a_cell_past_excels_last_row_is_refused(tmp_path):
    path = _with_sheet(tmp_path, '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c>'
                                 '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
                                 '<row r="2000000"><c r="A2000000"><v>1</v></c></row>')

    with pytest.raises(FatalSourceError, match=r"reach row 2,000,000 and column 2, beyond "
                                               r"the 1,048,576 rows"):
        read(path)


def _with_sheet(tmp_path: Path, rows: str) -> Path:
    base = tmp_path / "base.xlsx"
    openpyxl.Workbook().save(base)
    path = tmp_path / "wide.xlsx"
    xml = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           f'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>').encode()
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in zin.infolist():
            data = xml if item.filename == "xl/worksheets/sheet1.xml" else zin.read(item)
            out.writestr(item.filename, data)
    return path


def _letters(index: int) -> str:
    name = ""
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name
