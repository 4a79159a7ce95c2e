"""An id names one record: a repeated id with other content is a conflict in quarantine,
never a silent choice (finding M5); identical copies are harmless."""

from __future__ import annotations

from pathlib import Path

from hub.app import Hub
from hub.testing import project

MAPPING = ("fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
           "  phones.phone:mobile: {from: mobile}\n  emails.email: {from: email}\n")


def _hub(root: Path, rows: str, batch_size: int = 500) -> Hub:
    (root / "in.csv").write_text("id,name,mobile,email\n" + rows, encoding="utf-8")
    return project(root, {"src": ("spreadsheet", "{path: ../in.csv, id_column: id}", "m.yaml")},
                   {"m.yaml": MAPPING}, batch_size=batch_size)


def test_one_id_on_two_different_rows_holds_both_back(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "A1,Ali Karimi,09121000001,a1@example.com\n"
                         "A1,Sara Rad,09121000002,a2@example.com\n"
                         "B2,Reza Yazdani,09121000003,\n")
    [stats] = hub.run()
    assert (stats.read, stats.rejected, stats.created, stats.unchanged) == (3, 2, 1, 0)
    entries = hub.quarantine()
    assert [(e.source_id, e.stage) for e in entries] == [("A1", "conflict"), ("A1", "conflict")]
    assert "source id 'A1' is given to different records (in.csv row 2, in.csv row 3)" \
        in entries[0].reason
    assert [s.display_name for s in hub.search("Sara")] == []


def test_a_later_copy_in_another_batch_is_held_back_and_names_the_first(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "A1,Ali Karimi,09121000001,a1@example.com\n"
                         "B2,Reza Yazdani,09121000003,\n"
                         "A1,Sara Rad,09121000002,a2@example.com\n", batch_size=1)
    [stats] = hub.run()
    assert (stats.created, stats.rejected) == (2, 1)
    [entry] = hub.quarantine()
    assert entry.location == "in.csv row 4"
    assert "(in.csv row 2, in.csv row 4)" in entry.reason
    assert [s.display_name for s in hub.search("Karimi")] == ["Ali Karimi"]


def test_identical_copies_are_one_record(tmp_path: Path) -> None:
    row = "A1,Ali Karimi,09121000001,a1@example.com\n"
    hub = _hub(tmp_path, row + row + row, batch_size=2)
    [stats] = hub.run()
    assert (stats.created, stats.rejected, stats.unchanged) == (1, 0, 2)
    assert hub.quarantine() == []


def test_after_the_source_fixes_the_clash_the_edited_record_is_accepted(tmp_path: Path) -> None:
    _hub(tmp_path, "A1,Ali Karimi,09121000001,a1@example.com\n"
                   "A1,Ali Karimi,not a phone,a1@example.com\n").run()
    hub = _hub(tmp_path, "A1,Ali Karimi,09121000009,a1@example.com\n")
    [stats] = hub.run()
    assert (stats.created, stats.rejected) == (1, 0)
    assert hub.quarantine() == []
    view = hub.customer(hub.search("Ali Karimi")[0].id)
    assert view is not None
    assert [v.value for v in view.values if v.path == "phones.phone:mobile"] == ["+989121000009"]


def test_without_an_id_column_an_inserted_row_changes_nothing_else(tmp_path: Path) -> None:
    rows = "".join(f"Person {n},0912100{n:04d},p{n}@example.com\n" for n in range(1, 18))
    (tmp_path / "in.csv").write_text("name,mobile,email\n" + rows, encoding="utf-8")
    hub = project(tmp_path, {"src": ("spreadsheet", "{path: ../in.csv}", "m.yaml")},
                  {"m.yaml": MAPPING})
    [first] = hub.run()
    assert first.created == 17
    ids = {s.id for s in hub.search("Person")}
    events = len(hub.events())
    # One new customer at the top of the file: every other row moved down by one.
    (tmp_path / "in.csv").write_text("name,mobile,email\nNew Person,09129999999,\n" + rows,
                                     encoding="utf-8")
    [second] = hub.run()
    assert (second.read, second.created, second.changed, second.unchanged) == (18, 1, 0, 17)
    assert len(hub.events()) == events + 1
    assert ids < {s.id for s in hub.search("Person", limit=50)}
