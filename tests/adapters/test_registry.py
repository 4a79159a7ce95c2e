"""The adapter registry: built-ins by alias, plugins by entry point, typos answered."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import ADAPTERS, ENTRY_POINT_GROUP, adapter_names, get_adapter_class
from hub.errors import ConfigError

PLUGIN = '''
from collections.abc import Iterator
from dataclasses import dataclass

from hub.adapter import Adapter, Features
from hub.records import Checkpoint, RawRecord


@dataclass(frozen=True)
class Settings:
    count: int = 3


class CountingAdapter(Adapter):
    """Counts to options.count (a plugin from another package)."""

    name = "counting"
    Settings = Settings
    features = Features(incremental=True)

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        start = int(checkpoint.value) if checkpoint else 0
        for n in range(start + 1, self.settings.count + 1):
            yield RawRecord(str(n), {"n": n}, f"count {n}", Checkpoint(str(n)))
'''


@pytest.fixture(name="plugin")
def _plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution 'peyvand-counting' with one entry point, on sys.path."""
    (tmp_path / "peyvand_counting.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "peyvand_counting-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: peyvand-counting\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncounting = peyvand_counting:CountingAdapter\n"
        "spreadsheet = peyvand_counting:CountingAdapter\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("peyvand_counting", None)


def test_a_typo_gets_a_suggestion_and_the_list() -> None:
    with pytest.raises(ConfigError) as info:
        get_adapter_class("spreadshet", where="pipelines/x.yaml")
    [problem] = info.value.problems
    assert "Did you mean 'spreadsheet'?" in problem
    assert f"Known: {', '.join(sorted(ADAPTERS))}." in problem


@pytest.mark.usefixtures("plugin")
def test_an_adapter_from_another_package_registers_by_entry_point() -> None:
    assert "counting" in adapter_names()
    cls = get_adapter_class("counting")
    assert cls.__name__ == "CountingAdapter"
    # A plugin never replaces a built-in of the same name.
    assert get_adapter_class("spreadsheet").__module__ == "adapters.spreadsheet"
