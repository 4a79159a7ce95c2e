"""`peyvand init DIR`: a project that runs at once, with messy sample data, never overwriting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FILES = ["config.yaml", "pipelines/customers.yaml", "mappings/customers.yaml",
         "data/customers.csv"]


def _peyvand(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEYVAND")}
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env=env)


def test_init_scaffolds_a_project_that_runs_and_quarantines_the_bad_row(tmp_path: Path) -> None:
    made = _peyvand(tmp_path, "init", "crm")
    assert made.returncode == 0, made.stderr
    project = tmp_path / "crm"
    for name in FILES:
        assert (project / name).is_file(), name
    mapping = (project / "mappings" / "customers.yaml").read_text(encoding="utf-8")
    assert mapping.count("#") >= 8            # every key explained
    sample = (project / "data" / "customers.csv").read_text(encoding="utf-8")
    assert "ي" in sample and "ك" in sample    # Arabic letters, as old exports write them
    assert any("۰" <= c <= "۹" for c in sample)   # Persian digits
    assert any(c.isascii() and c.isalpha() for c in sample)   # Latin rows too
    assert "peyvand --config" in made.stdout

    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    config = str(project / "config.yaml")
    check = _peyvand(elsewhere, "--config", config, "check")
    assert check.returncode == 0, check.stderr
    ran = _peyvand(elsewhere, "--config", config, "run", "--json")
    assert ran.returncode == 3, ran.stderr                 # the bad row is in quarantine
    summary = json.loads(ran.stdout)
    [stats] = summary["pipelines"]
    assert stats["rejected"] == 1 and stats["read"] >= 5
    assert summary["customers"] == stats["read"] - 2        # one row in quarantine, one linked
    assert (project / "peyvand.sqlite").is_file()          # the store is beside config.yaml
    assert list(elsewhere.iterdir()) == []

    listed = _peyvand(elsewhere, "--config", config, "quarantine", "list")
    assert "phones.phone:mobile" in listed.stdout and "1 record(s)" in listed.stdout
    found = _peyvand(elsewhere, "--config", config, "master", "search", "Karimi")
    assert "علی کریمی" in found.stdout                      # ي/ك folded, found across scripts
    again = _peyvand(elsewhere, "--config", config, "run")
    assert again.returncode == 0                            # nothing new


def test_init_refuses_to_overwrite_anything(tmp_path: Path) -> None:
    project = tmp_path / "crm"
    (project / "mappings").mkdir(parents=True)
    mine = project / "mappings" / "customers.yaml"
    mine.write_text("# mine\n", encoding="utf-8")
    refused = _peyvand(tmp_path, "init", str(project))
    assert refused.returncode == 2
    assert "mappings/customers.yaml" in refused.stderr and "already exists" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "# mine\n"
    assert not (project / "config.yaml").exists()           # nothing half-written


def test_init_into_an_existing_empty_folder(tmp_path: Path) -> None:
    assert _peyvand(tmp_path, "init", ".").returncode == 0
    assert (tmp_path / "config.yaml").is_file()
