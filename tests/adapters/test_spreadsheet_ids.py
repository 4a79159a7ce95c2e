"""Source ids of spreadsheet rows: one id column, a composite key, or, without either, the
row's content (by default) or its position."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError
from hub.records import RawRecord

CONTENT_ID = re.compile(r"leads\.csv:[0-9a-f]{12}")


def read(path: Path, **options) -> list[RawRecord]:
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                                 context=SourceContext(base_dir=Path.cwd()))
    return list(adapter.read(None))


def ids(path: Path, **options) -> list[str]:
    return [r.source_id for r in read(path, **options)]


def test_without_an_id_column_the_id_is_the_rows_content(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("name,mobile\nAli,0912\nSara,0935\n", encoding="utf-8")
    before = ids(path)

    path.write_text("name,mobile\nReza,0901\nAli,0912\nSara,0935\n", encoding="utf-8")
    after = ids(path)

    assert all(CONTENT_ID.fullmatch(i) for i in before + after)
    assert after[1:] == before          # a row inserted at the top moves no other id
    assert after[0] not in before


def test_content_ids_follow_the_values_not_the_place(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("name,mobile,note\nAli,0912,\nAli,0912\nAli,0913,\nAli,0912,,\n",
                    encoding="utf-8")

    first, short, edited, padded = ids(path)

    assert first == short == padded     # the same record: trailing empty cells are nothing
    assert edited != first              # an edited row is a new record


def test_row_ids_position_keeps_the_file_and_row(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("name,mobile\nAli,0912\nAli,0912\n", encoding="utf-8")

    assert ids(path, row_ids="position") == ["leads.csv:row 2", "leads.csv:row 3"]


def test_a_blank_id_falls_back_to_the_row_ids_rule(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("code,name\n1001,a\n,b\n", encoding="utf-8")

    by_content = ids(path, id_column="code")
    by_position = ids(path, id_column="code", row_ids="position")

    assert by_content[0] == "1001" and CONTENT_ID.fullmatch(by_content[1])
    assert by_position == ["1001", "leads.csv:row 3"]


def test_a_composite_key_joins_its_columns(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("branch,code,name\nB1,1001,a\nB2,1001,b\nB2,,c\n,,d\n", encoding="utf-8")

    got = ids(path, id_column=("branch", "code"), row_ids="position")

    assert got == ["B1|1001", "B2|1001", "B2|", "leads.csv:row 5"]


def test_a_composite_key_from_options_matches_persian_letters_and_lists_unknown_columns(
        tmp_path):
    path = tmp_path / "holoo.csv"
    path.write_bytes("شعبه;كد مشتري;نام\r\n1;1001;علي\r\n".encode("cp1256"))
    adapter = SpreadsheetAdapter.from_options(
        {"path": "holoo.csv", "id_column": ["شعبه", "کد مشتری"]}, where="p.yaml",
        context=SourceContext(base_dir=tmp_path))

    assert [r.source_id for r in adapter.read(None)] == ["1|1001"]
    with pytest.raises(FatalSourceError, match=r"options\.id_column 'کد' is not a column; "
                                                  r"the columns are 'شعبه', 'كد مشتري', 'نام'"):
        read(path, id_column=("شعبه", "کد"))


@pytest.mark.parametrize(("options", "problem"), [
    ({"row_ids": "hash"}, "options.row_ids"),
    ({"id_column": []}, "options.id_column"),
    ({"id_column": ["a", ""]}, "options.id_column"),
])
def test_bad_id_options_are_config_errors(options, problem):
    with pytest.raises(ConfigError, match=problem):
        SpreadsheetAdapter.from_options({"path": "x.csv", **options}, where="p.yaml",
                                        context=SourceContext(base_dir=Path.cwd()))
