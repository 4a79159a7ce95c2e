"""Schemas, mappings and pipelines travel inside the wheel and work from there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_the_data_and_runs_from_it(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("peyvand-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("hub/_data/schemas/customer.xsd", "hub/_data/config.yaml",
                     "hub/_data/mappings/sales_leads.yaml",
                     "hub/_data/pipelines/accounting_customers.yaml",
                     "hub/_data/pipelines/demo/sales_leads.xlsx", "adapters/spreadsheet.py"):
        assert expected in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Outside the checkout, with only the unpacked wheel on the path.
    code = ("from hub.resources import data_dir; from hub.config import load_config; "
            "from hub.schema_model import load_model; c = load_config(); "
            "print(data_dir('schemas')); print(len(c.pipelines), len(load_model().fields))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                          capture_output=True, text=True,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    schemas_dir, counts = done.stdout.split("\n")[:2]
    assert schemas_dir == str(site / "hub" / "_data" / "schemas")
    assert counts.split()[0] == "3" and int(counts.split()[1]) > 15
