"""One run of a pipeline at a time, across processes, on SQLite and PostgreSQL stores.

A start while the pipeline runs elsewhere does nothing and says who runs it (exit 75); a
run of several pipelines takes all their locks first, so it runs all or none; a run
killed with SIGKILL leaves no lock behind. The first run is a real ``peyvand run``,
stopped (SIGSTOP) after its first committed batch so the overlap is certain.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from hub.store.engine import open_engine
from hub.store.tables import checkpoints, runs
from hub.testing import write_synthetic_csv


@pytest.fixture(name="workspace")
def _workspace(tmp_path: Path, store_url: str) -> Iterator[tuple[Path, Engine]]:
    """Two pipelines: ``big`` (1,500 people and their duplicates, batches of 50) and
    ``small`` (20 people)."""
    (tmp_path / "pipelines").mkdir()
    for name, people in (("big", 1500), ("small", 20)):
        write_synthetic_csv(tmp_path / f"{name}.csv", people, seed=len(name))
        (tmp_path / "pipelines" / f"{name}.yaml").write_text(
            f"adapter: spreadsheet\noptions: {{path: {tmp_path / name}.csv, id_column: کد مشتری}}"
            f"\nsource_system: {name}\nmapping: accounting_customers.yaml\n",
            encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        f"store: {{url: '{store_url}'}}\npipelines: [big, small]\nrun: {{batch_size: 50}}\n",
        encoding="utf-8")
    engine = open_engine(store_url)
    yield tmp_path / "config.yaml", engine
    engine.dispose()


def _peyvand(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=300)


def _stopped_mid_run(config: Path, engine: Engine) -> subprocess.Popen[bytes]:
    """A ``peyvand run big`` stopped (SIGSTOP) after its first committed batch."""
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--config", str(config), "run",
                             "big"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with engine.connect() as conn:
            if conn.execute(select(checkpoints.c.value)
                            .where(checkpoints.c.pipeline == "big")).scalar():
                os.kill(proc.pid, signal.SIGSTOP)
                return proc
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"the run ended (code {proc.returncode}) before its first batch was seen")


def _runs_of(engine: Engine, pipeline: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(runs)
                                .where(runs.c.pipeline == pipeline)).scalar_one())


def test_a_second_start_while_a_pipeline_runs_does_nothing_and_says_who_runs_it(
        workspace: tuple[Path, Engine]) -> None:
    config, engine = workspace
    first = _stopped_mid_run(config, engine)
    try:
        second = _peyvand(config, "sync", "big")
        assert second.returncode == 75, second.stderr
        assert "pipeline 'big' is being run by another process" in second.stderr
        assert "this run did nothing" in second.stderr
        if "sqlite" in engine.url.drivername:
            assert f"(pid {first.pid})" in second.stderr
        assert _runs_of(engine, "big") == 1   # the refused start recorded no run
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert first.wait(timeout=300) in (0, 3)
    again = _peyvand(config, "sync", "big")
    assert again.returncode == 0, again.stderr
    assert "big: read 0," in again.stdout   # the first run read it all: nothing twice


def test_a_run_of_several_pipelines_runs_none_while_one_of_them_is_busy(
        workspace: tuple[Path, Engine]) -> None:
    config, engine = workspace
    first = _stopped_mid_run(config, engine)
    try:
        every = _peyvand(config, "sync")
        assert every.returncode == 75, every.stderr
        assert "pipeline 'big'" in every.stderr
        assert _runs_of(engine, "small") == 0
        alone = _peyvand(config, "sync", "small")   # another pipeline is not held up
        assert alone.returncode in (0, 3), alone.stderr
        assert _runs_of(engine, "small") == 1
    finally:
        os.kill(first.pid, signal.SIGCONT)
        first.wait(timeout=300)


def test_a_run_killed_mid_way_leaves_no_lock(workspace: tuple[Path, Engine]) -> None:
    config, engine = workspace
    first = _stopped_mid_run(config, engine)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    resumed = _peyvand(config, "sync", "big")
    assert resumed.returncode in (0, 3), resumed.stderr
    read = int(resumed.stdout.split("big: read ", 1)[1].split(",", 1)[0])
    with (config.parent / "big.csv").open(encoding="utf-8", newline="") as f:
        total = sum(1 for _ in csv.reader(f)) - 1   # without the header
    assert 0 < read < total   # it resumed after the killed run's committed batches
