"""CSV rows the csv module alone would get wrong: a quote that never closes, a field too
long to be a cell, an empty file (findings M4, L4, L9). A bad row is set aside with its
problem and the rows after it are still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import FatalSourceError
from hub.records import RawRecord

HEADER = "id,name,mobile,email\n"


def read(path: Path, **options) -> tuple[SpreadsheetAdapter, list[RawRecord]]:
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                                 context=SourceContext(base_dir=Path.cwd()))
    return adapter, list(adapter.read(None))


def test_a_quote_that_never_closes_sets_its_row_aside_and_keeps_the_rows_after(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "A1,Ali,09121000001,a1@example.com\n"
                    'A2,"Reza,09121000002,a2@example.com\n'
                    "A3,Sara,09121000003,a3@example.com\n"
                    "A4,Mina,09121000004,a4@example.com\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.source_id for r in records] == ["A1", "A2", "A3", "A4"]
    assert [r.location for r in records] == [f"in.csv row {n}" for n in (2, 3, 4, 5)]
    bad = records[1]
    assert bad.problem == "a quote opened in row 3 never closes; rows 3-5 were read as one field"
    assert bad.data == {"id": "A2", "name": "Reza,09121000002,a2@example.com", "mobile": None,
                        "email": None}
    assert [r.problem for r in records if r is not bad] == [None, None, None]
    assert records[2].data == {"id": "A3", "name": "Sara", "mobile": "09121000003",
                               "email": "a3@example.com"}


def test_a_quote_closed_rows_later_by_another_quote_is_caught_too(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + 'A2,"Reza,09121000002,a2@example.com\n'
                    "A3,Sara,09121000003,a3@example.com\n"
                    'A4,"Mina",09121000004,a4@example.com\n'
                    "A5,Nima,09121000005,a5@example.com\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.source_id for r in records] == ["A2", "A3", "A4", "A5"]
    assert records[0].problem == ("a quote opened in row 2 does not close until row 4; "
                                  "rows 2-4 were read as one field")
    assert [r.problem for r in records[1:]] == [None, None, None]
    assert records[2].data["name"] == "Mina"


def test_a_quote_that_swallows_whole_rows_and_closes_cleanly_is_caught(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + 'A2,"Reza,09121000002,a2@example.com\n'
                    "A3,Sara,09121000003,a3@example.com\n"
                    'A4,Mina",09121000004,a4@example.com\n'
                    "A5,Nima,09121000005,a5@example.com\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    # The stray quote of row 4 closes the quote of row 2 before a comma: the csv module
    # sees one well-formed record, but its field holds a whole row (row 3).
    assert [r.source_id for r in records] == ["A2", "A3", "A4", "A5"]
    assert records[0].problem == ("a quote opened in row 2 does not close until row 4; "
                                  "rows 2-4 were read as one field")
    assert [r.problem for r in records[1:]] == [None, None, None]
    assert records[1].data["name"] == "Sara"
    assert records[2].data["name"] == 'Mina"'


def test_a_row_over_a_mebibyte_is_set_aside_without_being_held_whole(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + f"A1,{'x,' * 600_000}y\nA2,Sara,09121000002,a2@example.com\n",
                    encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.source_id for r in records] == ["A1", "A2"]
    assert records[0].problem == "row 2 is over 1 MiB long, so it was set aside"
    assert records[1].problem is None


def test_a_quoted_field_with_line_breaks_inside_is_one_cell(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,name,address,city\n"
                    '1,Ali,"Valiasr St., No. 12\nUnit 4, floor 2",Tehran\n'
                    '2,Sara,"Zand St.\r\nAlley 3",Shiraz\n'
                    "3,Reza,Hafez St.,Tabriz\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.problem for r in records] == [None, None, None]
    assert [r.data["address"] for r in records] == ["Valiasr St., No. 12\nUnit 4, floor 2",
                                                    "Zand St.\r\nAlley 3", "Hafez St."]
    # A spreadsheet program shows each record on one row: the rows count records.
    assert [r.location for r in records] == ["in.csv row 2", "in.csv row 3", "in.csv row 4"]


def test_a_runaway_quote_in_a_large_file_loses_only_its_row(tmp_path):
    rows = [f"A{i},Name {i},0912{i:07},a{i}@example.com" for i in range(1, 5001)]
    rows[1] = 'A2,"Reza,09121000002,a2@example.com'
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.source_id for r in records] == [f"A{i}" for i in range(1, 5001)]
    problems = [r for r in records if r.problem]
    assert [r.source_id for r in problems] == ["A2"]
    assert problems[0].problem.startswith("a quote opened in row 3 ")
    assert "one field" in problems[0].problem
    assert records[-1].data["email"] == "a5000@example.com"


def test_a_field_over_the_csv_module_limit_sets_aside_its_row_only(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "A1,Ali,09121000001,a1@example.com\n"
                    f"A2,{'x' * 140_000},09121000002,a2@example.com\n"
                    "A3,Sara,09121000003,a3@example.com\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert [r.source_id for r in records] == ["A1", "A2", "A3"]
    assert records[1].problem == ("row 3 has a field of 140,000 characters; a cell holds at "
                                  "most 32,767, so the row was set aside")
    assert [records[0].problem, records[2].problem] == [None, None]


def test_a_field_over_the_spreadsheet_cell_limit_sets_aside_its_row(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER + f"A1,Ali,09121000001,{'n' * 40_000}\n"
                    "A2,Sara,09121000002,a2@example.com\n", encoding="utf-8")

    _, records = read(path, id_column="id")

    assert records[0].problem == ("row 2 has a field of 40,000 characters; a cell holds at "
                                  "most 32,767, so the row was set aside")
    assert records[1].problem is None


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_lines_end_as_text_mode_ends_them(tmp_path, ending):
    path = tmp_path / "mac.csv"
    path.write_bytes(ending.join(["id,name,note", 'A1,Ali,"two\rlines"', "A2,Sara,x", ""])
                     .encode("utf-16"))

    _, records = read(path, id_column="id")

    assert [(r.source_id, r.data["note"], r.problem) for r in records] == [
        ("A1", "two\rlines", None), ("A2", "x", None)]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\r\n \r\n"])
def test_an_empty_file_says_so(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    with pytest.raises(FatalSourceError, match=r"empty\.csv: the file is empty"):
        read(path)


def test_an_empty_workbook_file_says_so(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")

    with pytest.raises(FatalSourceError, match=r"empty\.xlsx: the file is empty"):
        read(path)
