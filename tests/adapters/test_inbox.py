"""The inbox adapter: pushed requests read back in order, under the adapter contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine

from adapters.inbox import InboxAdapter
from hub.adapter import SourceContext
from hub.errors import FatalSourceError, SourceUnavailable
from hub.records import Checkpoint
from hub.store import inbox
from hub.store.engine import open_engine
from hub.testing.conformance import AdapterConformance

REQUESTS = [({"name": "مریم حسینی", "mobile": "۰۹۱۲۳۳۳۴۴۵۵"}, "form-1"),
            ({"name": "Reza Yazdani", "email": "reza@x.ir"}, "form-2"),
            ({"name": "سارا احمدی", "consent": "بله"}, None),
            ({"name": "Ali Karimi"}, "form-4")]


class TestInboxConformance(AdapterConformance):
    """The adapter contract on an inbox in a SQLite store of its own."""

    adapter_class = InboxAdapter
    bad_options: ClassVar = {"channel": 7, "colour": "red"}

    def store(self, tmp_path: Path) -> Engine:
        if not hasattr(self, "_engine"):
            self._engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
        return self._engine

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        for payload, source_id in REQUESTS:
            inbox.accept(self.store(tmp_path), "contact", payload, source_id)
        inbox.accept(self.store(tmp_path), "newsletter", {"email": "x@y.ir"})
        return {"channel": "contact"}

    def make_context(self, tmp_path: Path) -> SourceContext:
        return SourceContext(base_dir=tmp_path, store=self.store(tmp_path))


def test_requests_come_back_in_order_with_their_payloads(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    receipts = [inbox.accept(engine, "contact", p, sid) for p, sid in REQUESTS]
    adapter = InboxAdapter.from_options({"channel": "contact"}, where="p.yaml",
                                        context=SourceContext(tmp_path, engine))
    records = list(adapter.read(None))
    assert [r.data for r in records] == [p for p, _ in REQUESTS]
    assert [r.source_id for r in records][:2] == ["form-1", "form-2"]
    assert records[2].source_id == receipts[2].source_id   # a receipt id when none was sent
    assert [r.checkpoint for r in records] == [Checkpoint(str(r.seq)) for r in receipts]
    assert records[0].location == f"inbox contact #{receipts[0].seq}"


def test_without_a_store_or_with_a_foreign_checkpoint_it_says_what_to_do(tmp_path: Path) -> None:
    alone = InboxAdapter.from_options({"channel": "contact"}, where="p.yaml",
                                      context=SourceContext(tmp_path))
    with pytest.raises(FatalSourceError, match="reads the master store"):
        list(alone.read(None))
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    adapter = InboxAdapter.from_options({"channel": "contact"}, where="p.yaml",
                                        context=SourceContext(tmp_path, engine))
    with pytest.raises(FatalSourceError, match="reset the pipeline's checkpoint"):
        list(adapter.read(Checkpoint("abc:12")))


def test_an_unreachable_store_is_a_passing_failure(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.sqlite")
    adapter = InboxAdapter.from_options({"channel": "contact"}, where="p.yaml",
                                        context=SourceContext(tmp_path, engine))
    (tmp_path / "store.sqlite").unlink()
    (tmp_path / "store.sqlite").mkdir()   # the file is gone and cannot be created again
    engine.dispose()
    with pytest.raises(SourceUnavailable, match="inbox"):
        list(adapter.read(None))
