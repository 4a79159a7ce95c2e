"""The conformance suite every adapter's tests subclass: the adapter contract, as tests.

    class TestSpreadsheetConformance(AdapterConformance):
        adapter_class = SpreadsheetAdapter
        bad_options = {"path": 3, "header_row": "two"}

        def make_source(self, tmp_path):
            (tmp_path / "people.csv").write_text("id,name\\n1,Ali\\n2,Sara\\n3,Reza\\n")
            return {"path": "people.csv", "id_column": "id"}

An adapter is done when it passes: no I/O in its constructor; bad options listed at
once; stable, unique source ids; every record carrying its checkpoint; resuming from any
checkpoint yields exactly the rest, and from the last nothing; its estimate right on a
clean source; its declared transient errors raised as ``SourceUnavailable``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hub.adapter import Adapter, PayloadKind, SourceContext
from hub.errors import ConfigError, SourceUnavailable
from hub.records import Checkpoint, RawRecord

# Audit events that mean a source is being opened (PEP 578).
_IO_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "socket.connect",
                        "socket.getaddrinfo", "sqlite3.connect", "subprocess.Popen"})
_watch: list[list[str]] = []   # the audit hook below records into the innermost list


def _audit(event: str, _args: tuple[Any, ...]) -> None:
    if _watch and event in _IO_EVENTS:
        _watch[-1].append(event)


sys.addaudithook(_audit)   # audit hooks cannot be removed; this one is idle unless watching


class AdapterConformance:
    """Base class of an adapter's conformance tests (not collected itself: no ``Test``)."""

    adapter_class: ClassVar[type[Adapter]]
    bad_options: ClassVar[Mapping[str, Any]]   # at least two wrong keys

    def make_source(self, tmp_path: Path) -> Mapping[str, Any]:
        """Create a sample source of at least three records; return the adapter's options."""
        raise NotImplementedError

    def make_context(self, tmp_path: Path) -> SourceContext:
        return SourceContext(base_dir=tmp_path)

    def make_transient(self, exc_type: type[BaseException]) -> BaseException:
        """An instance of one of the adapter's declared transient errors."""
        return exc_type("simulated outage")

    # -- helpers -------------------------------------------------------------------------

    def options(self, tmp_path: Path) -> Mapping[str, Any]:
        """The sample source's options, made once per test (pytest makes an instance
        per test)."""
        if not hasattr(self, "_made"):
            self._made = self.make_source(tmp_path)
        return self._made

    def build(self, tmp_path: Path, options: Mapping[str, Any] | None = None) -> Adapter:
        """A new adapter on the sample source (or on ``options``)."""
        return self.adapter_class.from_options(
            self.options(tmp_path) if options is None else options,
            where="conformance test", context=self.make_context(tmp_path))

    def read_all(self, adapter: Adapter, checkpoint: Checkpoint | None = None
                 ) -> list[RawRecord]:
        return list(adapter.read(checkpoint))

    # -- the contract --------------------------------------------------------------------

    def test_constructor_does_no_io(self, tmp_path: Path) -> None:
        self.build(tmp_path)   # warm-up: imports may open files, once
        _watch.append([])
        try:
            self.build(tmp_path)
        finally:
            seen = _watch.pop()
        assert seen == [], f"the constructor did I/O: {seen}"

    def test_bad_options_are_listed_at_once(self, tmp_path: Path) -> None:
        assert len(self.bad_options) >= 2, "give at least two wrong options"
        with pytest.raises(ConfigError) as caught:
            self.build(tmp_path, self.bad_options)
        problems = " ".join(caught.value.problems)
        for key in self.bad_options:
            assert f"options.{key}" in problems, f"options.{key} is not reported: {problems}"

    def test_source_ids_are_stable_and_unique(self, tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        first = [r.source_id for r in self.read_all(adapter)]
        second = [r.source_id for r in self.read_all(self.build(tmp_path))]
        assert len(first) >= 3, "the sample source must hold at least three records"
        assert first == second
        assert len(set(first)) == len(first)
        assert all(isinstance(s, str) and s for s in first)

    def test_records_match_the_declared_payload_and_carry_checkpoints(self,
                                                                      tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        records = self.read_all(adapter)
        assert all(r.is_xml == (adapter.features.payload is PayloadKind.XML) for r in records)
        if adapter.features.incremental:
            assert all(isinstance(r.checkpoint, Checkpoint) for r in records)

    def test_resuming_from_any_checkpoint_yields_exactly_the_rest(self,
                                                                  tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        if not adapter.features.incremental:
            pytest.skip(f"{adapter.name} is not incremental: it always reads everything")
        records = self.read_all(adapter)
        for i, record in enumerate(records):
            rest = self.read_all(self.build(tmp_path), record.checkpoint)
            assert [_key(r) for r in rest] == [_key(r) for r in records[i + 1:]], \
                f"resuming after record {i + 1} ({record.source_id})"

    def test_resuming_from_the_last_checkpoint_yields_nothing(self, tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        if not adapter.features.incremental:
            pytest.skip(f"{adapter.name} is not incremental: it always reads everything")
        last = self.read_all(adapter)[-1].checkpoint
        assert self.read_all(self.build(tmp_path), last) == []

    def test_estimate_counts_what_is_left(self, tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        if not adapter.features.estimate:
            assert adapter.estimate_total(None) is None
            return
        records = self.read_all(adapter)
        assert self.build(tmp_path).estimate_total(None) == len(records)
        if adapter.features.incremental:
            after_first = self.build(tmp_path).estimate_total(
                records[0].checkpoint)
            assert after_first == len(records) - 1

    def test_declared_transient_errors_become_source_unavailable(self,
                                                                 tmp_path: Path) -> None:
        adapter = self.build(tmp_path)
        for exc_type in adapter.transient_errors:
            failing = _failing(adapter, self.make_transient(exc_type))
            with pytest.raises(SourceUnavailable) as caught:
                list(failing.read(None))
            assert adapter.name in str(caught.value)
            assert isinstance(caught.value.__cause__, exc_type)
        # Anything else is not the adapter's to call passing: it goes up unchanged.
        with pytest.raises(KeyError):
            list(_failing(adapter, KeyError("a bug")).read(None))

def _key(record: RawRecord) -> tuple[str, str]:
    return record.source_id, repr(record.storable())


def _failing(adapter: Adapter, error: BaseException) -> Adapter:
    """The same adapter, whose source fails with ``error`` after its first record."""
    cls = type(adapter)

    class Failing(cls):  # type: ignore[valid-type,misc]
        def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
            for record in super().extract(checkpoint):
                yield record
                raise error

    return Failing(adapter.settings, context=adapter.context)
