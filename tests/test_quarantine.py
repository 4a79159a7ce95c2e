"""Quarantine: nothing dropped, replayable after a fix, closed when the source is fixed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.store import quarantine
from hub.store.engine import open_engine
from hub.store.queries import count_masters

CSV = "id,name,born,mobile\n1,علی کریمی,1365/04/12,09121234567\n2,سارا احمدی,1370/1/2,0912abc\n"


def _workspace(root: Path, calendar: str) -> None:
    (root / "pipelines").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    (root / "pipelines" / "people.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../people.csv, id_column: id}\n"
        "source_system: crm\nmapping: people.yaml\n", encoding="utf-8")
    (root / "mappings" / "people.yaml").write_text(
        "fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
        f"  birthDate: {{from: born, calendar: {calendar}}}\n"
        "  phones.phone:mobile: {from: mobile}\n", encoding="utf-8")
    (root / "config.yaml").write_text("pipelines: [people]\n", encoding="utf-8")


def _peyvand(cwd: Path, *args: str, code: int = 0) -> str:
    done = subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == code, done.stderr
    return done.stdout


def test_replay_after_a_mapping_fix_and_resolution_after_a_source_fix(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(CSV, encoding="utf-8")
    _workspace(tmp_path, "gregorian")   # wrong: the source writes Jalali dates
    _peyvand(tmp_path, "run", code=3)   # 3: new entries in quarantine
    engine = open_engine(f"sqlite:///{tmp_path}/.peyvand/master.sqlite")
    # Both people are customers; their dates (and Sara's phone) wait, set aside.
    assert count_masters(engine) == 2
    open_entries = {e.source_id: e for e in quarantine.entries(engine)}
    assert {sid: [p.field for p in e.problems] for sid, e in open_entries.items()} == {
        "1": ["birthDate"], "2": ["birthDate", "phones.phone:mobile"]}
    assert all(e.kind == "values" for e in open_entries.values())

    _workspace(tmp_path, "jalali")      # the integrator fixes the mapping
    shown = _peyvand(tmp_path, "quarantine", "replay")
    assert "Accepted 2 record(s); 0 still in quarantine." in shown
    assert count_masters(engine) == 2
    [left] = quarantine.entries(engine)
    # Its date is fine now and back in the master; what still waits is the phone.
    assert (left.source_id, [p.field for p in left.problems]) == (
        "2", ["phones.phone:mobile"])
    assert "'0912abc'" in left.reason

    # The source system fixes the phone; the next run accepts it and closes the entry.
    (tmp_path / "people.csv").write_text(CSV.replace("0912abc", "09351234567"),
                                         encoding="utf-8")
    _peyvand(tmp_path, "run")
    assert quarantine.entries(engine) == []
    assert count_masters(engine) == 2
