"""The composition root: one ``Hub`` built from the configuration, held by every user.

The ``peyvand`` command, the benchmarks and the tests all hold a ``Hub``: it opens the
store, builds the matcher and the sink from the configured settings, runs pipelines,
relays events and answers read queries with typed views. Nothing else wires these parts
together.

    hub = Hub.from_config(Path("config.yaml"))
    stats = hub.run()                       # every configured pipeline
    hub.relay()                             # publish the outbox
    hub.search("Karimi")                    # [MasterSummary(...), ...]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Engine

from hub import export
from hub.adapter import SourceContext
from hub.config import Config, PipelineConfig, load_config
from hub.matching import NationalCodeVeto
from hub.pipeline import RunStats, check_all, replay, run_pipeline
from hub.sink import StoreSink
from hub.store import outbox, quarantine, queries
from hub.store.engine import open_engine
from hub.store.master import MasterRepository
from hub.store.outbox import Event
from hub.store.quarantine import QuarantineEntry


class RunObserver(Protocol):
    """Told how a run goes, e.g. to draw progress bars."""

    def started(self, pipeline: str, total: int | None) -> None: ...
    def advanced(self, pipeline: str, records: int) -> None: ...
    def finished(self, pipeline: str, stats: RunStats) -> None: ...


class _Unobserved:
    def started(self, pipeline: str, total: int | None) -> None:
        pass

    def advanced(self, pipeline: str, records: int) -> None:
        pass

    def finished(self, pipeline: str, stats: RunStats) -> None:
        pass


class Hub:
    """Peyvand, configured: the store, the matcher, the pipelines and the bus."""

    def __init__(self, config: Config, *, engine: Engine | None = None) -> None:
        """Args:
            config: the checked configuration.
            engine: a store to use instead of opening ``config.store.url`` (tests).
        """
        self.config = config
        self._engine = engine

    @classmethod
    def from_config(cls, path: Path | None = None,
                    environ: Mapping[str, str] | None = None) -> Hub:
        return cls(load_config(path, environ))

    @property
    def engine(self) -> Engine:
        """The store, opened (and its schema brought up to date) on first use."""
        if self._engine is None:
            self._engine = open_engine(self.config.store.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- writing -------------------------------------------------------------------------

    def sink(self) -> StoreSink:
        masters = MasterRepository(self.config.matching.matcher(), NationalCodeVeto(),
                                   self.config.survivorship.source_priority)
        return StoreSink(self.engine, masters)

    def pipelines(self, names: Sequence[str] = ()) -> list[PipelineConfig]:
        """The named pipelines (all configured ones when none is named)."""
        return [self.config.pipeline(n) for n in names] if names else list(
            self.config.pipelines)

    def check(self, names: Sequence[str] = ()) -> list[PipelineConfig]:
        """Check adapters' settings and mappings; ConfigError lists every problem."""
        chosen = self.pipelines(names)
        check_all(chosen)
        return chosen

    def run(self, names: Sequence[str] = (), *,
            observer: RunObserver | None = None) -> list[RunStats]:
        """Run pipelines to the end of their sources, one after the other."""
        chosen, sink, results = self.check(names), self.sink(), []
        watch = observer or _Unobserved()
        for cfg in chosen:
            context = SourceContext(base_dir=cfg.path.parent, store=self.engine)
            stats = run_pipeline(cfg, sink, context=context,
                                 batch_size=self.config.run.batch_size,
                                 on_total=partial(watch.started, cfg.name),
                                 on_progress=partial(watch.advanced, cfg.name))
            watch.finished(cfg.name, stats)
            results.append(stats)
        return results

    def replay(self, ids: Sequence[int] = ()) -> tuple[int, int]:
        """Run open quarantine entries (all, or ``ids``) through their pipeline again."""
        entries = quarantine.entries(self.engine, ids=ids)
        return replay(entries, self.config.pipelines, self.sink())

    def relay(self) -> int:
        """Publish the outbox events not on the bus yet; how many were published."""
        from hub.bus.relay import relay_outbox

        return relay_outbox(self.engine, self.config.bus.url)

    def describe_bus(self) -> str:
        """One sentence on the delivery guarantee of the configured bus."""
        from hub.bus.topology import describe_guarantee

        return describe_guarantee(self.config.bus.url)

    # -- reading -------------------------------------------------------------------------

    def customer(self, master_id: str) -> queries.MasterView | None:
        return queries.get_master(self.engine, master_id)

    def search(self, text: str, *, limit: int = 20) -> list[queries.MasterSummary]:
        return queries.search(self.engine, text, limit=limit)

    def count_customers(self) -> int:
        return queries.count_masters(self.engine)

    def quarantine(self, *, status: str | None = "open") -> list[QuarantineEntry]:
        return quarantine.entries(self.engine, status=status)

    def top_reasons(self, limit: int = 5) -> list[tuple[str, str, int]]:
        return quarantine.top_reasons(self.engine, limit)

    def events(self, *, after: int = 0, limit: int | None = None,
               types: Sequence[str] | None = None) -> list[Event]:
        return outbox.read(self.engine, after=after, limit=limit, types=types)

    def export(self, fmt: str, stream: IO[str]) -> int:
        """Golden records as ``xml`` or ``csv``; how many were written."""
        return (export.write_xml if fmt == "xml" else export.write_csv)(self.engine, stream)

    def export_xref(self, path: Path) -> int:
        return export.write_xref(self.engine, path)
