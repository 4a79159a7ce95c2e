"""Kill ``peyvand run`` with SIGKILL mid-run, run it again: nothing lost, nothing doubled.

The resumed store must hold exactly what a run that was never interrupted holds: the
same source records, the same customers with the same golden records, each customer's
event versions contiguous from 1, and every event id once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hub.store.engine import open_engine
from hub.store.tables import checkpoints, masters, outbox, source_records
from hub.testing import write_synthetic_csv

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "accounting_customers.yaml"


def _workspace(root: Path, csv: Path) -> Path:
    (root / "pipelines").mkdir(parents=True)
    (root / "pipelines" / "synthetic.yaml").write_text(
        f"adapter: spreadsheet\noptions: {{path: {csv}, id_column: کد مشتری}}\n"
        "source_system: synthetic\nmapping: accounting_customers.yaml\n", encoding="utf-8")
    (root / "config.yaml").write_text(
        f"store: {{url: 'sqlite:///{root}/store.sqlite'}}\npipelines: [synthetic]\n"
        "run: {batch_size: 50}\n", encoding="utf-8")
    return root / "config.yaml"


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hub", "--config", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _rows_done(engine: Engine) -> int:
    with engine.connect() as conn:
        value = conn.execute(select(checkpoints.c.value)).scalar()
    return int(value.rsplit(":", 1)[1]) if value else 0


def _kill_after_progress(config: Path, engine: Engine, past: int) -> int:
    """Start a run, SIGKILL it once its checkpoint passed ``past`` rows; rows then done."""
    proc = _start(config)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _rows_done(engine) > past:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return _rows_done(engine)
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"the run ended (code {proc.returncode}) before it could be killed mid-way")


def _snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        records = conn.execute(select(source_records.c.source_id,
                                      source_records.c.master_id)).all()
        golden = dict(conn.execute(select(masters.c.id, masters.c.golden)
                                   .where(masters.c.status == "active")).all())
        events = conn.execute(select(outbox.c.event_id, outbox.c.type, outbox.c.subject,
                                     outbox.c.version)).all()
    clusters: dict[str, set[str]] = defaultdict(set)
    for source_id, master in records:
        clusters[master].add(source_id)
    return {
        "records": Counter(sid for sid, _ in records),
        "customers": {frozenset(ids): repr(golden[m]["fields"]) for m, ids in clusters.items()},
        "events": events,
    }


def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    csv = tmp_path / "customers.csv"
    truth = write_synthetic_csv(csv, 1500, seed=7)
    clean_cfg = _workspace(tmp_path / "clean", csv)
    crash_cfg = _workspace(tmp_path / "crash", csv)
    clean = subprocess.run([sys.executable, "-m", "hub", "--config", str(clean_cfg), "run"],
                           capture_output=True, text=True, timeout=600)
    assert clean.returncode == 0, clean.stderr

    engine = open_engine(f"sqlite:///{tmp_path}/crash/store.sqlite")
    first = _kill_after_progress(crash_cfg, engine, past=200)
    second = _kill_after_progress(crash_cfg, engine, past=first + 300)
    assert 200 < first < second < len(truth)
    resumed = subprocess.run([sys.executable, "-m", "hub", "--config", str(crash_cfg), "run"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr

    want = _snapshot(open_engine(f"sqlite:///{tmp_path}/clean/store.sqlite"))
    got = _snapshot(engine)
    assert set(got["records"]) == set(truth)
    assert max(got["records"].values()) == 1
    assert got["customers"] == want["customers"]
    ids = [e.event_id for e in got["events"]]
    assert len(ids) == len(set(ids))
    versions: dict[str, list[int]] = defaultdict(list)
    for e in got["events"]:
        if e.type.startswith("customer."):
            versions[e.subject].append(e.version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
