"""Several files (a glob) and several sheets: their order, ids, checkpoints; snapshots whose
gone rows become deletions, end to end through the pipeline."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest

from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.testing import project
from hub.testing.conformance import AdapterConformance

MAPPING = ("fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
           "  phones.phone:mobile: {from: mobile}\n")


def adapter(root: Path, **options) -> SpreadsheetAdapter:
    return SpreadsheetAdapter(SpreadsheetSettings(**options), context=SourceContext(root))


def read(root: Path, checkpoint: Checkpoint | None = None, **options) -> list[RawRecord]:
    return list(adapter(root, **options).read(checkpoint))


def month(root: Path, name: str, rows: list[tuple[str, str, str]]) -> Path:
    folder = root / "exports"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("code,name,mobile\n" + "".join(f"{c},{n},{m}\n" for c, n, m in rows),
                    encoding="utf-8")
    return settle(path)


def settle(path: Path, age: float = 3600) -> Path:
    """An export copied in ``age`` seconds ago (a glob's files younger than
    settle_seconds wait for the next run)."""
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def sheets_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Tehran"
    book.active.append(["code", "name"])
    book.active.append(["T1", "علی"])
    book.active.append(["T2", "سارا"])
    hidden = book.create_sheet("Archive")
    hidden.append(["code", "name"])
    hidden.append(["A1", "old"])
    hidden.sheet_state = "hidden"
    isfahan = book.create_sheet("Isfahan")
    isfahan.append(["Title of the report"])
    isfahan.append([])
    isfahan.append(["code", "name"])
    isfahan.append(["I1", "رضا"])
    book.save(path)
    return path


class TestSpreadsheetGlobConformance(AdapterConformance):
    """The contract on a glob of three monthly CSV files."""

    adapter_class = SpreadsheetAdapter
    bad_options: ClassVar = {"path": 42, "sheet": ["*"], "snapshot": "yes"}

    def make_source(self, tmp_path: Path) -> dict[str, str]:
        month(tmp_path, "customers-2.csv", [("3", "Reza", "0912"), ("4", "Sara", "0935")])
        month(tmp_path, "customers-10.csv", [("5", "Zahra", "0901")])
        month(tmp_path, "customers-1.csv", [("1", "Ali", "0911"), ("2", "Maryam", "0936")])
        return {"path": "exports/customers-*.csv", "id_column": "code"}


class TestSpreadsheetSheetsConformance(AdapterConformance):
    """The contract on every visible worksheet of one XLSX."""

    adapter_class = SpreadsheetAdapter
    bad_options: ClassVar = {"path": 42, "sheet": [], "row_ids": "place"}

    def make_source(self, tmp_path: Path) -> dict[str, str]:
        sheets_workbook(tmp_path / "branches.xlsx")
        return {"path": "branches.xlsx", "sheet": "*"}


# -- globs -----------------------------------------------------------------------------------------


def test_a_glob_is_read_in_name_order_numbers_as_numbers_lock_files_left_out(tmp_path):
    month(tmp_path, "customers-10.csv", [("10", "a", "1")])
    month(tmp_path, "customers-9.csv", [("9", "b", "2")])
    month(tmp_path, "~$customers-11.csv", [("11", "lock", "3")])

    records = read(tmp_path, path="exports/*customers-*.csv", id_column="code")

    assert [r.source_id for r in records] == ["9", "10"]
    assert [r.location for r in records] == ["customers-9.csv row 2", "customers-10.csv row 2"]
    with pytest.raises(FatalSourceError, match=r"customers-\*\.xlsx: no file matches"):
        read(tmp_path, path="exports/customers-*.xlsx")


def test_a_new_months_file_is_read_and_old_ones_are_not_read_again(tmp_path):
    month(tmp_path, "customers-2024-01.csv", [("1", "Ali", "0912")])
    first = read(tmp_path, path="exports/customers-*.csv", id_column="code")
    done = json.loads(first[-1].checkpoint.value)
    assert done == {"done": {"exports/customers-2024-01.csv": done["done"][
        "exports/customers-2024-01.csv"]}, "at": None}

    month(tmp_path, "customers-2024-02.csv", [("2", "Sara", "0935"), ("3", "Reza", "0901")])
    second = read(tmp_path, first[-1].checkpoint, path="exports/customers-*.csv",
                  id_column="code")
    assert [r.source_id for r in second] == ["2", "3"]
    assert read(tmp_path, second[-1].checkpoint, path="exports/customers-*.csv",
                id_column="code") == []

    # January is replaced by a newer version of itself: it is read again, February not.
    month(tmp_path, "customers-2024-01.csv", [("1", "Ali", "0912"), ("4", "Mina", "0919")])
    third = read(tmp_path, second[-1].checkpoint, path="exports/customers-*.csv",
                 id_column="code")
    assert [r.source_id for r in third] == ["1", "4"]


def test_an_id_in_two_files_is_the_later_files_record(tmp_path):
    month(tmp_path, "customers-1.csv", [("1", "Ali", "0912"), ("2", "Sara", "0935")])
    month(tmp_path, "customers-2.csv", [("1", "Ali Karimi", "0912")])

    records = read(tmp_path, path="exports/customers-*.csv", id_column="code")

    assert [(r.source_id, r.data["name"]) for r in records] == [("2", "Sara"),
                                                                ("1", "Ali Karimi")]


def test_content_ids_of_a_glob_stay_the_same_from_one_file_to_the_next(tmp_path):
    month(tmp_path, "customers-1.csv", [("", "Ali", "0912")])
    [first] = read(tmp_path, path="exports/customers-*.csv", id_column="code")
    month(tmp_path, "customers-2.csv", [("", "Ali", "0912"), ("", "Sara", "0935")])

    # Ali's row in the first file is the same record as in the second: read once.
    same, sara = read(tmp_path, path="exports/customers-*.csv", id_column="code")

    assert first.source_id == same.source_id != sara.source_id
    assert first.source_id.startswith("customers-*.csv:")
    assert same.location == "customers-2.csv row 2"
    assert [r.source_id for r in read(tmp_path, path="exports/customers-*.csv",
                                      row_ids="position")] == [
        "exports/customers-1.csv:row 2", "exports/customers-2.csv:row 2",
        "exports/customers-2.csv:row 3"]


def test_through_the_pipeline_a_glob_read_at_once_has_no_id_conflicts(tmp_path):
    month(tmp_path, "customers-1.csv", [("1", "علی کریمی", "09121234567"),
                                        ("2", "سارا احمدی", "09351112233")])
    month(tmp_path, "customers-2.csv", [("1", "علی کریمی", "09121234568")])
    hub = project(tmp_path, {"crm": ("spreadsheet",
                                     "{path: ../exports/customers-*.csv, id_column: code}",
                                     "m.yaml")}, {"m.yaml": MAPPING})

    [stats] = hub.run()

    assert (stats.created, stats.rejected) == (2, 0)
    assert hub.quarantine() == []
    ali = hub.search("علی")[0].id
    view = hub.customer(ali)
    assert view is not None and view.sources == ["crm/1"]
    assert [v.value for v in view.values if v.path == "phones.phone:mobile"] == [
        "+989121234568"]


# -- several sheets -------------------------------------------------------------------------------


def test_every_visible_sheet_with_its_own_header_and_ids_naming_the_sheet(tmp_path):
    sheets_workbook(tmp_path / "branches.xlsx")

    records = read(tmp_path, path="branches.xlsx", sheet="*")
    by_code = read(tmp_path, path="branches.xlsx", sheet=["Isfahan", "Tehran"],
                   id_column="code")

    assert [(r.data["code"], r.location) for r in records] == [
        ("T1", "branches.xlsx sheet Tehran row 2"), ("T2", "branches.xlsx sheet Tehran row 3"),
        ("I1", "branches.xlsx sheet Isfahan row 4")]   # Archive is hidden
    assert records[0].source_id.startswith("branches.xlsx:Tehran:")
    assert records[2].source_id.startswith("branches.xlsx:Isfahan:")
    assert [r.source_id for r in by_code] == ["I1", "T1", "T2"]
    assert [r.source_id for r in read(tmp_path, path="branches.xlsx", sheet=["Archive"],
                                      row_ids="position")] == ["branches.xlsx:Archive:row 2"]


def test_the_checkpoint_covers_the_position_within_several_sheets(tmp_path):
    sheets_workbook(tmp_path / "branches.xlsx")
    options = {"path": "branches.xlsx", "sheet": "*", "id_column": "code"}
    taken = list(itertools.islice(adapter(tmp_path, **options).read(None), 2))

    at = json.loads(taken[-1].checkpoint.value)["at"]
    rest = read(tmp_path, taken[-1].checkpoint, **options)

    assert at[2:] == ["Tehran", 3]
    assert [r.source_id for r in rest] == ["I1"]
    assert adapter(tmp_path, **options).estimate_total(taken[0].checkpoint) == 2


# -- snapshots, end to end ------------------------------------------------------------------------


def snapshot_project(root: Path, options: str = "{path: ../customers.csv, id_column: code, "
                                                 "snapshot: true}"):
    return project(root, {"crm": ("spreadsheet", options, "m.yaml")}, {"m.yaml": MAPPING},
                   batch_size=2)


def write(root: Path, rows: list[tuple[str, str, str]]) -> None:
    (root / "customers.csv").write_text(
        "code,name,mobile\n" + "".join(f"{c},{n},{m}\n" for c, n, m in rows),
        encoding="utf-8")


ALI = ("1", "علی کریمی", "09121234567")
ALI_AGAIN = ("2", "Ali Karimi", "09121234567")
SARA = ("3", "سارا احمدی", "09351112233")
REZA = ("4", "رضا یزدانی", "09011112233")


def test_a_replaced_snapshot_counts_only_changed_rows_and_closes_the_gone_ones(tmp_path):
    write(tmp_path, [ALI, ALI_AGAIN, SARA, REZA])
    hub = snapshot_project(tmp_path)
    hub.run()
    ali = hub.search("Karimi")[0].id
    before = len(hub.events())

    # The file is replaced: row 2 is gone, Reza's mobile changed, the rest as it was.
    write(tmp_path, [ALI, SARA, ("4", "رضا یزدانی", "09011112244")])
    [stats] = hub.run()

    assert (stats.closed, stats.created, stats.changed) == (1, 0, 1)
    assert stats.unchanged == 2
    updated = [e for e in hub.events()[before:] if e.type == "customer.updated"]
    closing = [e for e in updated if e.data.get("closed_sources")]
    assert [e.subject for e in closing] == [ali]
    assert closing[0].data["closed_sources"] == [{"system": "crm", "id": "2"}]
    view = hub.customer(ali)
    assert view is not None and view.sources == ["crm/1"]

    # The same snapshot again: nothing read, nothing published.
    again_before = len(hub.events())
    [again] = hub.run()
    assert (again.read, again.closed) == (0, 0)
    assert len(hub.events()) == again_before


def test_without_snapshot_a_gone_row_stays_open(tmp_path):
    write(tmp_path, [ALI, ALI_AGAIN, SARA])
    hub = snapshot_project(tmp_path, "{path: ../customers.csv, id_column: code}")
    hub.run()
    write(tmp_path, [ALI, SARA])

    [stats] = hub.run()

    assert stats.closed == 0
    assert hub.customer(hub.search("Karimi")[0].id).sources == ["crm/1", "crm/2"]


def test_deletions_come_before_the_last_row_so_an_interrupted_run_finds_them_again(tmp_path):
    write(tmp_path, [ALI, SARA, REZA])
    known = ["1", "2", "3", "4", "9"]
    source = SpreadsheetAdapter(
        SpreadsheetSettings(path="customers.csv", id_column="code", snapshot=True),
        context=SourceContext(tmp_path, known_ids=lambda: iter(known)))

    records = list(source.read(None))

    assert [(r.source_id, r.deleted) for r in records] == [
        ("1", False), ("3", False), ("2", True), ("9", True), ("4", False)]
    assert records[2].checkpoint == records[1].checkpoint   # through Sara's row, not Reza's
    resumed = list(source.read(records[2].checkpoint))
    assert [(r.source_id, r.deleted) for r in resumed] == [("2", True), ("9", True),
                                                           ("4", False)]
    assert list(source.read(records[-1].checkpoint)) == []


def test_a_snapshot_without_rows_deletes_nothing(tmp_path):
    (tmp_path / "customers.csv").write_text("code,name,mobile\n", encoding="utf-8")
    source = SpreadsheetAdapter(
        SpreadsheetSettings(path="customers.csv", id_column="code", snapshot=True),
        context=SourceContext(tmp_path, known_ids=lambda: iter(["1", "2"])))

    with pytest.raises(FatalSourceError, match=r"the snapshot holds no rows.*2 records"):
        list(source.read(Checkpoint("0:1")))


def test_a_file_removed_from_a_snapshot_glob_closes_its_records(tmp_path):
    month(tmp_path, "branch-1.csv", [ALI])
    month(tmp_path, "branch-2.csv", [SARA])
    options = "{path: ../exports/branch-*.csv, id_column: code, snapshot: true}"
    hub = snapshot_project(tmp_path, options)
    hub.run()
    (tmp_path / "exports" / "branch-2.csv").unlink()

    [stats] = hub.run()

    assert (stats.read, stats.closed) == (1, 1)
    assert hub.count_customers() == 1


def test_several_sheets_streamed_give_the_same_records(tmp_path, monkeypatch):
    path = sheets_workbook(tmp_path / "branches.xlsx")
    book = openpyxl.load_workbook(path)
    book.create_sheet("Empty")
    book.save(path)
    by_calamine = read(tmp_path, path="branches.xlsx", sheet="*")
    monkeypatch.setattr("adapters._workbook.STREAM_FROM_BYTES", 0)

    streamed = read(tmp_path, path="branches.xlsx", sheet="*")

    assert [(r.source_id, r.data, r.location, r.checkpoint) for r in streamed] == \
        [(r.source_id, r.data, r.location, r.checkpoint) for r in by_calamine]
    assert len(streamed) == 3


# --- files still being written ---------------------------------------------------------

def test_a_file_still_being_copied_into_a_glob_waits_for_the_next_run(tmp_path):
    month(tmp_path, "customers-1.csv", [("1", "علی کریمی", "09121234567")])
    copying = tmp_path / "exports" / "customers-2.xlsx"
    copying.write_bytes(b"PK\x03\x04" + b"\x00" * 100)   # the first bytes of a workbook
    source = adapter(tmp_path, path="exports/customers-*.*", id_column="code")

    first = list(source.read(None))
    assert [r.source_id for r in first] == ["1"]
    assert source.total(None) == 1

    sheets_workbook(copying)                           # the copy is complete...
    assert list(source.read(first[-1].checkpoint)) == []
    settle(copying)                                    # ...and has settled
    assert [r.source_id for r in source.read(first[-1].checkpoint)] == ["T1", "T2"]


def test_a_snapshot_glob_reads_nothing_and_closes_nothing_until_every_file_settled(tmp_path):
    month(tmp_path, "branch-1.csv", [ALI])
    month(tmp_path, "branch-2.csv", [SARA])
    hub = snapshot_project(tmp_path, "{path: ../exports/branch-*.csv, id_column: code, "
                                     "snapshot: true}")
    hub.run()
    (tmp_path / "exports" / "branch-2.csv").write_text("code,name,mobile\n",
                                                       encoding="utf-8")   # being rewritten
    [waiting] = hub.run()
    assert (waiting.read, waiting.closed) == (0, 0)

    settle(tmp_path / "exports" / "branch-2.csv")
    [stats] = hub.run()
    assert (stats.read, stats.closed) == (1, 1)


@pytest.mark.parametrize("name", ["customers-3.csv.part", ".~lock.customers-3.csv#",
                                  "~$customers-3.csv", ".customers-3.csv.Xy12ab"])
def test_names_of_files_still_being_written_are_never_read(tmp_path, name):
    month(tmp_path, "customers-1.csv", [("1", "علی کریمی", "09121234567")])
    month(tmp_path, name, [("3", "رضا یزدانی", "09197654321")])
    records = read(tmp_path, path="exports/*customers-*", id_column="code")
    assert [r.source_id for r in records] == ["1"]


def test_settle_seconds_must_not_be_negative(tmp_path):
    with pytest.raises(ConfigError, match=r"options\.settle_seconds: must be 0 or more"):
        SpreadsheetAdapter.from_options({"path": "x-*.csv", "settle_seconds": -1},
                                        where="p.yaml", context=SourceContext(tmp_path))
