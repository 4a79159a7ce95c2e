"""The code is typed and tidy: mypy (strict) and ruff (with McCabe complexity at most 15)
find nothing, with the settings in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_strict_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out, err, status = mypy_api.run([])
    assert status == 0, out + err
    assert "Success: no issues found" in out


def test_ruff_finds_nothing_and_no_function_is_too_complex() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
