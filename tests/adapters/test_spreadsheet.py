"""The spreadsheet adapter on real files: generated CSV/XLSX, real-world samples, the demo."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest

from adapters import get_adapter_class
from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.testing.conformance import AdapterConformance

DEMO = Path(__file__).resolve().parents[2] / "pipelines" / "demo"
ACC_HEADER = ["كد مشتري", "نام مشتري", "كد ملي", "موبايل", "تلفن", "آدرس", "شهر", "كد پستي",
              "تاريخ تولد", "ايميل"]


def make(path: Path | str, **options) -> SpreadsheetAdapter:
    return SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                              context=SourceContext(base_dir=Path.cwd()))


def read(path: Path, **options) -> tuple[SpreadsheetAdapter, list[RawRecord]]:
    adapter = make(path, **options)
    return adapter, list(adapter.read(None))


class TestSpreadsheetConformance(AdapterConformance):
    """The adapter contract (hub.testing.conformance) on a Windows-1256 accounting CSV."""

    adapter_class = SpreadsheetAdapter
    bad_options: ClassVar = {"path": 42, "header_row": -1, "delimiter": ";;", "colour": "red"}

    def make_source(self, tmp_path: Path) -> dict[str, str]:
        rows = ["كد مشتري;نام مشتري;موبايل", "1001;علي كريمي;09121234567",
                "1002;مريم حسين\u200cزاده;0935 111 2233", "1003;Reza Yazdani;+989351112233",
                "1004;سارا احمدي;"]
        (tmp_path / "holoo.csv").write_bytes("\r\n".join(rows).encode("cp1256") + b"\r\n")
        return {"path": "holoo.csv", "id_column": "کد مشتری"}


@pytest.fixture(name="samples")
def _samples(shared_samples: Path) -> Path:
    return shared_samples / "spreadsheet"


# -- CSV: encodings and delimiters ---------------------------------------------------------


def test_cp1256_semicolon_export_keeps_arabic_letters_and_zwnj(tmp_path):
    text = ("كد مشتري;نام مشتري;شهر\r\n"
            "1001;علي كريمي;تهران\r\n"
            "1002;خانم مريم حسين\u200cزاده;كرج\r\n")
    raw = text.encode("cp1256")
    assert b"\x9d" in raw  # ZWNJ in Windows-1256
    path = tmp_path / "holoo.csv"
    path.write_bytes(raw)

    adapter, records = read(path, id_column="كد مشتري")

    assert adapter.detected_encoding == "cp1256"
    assert list(records[0].data) == ["كد مشتري", "نام مشتري", "شهر"]
    assert records[0].data["نام مشتري"] == "علي كريمي"  # Arabic yeh/kaf kept: folding is later
    assert "\u064a" in records[0].data["نام مشتري"]
    assert records[1].data == {"كد مشتري": "1002", "نام مشتري": "خانم مريم حسين\u200cزاده",
                               "شهر": "كرج"}
    assert [r.source_id for r in records] == ["1001", "1002"]


def test_id_column_written_with_persian_letters_finds_the_arabic_header(tmp_path):
    path = tmp_path / "holoo.csv"
    path.write_bytes("كد مشتري;نام\r\n1001;علي\r\n".encode("cp1256"))

    _, records = read(path, id_column="کد مشتری")

    assert records[0].source_id == "1001"


def test_utf8_bom_comma_header_loses_the_bom(tmp_path):
    path = tmp_path / "excel_utf8.csv"
    path.write_text("نام,موبایل\n\u200cعلی,۰۹۱۲۱۲۳۴۵۶۷\n", encoding="utf-8-sig")

    adapter, records = read(path)

    assert adapter.detected_encoding == "utf-8-sig"
    assert records[0].data == {"نام": "\u200cعلی", "موبایل": "۰۹۱۲۱۲۳۴۵۶۷"}


def test_utf16_with_bom_tab_delimited(tmp_path):
    path = tmp_path / "unicode_text.txt"
    path.write_text("نام\tشهر\tکد پستی\r\nزهرا\tشیراز\t71449-79554\r\n", encoding="utf-16")

    adapter, records = read(path)

    assert adapter.detected_encoding == "utf-16"
    assert records[0].data == {"نام": "زهرا", "شهر": "شیراز", "کد پستی": "71449-79554"}


def test_utf16_without_bom_is_recognised_by_its_nul_bytes(tmp_path):
    path = tmp_path / "no_bom.csv"
    path.write_bytes("name,city\r\nعلی,قم\r\n".encode("utf-16-le"))

    adapter, records = read(path)

    assert adapter.detected_encoding == "utf-16-le"
    assert records[0].data == {"name": "علی", "city": "قم"}


def test_plain_utf8_pipe_delimited(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id|name|email\n7|Ali, Karimi|ali@example.com\n", encoding="utf-8")

    adapter, records = read(path)

    assert adapter.detected_encoding == "utf-8"
    assert records[0].data == {"id": "7", "name": "Ali, Karimi", "email": "ali@example.com"}


def test_cp1256_text_after_a_long_ascii_start_is_still_detected(tmp_path):
    lines = ["id;name"] + [f"{i};customer {i}" for i in range(1, 5001)] + ["5001;علي كريمي"]
    path = tmp_path / "late.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1256"))
    assert path.stat().st_size > 64 * 1024

    adapter, records = read(path)

    assert adapter.detected_encoding == "cp1256"
    assert records[-1].data == {"id": "5001", "name": "علي كريمي"}
    assert adapter.estimate_total(None) == 5001


def test_encoding_and_delimiter_options_override_detection(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("a:b\r\nعلي:1\r\n".encode("cp1256"))

    adapter, records = read(path, encoding="cp1256", delimiter=":")

    assert adapter.detected_encoding == "cp1256"
    assert records[0].data == {"a": "علي", "b": "1"}


def test_values_are_not_stripped_and_empty_cells_are_none(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'id;name;note\r\n1; Ali ;"ok\r"\r\n2;;\r\n;;\r\n3\r\n')

    _, records = read(path)

    assert [r.data for r in records] == [
        {"id": "1", "name": " Ali ", "note": "ok"},
        {"id": "2", "name": None, "note": None},
        {"id": "3", "name": None, "note": None},  # a short line: the rest is empty
    ]
    assert [r.location for r in records] == ["x.csv row 2", "x.csv row 3", "x.csv row 5"]


# -- header names ---------------------------------------------------------------------------


def test_duplicate_and_empty_headers_keep_every_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(" id ,name,,name,\ufefftel\n1,a,b,c,d,e\n", encoding="utf-8")

    _, records = read(path)

    assert records[0].data == {"id": "1", "name": "a", "column_3": "b", "name_2": "c",
                               "tel": "d", "column_6": "e"}


def test_title_lines_above_the_header_are_skipped(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text("گزارش مشتریان\n\nid,name\n1,علی\n", encoding="utf-8")

    adapter, records = read(path, id_column="id")

    assert [(r.source_id, r.data, r.location) for r in records] == [
        ("1", {"id": "1", "name": "علی"}, "report.csv row 4")]
    assert adapter.estimate_total(None) == 1


def test_explicit_header_row_and_no_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("1,2\n3,4\n", encoding="utf-8")

    _, with_header = read(path, header_row=1)
    _, without = read(path, header_row=0)

    assert [r.data for r in with_header] == [{"1": "3", "2": "4"}]
    assert [r.data for r in without] == [{"column_1": "1", "column_2": "2"},
                                         {"column_1": "3", "column_2": "4"}]


def test_no_header_found_names_the_setting(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("1,2\n3,4\n", encoding="utf-8")

    with pytest.raises(FatalSourceError, match=r"numbers\.csv.*options\.header_row"):
        read(path)


def test_source_id_falls_back_to_file_and_row(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("code,name\n1001,a\n,b\n", encoding="utf-8")

    # Position ids are asked for: the default is the row's content (test_spreadsheet_ids).
    _, by_id = read(path, id_column="code", row_ids="position")
    _, by_row = read(path, row_ids="position")

    assert [r.source_id for r in by_id] == ["1001", "leads.csv:row 3"]
    assert [r.source_id for r in by_row] == ["leads.csv:row 2", "leads.csv:row 3"]


def test_unknown_id_column_lists_the_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("code,name\n1,a\n", encoding="utf-8")

    with pytest.raises(FatalSourceError, match=r"'id'.*'code', 'name'"):
        read(path, id_column="id")


# -- XLSX -----------------------------------------------------------------------------------


def write_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["not", "this", "sheet"])
    notes.sheet_state = "hidden"
    sheet = book.create_sheet("Customers")
    sheet.append(["Code", "Name", "Mobile", None, "National code", "Born", "Seen", "At",
                  "VIP", "Score", "Note"])
    sheet.merge_cells("C1:D1")  # "Mobile" spans two columns
    sheet.append([1001, "علی کریمی", 9121234567, 9351234567.0, 12345678,
                  dt.date(1986, 7, 3), dt.datetime(2024, 3, 20, 9, 30), dt.time(9, 30),
                  True, 12.5, ""])
    sheet.append([None, None, None, None, None, None, None, None, None, None, None])
    sheet.append([None, "Sara", "۰۹۱۲۱۲۳۴۵۶۷", None, "0012345678", None, None, None,
                  False, 3, "ok"])
    book.save(path)
    return path


def test_xlsx_first_visible_sheet_values_and_merged_header(tmp_path):
    path = write_workbook(tmp_path / "customers.xlsx")

    adapter, records = read(path, id_column="Code", row_ids="position")

    assert adapter.detected_encoding is None
    assert [r.location for r in records] == ["customers.xlsx sheet Customers row 2",
                                             "customers.xlsx sheet Customers row 4"]
    assert [r.source_id for r in records] == ["1001", "customers.xlsx:row 4"]
    assert records[0].data == {
        "Code": 1001, "Name": "علی کریمی",
        "Mobile": 9121234567, "Mobile_2": 9351234567,  # whole floats become int
        "National code": 12345678,  # the leading zeros Excel dropped stay dropped here
        "Born": "1986-07-03", "Seen": "2024-03-20T09:30:00", "At": "09:30:00",
        "VIP": True, "Score": 12.5, "Note": None,
    }
    assert records[1].data["Mobile"] == "۰۹۱۲۱۲۳۴۵۶۷"
    assert records[1].data["National code"] == "0012345678"
    assert adapter.estimate_total(None) == 3


def test_xlsx_named_sheet_even_when_hidden(tmp_path):
    path = write_workbook(tmp_path / "customers.xlsx")

    _, records = read(path, sheet="Notes", header_row=0)

    assert records[0].data == {"column_1": "not", "column_2": "this", "column_3": "sheet"}


def test_xlsx_unknown_sheet_lists_the_worksheets(tmp_path):
    path = write_workbook(tmp_path / "customers.xlsx")

    with pytest.raises(FatalSourceError, match=r"no sheet 'Leads'.*'Notes', 'Customers'"):
        read(path, sheet="Leads")


def test_damaged_xlsx_is_fatal_and_names_the_path(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip archive")

    with pytest.raises(FatalSourceError, match=r"broken\.xlsx.*XLSX") as info:
        read(path)
    assert info.value.__cause__ is not None


# -- checkpoints ----------------------------------------------------------------------------


def write_csv(path: Path, rows: int) -> Path:
    lines = ["code;name"] + [f"{1000 + i};نام {i}" for i in range(1, rows + 1)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_resume_after_checkpoint_yields_the_rest_only(tmp_path):
    path = write_csv(tmp_path / "c.csv", 6)
    taken = list(itertools.islice(make(path, id_column="code").read(None), 3))
    checkpoint = taken[-1].checkpoint

    assert [r.source_id for r in taken] == ["1001", "1002", "1003"]
    assert checkpoint is not None
    assert checkpoint.value.endswith(":4")  # through physical row 4 (header is row 1)
    rest = list(make(path, id_column="code").read(checkpoint))
    assert [r.source_id for r in rest] == ["1004", "1005", "1006"]
    # The last record says the file is read to its end: unchanged, it is not opened again.
    assert rest[-1].checkpoint == Checkpoint(checkpoint.value.replace(":4", ":done:7"))
    assert list(make(path, id_column="code").read(rest[-1].checkpoint)) == []


def test_changed_file_restarts_from_the_top(tmp_path):
    path = write_csv(tmp_path / "c.csv", 4)
    checkpoint = list(itertools.islice(make(path, id_column="code").read(None), 3))[-1] \
        .checkpoint
    write_csv(path, 5)

    records = list(make(path, id_column="code").read(checkpoint))

    assert [r.source_id for r in records] == ["1001", "1002", "1003", "1004", "1005"]


def test_xlsx_resume(tmp_path):
    path = tmp_path / "l.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Lead ID", "Name"])
    for i in range(1, 6):
        book.active.append([f"L-{i:04}", f"n{i}"])
    book.save(path)
    first = make(path, id_column="Lead ID")
    assert first.estimate_total(None) == 5
    third = list(itertools.islice(first.read(None), 3))[-1].checkpoint

    rest = make(path, id_column="Lead ID")

    assert rest.estimate_total(third) == 2
    assert [r.source_id for r in rest.read(third)] == ["L-0004", "L-0005"]


# -- errors and configuration ---------------------------------------------------------------


def test_missing_file_is_fatal_and_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "customers.csv"

    with pytest.raises(FatalSourceError, match=r"nowhere/customers\.csv"):
        read(path)


@pytest.mark.parametrize("name", ["old.wk1", "calc.numbers"])
def test_other_formats_ask_for_xlsx_or_csv(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0")

    with pytest.raises(FatalSourceError, match="not supported; export the file as XLSX"):
        read(path)


@pytest.mark.parametrize(("options", "problem"), [
    ({"header_row": -1}, "options.header_row"),
    ({"delimiter": ";;"}, "options.delimiter"),
    ({"encoding": "persian-dos"}, "options.encoding"),
])
def test_bad_settings_are_config_errors(options, problem):
    with pytest.raises(ConfigError, match=problem):
        SpreadsheetAdapter.from_options({"path": "x.csv", **options}, where="p.yaml",
                                        context=SourceContext(base_dir=Path.cwd()))


def test_sheet_option_on_csv_is_a_config_error():
    with pytest.raises(ConfigError, match=r"options\.sheet"):
        SpreadsheetAdapter.from_options({"path": "c.csv", "sheet": "Leads"}, where="p.yaml",
                                        context=SourceContext(base_dir=Path.cwd()))


def test_wrong_encoding_option_is_fatal_and_names_the_path(tmp_path):
    path = tmp_path / "holoo.csv"
    path.write_bytes("كد;نام\r\n1;علي\r\n".encode("cp1256"))

    with pytest.raises(FatalSourceError, match=r"holoo\.csv.*options\.encoding"):
        read(path, encoding="utf-8")


def test_registered_and_built_from_options_with_relative_path(tmp_path):
    write_csv(tmp_path / "c.csv", 2)
    cls = get_adapter_class("spreadsheet")

    adapter = cls.from_options({"path": "c.csv", "id_column": "code"}, where="p.yaml",
                               context=SourceContext(base_dir=tmp_path))

    assert cls is SpreadsheetAdapter
    assert [r.source_id for r in adapter.read(None)] == ["1001", "1002"]
    with pytest.raises(ConfigError, match="Did you mean 'header_row'"):
        cls.from_options({"path": "c.csv", "headerrow": 2}, where="p.yaml",
                         context=SourceContext(base_dir=tmp_path))


# -- real-world samples ---------------------------------------------------------------------


@pytest.mark.samples
def test_sample_any_sheets_picks_the_visible_worksheet(samples):
    path = samples / "calamine_any_sheets.xlsx"

    _, records = read(path, header_row=0)

    assert [r.data for r in records] == [
        {"column_1": 1, "column_2": 2}, {"column_1": 3, "column_2": 4},
        {"column_1": 5, "column_2": 6},
        {"column_1": "This workbook contains 4 sheets: Visible, Hidden, VeryHidden and Chart",
         "column_2": None},
    ]
    assert {r.location.split(" row ")[0] for r in records} == {
        "calamine_any_sheets.xlsx sheet Visible"}
    with pytest.raises(FatalSourceError, match="'Chart' is a chart sheet"):
        read(path, sheet="Chart")
    with pytest.raises(FatalSourceError, match="no header row found"):
        read(path)  # numbers only: guessing a header would be wrong


@pytest.mark.samples
@pytest.mark.parametrize(("sheet", "names"), [
    ("Sheet1", ["A1", "B1", "C1", "C1_2", "E1", "F1", "G1", "H1"]),
    ("Sheet2", ["A1", "B1", "C1", "C1_2", "E1", "F1", "F1_2", "F1_3"]),
])
def test_sample_merged_header_cells_lose_no_column(samples, sheet, names):
    _, records = read(samples / "calamine_merged_range.xlsx", sheet=sheet)

    assert [list(r.data) for r in records] == [names, names]
    assert [r.location for r in records] == [
        f"calamine_merged_range.xlsx sheet {sheet} row 3",
        f"calamine_merged_range.xlsx sheet {sheet} row 4"]
    assert records[0].data["B1"] == "B3"
    assert records[0].data["C1"] == "C3"


@pytest.mark.samples
def test_sample_header_not_on_first_row(samples):
    _, records = read(samples / "calamine_header-row.xlsx", row_ids="position")

    assert [(r.source_id, r.data, r.location) for r in records] == [(
        "calamine_header-row.xlsx:row 10",
        {"Columns": "put data here", "Column A": 1, "Column B": 2, "Column C": 3},
        "calamine_header-row.xlsx sheet Sheet1 row 10")]


@pytest.mark.samples
def test_sample_dates_become_iso_text(samples):
    _, records = read(samples / "calamine_date.xlsx", header_row=0)

    assert [r.data for r in records] == [
        {"column_1": "2021-01-01", "column_2": 15},
        {"column_1": "2021-01-02", "column_2": 16},
        {"column_1": "P10DT15H10M10S", "column_2": 17},  # a duration cell, [hh]:mm:ss
    ]


# -- the demo inputs ------------------------------------------------------------------------


def test_demo_exports_read_as_the_truth_lists_them():
    with (DEMO / "truth.csv").open(encoding="utf-8", newline="") as f:
        truth = [(t["source_system"], t["source_id"]) for t in csv.DictReader(f)]

    accounting, acc = read(DEMO / "accounting_customers.csv", id_column="كد مشتري")
    sales, leads = read(DEMO / "sales_leads.xlsx", id_column="Lead ID")

    assert accounting.detected_encoding == "cp1256"
    assert list(acc[0].data) == ACC_HEADER
    assert list(leads[0].data) == ["Lead ID", "First Name", "Last Name", "Company", "Mobile",
                                   "Email", "City", "Postal Code", "Birthday", "Stage",
                                   "SMS opt-in"]
    assert leads[0].location.startswith("sales_leads.xlsx sheet Leads row ")
    assert [("accounting", r.source_id) for r in acc] + [
        ("sales", r.source_id) for r in leads] == truth
    assert accounting.estimate_total(None) == len(acc)
    assert sales.estimate_total(None) == len(leads)


def test_a_tab_inside_a_quoted_cell_does_not_make_tab_the_delimiter(tmp_path):
    # Found by tests/test_fuzz.py: csv.Sniffer chose the tab and no header was found.
    path = tmp_path / "c.csv"
    path.write_text('id,name,code\r\n1,Ali,"\n""\t"\r\n2,Sara,x\r\n', encoding="utf-8")
    _, records = read(path, id_column="id")
    assert [r.source_id for r in records] == ["1", "2"]
    assert records[0].data["code"] == '\n"\t'
