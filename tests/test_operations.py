"""What an integrator does around runs: run history, checkpoints shown and reset, a full
refresh that keeps master ids, a preview that writes nothing, sources checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.app import Hub
from hub.errors import ConfigError
from hub.store.tables import outbox, source_records
from hub.testing import project

MAPPING = ("fields:\n  name.full: {from: name}\n  phones.phone:mobile: {from: mobile}\n"
           "  emails.email: {from: email}\n")
ROWS = ("id,name,mobile,email\n1,علی کریمی,09121234567,ali@x.ir\n"
        "2,سارا احمدی,0912abc,sara@x.ir\n3,,,\n")


def _hub(root: Path, rows: str = ROWS, mapping: str = MAPPING) -> Hub:
    (root / "in.csv").write_text(rows, encoding="utf-8")
    return project(root, {"crm": ("spreadsheet", "{path: ../in.csv, id_column: id}", "m.yaml")},
                   {"m.yaml": mapping})


def _count(hub: Hub, table: object) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_runs_are_recorded_with_their_numbers(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    hub.run()
    hub.run()
    latest, first = hub.runs()
    assert (first.status, first.stats["created"], first.stats["set_aside"]) == ("finished", 2, 1)
    assert first.stats["rejected"] == 1
    assert latest.stats["read"] == 0   # resumed after the last row
    assert first.finished_at is not None and latest.id > first.id


def test_a_failed_run_is_recorded_with_its_error(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    (tmp_path / "in.csv").unlink()
    with pytest.raises(Exception, match="no such file"):
        hub.run()
    [failed] = hub.runs()
    assert failed.status == "failed" and "no such file" in (failed.error or "")


def test_a_full_refresh_reads_everything_again_and_keeps_the_ids(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    hub.run()
    ids = {s.id for s in hub.search("علی")} | {s.id for s in hub.search("سارا")}
    position = hub.checkpoint("crm")
    assert position is not None and position[0].endswith(":4")
    events = _count(hub, outbox)
    [stats] = hub.run(full=True)
    assert (stats.read, stats.unchanged, stats.created) == (3, 2, 0)
    assert {s.id for s in hub.search("علی")} | {s.id for s in hub.search("سارا")} == ids
    assert _count(hub, outbox) == events
    assert hub.reset_checkpoint("crm") is True
    assert hub.checkpoint("crm") is None
    with pytest.raises(ConfigError, match="Did you mean 'crm'"):
        hub.reset_checkpoint("cmr")


def test_a_preview_shows_what_would_happen_and_writes_nothing(tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    rows = hub.preview("crm", limit=2)
    assert [r.raw.source_id for r in rows] == ["1", "2"]
    assert rows[0].record is not None and rows[0].record.first("phones.phone:mobile") == \
        "+989121234567"
    assert rows[1].record is not None
    assert [p.field for p in rows[1].record.set_aside] == ["phones.phone:mobile"]
    [third] = hub.preview("crm", limit=3)[2:]
    assert third.record is None and third.rejected is not None
    assert _count(hub, source_records) == 0 and _count(hub, outbox) == 0


def test_check_opens_each_source_and_names_a_missing_column(tmp_path: Path) -> None:
    hub = _hub(tmp_path, mapping=MAPPING.replace("{from: mobile}", "{from: mobil}"))
    hub.check()   # the files alone are fine
    with pytest.raises(ConfigError) as info:
        hub.check(sources=True)
    [problem] = info.value.problems
    assert "column 'mobil' of m.yaml is not in the source (in.csv row 2)" in problem
    assert "Did you mean 'mobile'?" in problem
