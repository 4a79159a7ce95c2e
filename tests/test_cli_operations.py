"""The integrator's commands, as a user runs them: preview, runs, checkpoint show and reset,
run --full, and check opening the sources."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.testing import project

ROWS = ("id,name,mobile\n1,علي كريمي,09121234567\n2,[/] Rad :x:,0912abc\n")
MAPPING = "fields:\n  name.full: {from: name}\n  phones.phone:mobile: {from: mobile}\n"


def _peyvand(root: Path, *args: str, code: int = 0) -> str:
    done = subprocess.run([sys.executable, "-m", "hub", "--config", str(root / "config.yaml"),
                           *args], capture_output=True, encoding="utf-8", timeout=120)
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout + done.stderr


def _project(root: Path, mapping: str = MAPPING) -> None:
    (root / "in.csv").write_text(ROWS, encoding="utf-8")
    project(root, {"crm": ("spreadsheet", "{path: ../in.csv, id_column: id}", "m.yaml")},
            {"m.yaml": mapping})


def test_preview_shows_values_and_what_is_set_aside_without_writing(tmp_path: Path) -> None:
    _project(tmp_path)
    shown = _peyvand(tmp_path, "preview", "crm")
    assert "#1 in.csv row 2  (record 1)" in shown
    assert "name.full: علی کریمی   (from 'علي كريمي')" in shown
    assert "phones.phone:mobile: +989121234567" in shown
    assert "name.full: [/] Rad :x:" in shown            # data, never markup
    assert "set aside: phones.phone:mobile: '0912abc'" in shown
    # Nothing was written, not even a store.
    assert not (tmp_path / "store.sqlite").exists()
    assert "no store at" in _peyvand(tmp_path, "runs", code=75)


def test_runs_checkpoints_and_a_full_refresh(tmp_path: Path) -> None:
    _project(tmp_path)
    _peyvand(tmp_path, "run", code=3)
    assert "crm: " in _peyvand(tmp_path, "checkpoint", "show") and \
        ":3  (saved " in _peyvand(tmp_path, "checkpoint", "show", "crm")
    again = _peyvand(tmp_path, "run", "--full")
    assert "Customer master: 2 customers. Events published: 0." in again
    history = _peyvand(tmp_path, "runs")
    assert history.count("finished") == 2
    assert "checkpoint removed" in _peyvand(tmp_path, "checkpoint", "reset", "crm")
    assert "none: the next run reads the source from the start" in \
        _peyvand(tmp_path, "checkpoint", "show", "crm")


def test_check_opens_the_source_and_names_a_missing_column(tmp_path: Path) -> None:
    _project(tmp_path, MAPPING.replace("{from: mobile}", "{from: mobil}"))
    shown = _peyvand(tmp_path, "check", code=2)
    assert "column 'mobil' of m.yaml is not in the source" in shown
    assert "Did you mean 'mobile'?" in shown
