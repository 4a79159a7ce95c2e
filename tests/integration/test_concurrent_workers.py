"""Two workers matching the same people at once make no duplicate masters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from hub.store.queries import count_masters
from hub.testing import write_synthetic_csv


def test_two_workers_at_once_create_one_master_per_person(engine: Engine,
                                                          tmp_path: Path) -> None:
    csv = tmp_path / "customers.csv"
    truth = write_synthetic_csv(csv, 2000, seed=11, duplicate_rate=0.0)
    people = len(set(truth.values()))
    (tmp_path / "pipelines").mkdir()
    for name in ("branch_a", "branch_b"):   # two offices, the same customers
        (tmp_path / "pipelines" / f"{name}.yaml").write_text(
            f"adapter: spreadsheet\noptions: {{path: {csv}, id_column: کد مشتری}}\n"
            f"source_system: {name}\nmapping: accounting_customers.yaml\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [branch_a, branch_b]\n"
                                          "run: {batch_size: 400}\n", encoding="utf-8")
    env = {**os.environ,
           "PEYVAND__STORE__URL": engine.url.render_as_string(hide_password=False)}
    workers = [subprocess.Popen([sys.executable, "-m", "hub", "run", name], cwd=tmp_path,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for name in ("branch_a", "branch_b")]
    errors = [w.communicate(timeout=600)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    assert count_masters(engine) == people
