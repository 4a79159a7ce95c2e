"""Errors reach the user as sentences with an exit code, not as tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _peyvand(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_bad_mapping_stops_with_every_problem_and_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "data.csv").write_text("name,mobile\nعلی,09121234567\n", encoding="utf-8")
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../data.csv, delimter: ','}\n"
        "source_system: s\nmapping: m.yaml\n", encoding="utf-8")
    (tmp_path / "mappings" / "m.yaml").write_text(
        "fields:\n  name.ful: {from: name}\n  phones.phone:cell: {from: mobile}\n",
        encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [p]\n", encoding="utf-8")
    done = _peyvand(tmp_path, "check")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "options.delimter: unknown setting. Did you mean 'delimiter'?" in done.stderr
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../data.csv}\nsource_system: s\n"
        "mapping: m.yaml\n", encoding="utf-8")
    done = _peyvand(tmp_path, "run")
    assert done.returncode == 2
    assert "Did you mean 'name.full'?" in done.stderr
    assert "'cell' is not a type of phones.phone" in done.stderr


def test_unknown_adapter_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "adapter: spreadshet\noptions: {path: nothing.csv}\nsource_system: s\n"
        "mapping: accounting_customers.yaml\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [p]\n", encoding="utf-8")
    done = _peyvand(tmp_path, "run")
    assert done.returncode == 2
    assert "no adapter 'spreadshet'. Did you mean 'spreadsheet'?" in done.stderr
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: nothing.csv}\nsource_system: s\n"
        "mapping: accounting_customers.yaml\n", encoding="utf-8")
    done = _peyvand(tmp_path, "run")
    assert done.returncode == 2    # a source that cannot be read as configured
    assert "nothing.csv" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_customer(tmp_path: Path) -> None:
    assert _peyvand(tmp_path, "relay").returncode == 0   # makes the demo's (empty) store
    done = _peyvand(tmp_path, "master", "show", "C000")
    assert done.returncode == 1
    assert "there is no customer 'C000' in the master" in done.stderr
