"""Records gone at their source: the link is closed (never a silent drop), the customer is
rebuilt without them and announced, and a record that comes back reopens its link."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.app import Hub
from hub.testing import project

# A source that is a whole table each time (a JSON file of id -> columns), and reports the
# ids the master holds that the table no longer has: the shape of an ERP table read whole.
TABLE_ADAPTER = '''
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.adapter import Adapter, Features
from hub.records import Checkpoint, RawRecord


@dataclass(frozen=True)
class Settings:
    path: str


class TableAdapter(Adapter):
    """A JSON table read whole; ids gone since last time are deletions."""

    name = "table"
    Settings = Settings
    features = Features(deletions=True)

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        rows = json.loads((self.context.base_dir / self.settings.path).read_text("utf-8"))
        for source_id, row in rows.items():
            active = row.pop("active", True)
            yield RawRecord(source_id, row, f"table row {source_id}", deleted=not active)
        gone = sorted(set(self.context.known_ids()) - set(rows)) if self.context.known_ids else []
        for source_id in gone:
            yield RawRecord(source_id, {}, f"table row {source_id}", deleted=True)
'''
MAPPING = "fields:\n  name.full: {from: name}\n  phones.phone:mobile: {from: mobile}\n"


@pytest.fixture(name="table_adapter")
def _table_adapter(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    root = tmp_path_factory.mktemp("plugin")
    (root / "peyvand_table.py").write_text(TABLE_ADAPTER, encoding="utf-8")
    info = root / "peyvand_table-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: peyvand-table\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[peyvand.adapters]\ntable = peyvand_table:TableAdapter\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    yield
    sys.modules.pop("peyvand_table", None)


def _write(root: Path, rows: dict[str, dict[str, object]]) -> None:
    (root / "pipelines").mkdir(exist_ok=True)
    (root / "pipelines" / "table.json").write_text(json.dumps(rows, ensure_ascii=False),
                                                   encoding="utf-8")


@pytest.mark.usefixtures("table_adapter")
def test_a_deleted_row_closes_its_link_and_a_returning_one_reopens_it(tmp_path: Path) -> None:
    ali = {"name": "علی کریمی", "mobile": "09121234567"}
    _write(tmp_path, {"1": ali, "2": {"name": "Ali Karimi", "mobile": "09121234567"},
                      "3": {"name": "سارا احمدی", "mobile": "09351112233"}})
    hub: Hub = project(tmp_path, {"erp": ("table", "{path: table.json}", "m.yaml")},
                       {"m.yaml": MAPPING})
    hub.run()
    ali_id, sara_id = hub.search("Karimi")[0].id, hub.search("سارا")[0].id
    versions = {e.subject: e.version for e in hub.events()}

    # Row 2 is deleted and row 3 turns inactive.
    _write(tmp_path, {"1": ali, "3": {"name": "سارا احمدی", "mobile": "09351112233",
                                       "active": False}})
    [stats] = hub.run()
    assert (stats.closed, stats.created, stats.changed) == (2, 0, 0)
    updated = {e.subject: e for e in hub.events(types=["customer.updated"])}
    ali_event, sara_event = updated[ali_id], updated[sara_id]
    assert ali_event.version == versions[ali_id] + 1
    assert ali_event.data["closed_sources"] == [{"system": "erp", "id": "2"}]
    assert ali_event.data["customer"]["sources"] == [{"system": "erp", "id": "1"}]
    assert sara_event.data["customer"]["status"] == "retired"
    view = hub.customer(ali_id)
    assert view is not None and view.sources == ["erp/1"]
    assert [(r.source_id, r.decision) for r in view.records] == [("1", "new"), ("2", "closed")]

    # A second sync of the unchanged table publishes nothing.
    before = len(hub.events())
    [again] = hub.run()
    assert again.closed == 0 and len(hub.events()) == before

    # Row 2 comes back: its link reopens on its old customer (the same mobile).
    _write(tmp_path, {"1": ali, "2": {"name": "Ali Karimi", "mobile": "09121234567"},
                      "3": {"name": "سارا احمدی", "mobile": "09351112233", "active": False}})
    hub.run()
    view = hub.customer(ali_id)
    assert view is not None and view.sources == ["erp/1", "erp/2"]
    assert hub.count_customers() == 1   # Sara stays retired while her row is inactive
