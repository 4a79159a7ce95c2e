"""What every benchmark shares: a throw-away workspace, a timed run, the measures.

A workspace is a temp folder laid out like a deployment (``config.yaml``,
``pipelines/<name>.yaml``, ``mappings/<file>``, a SQLite store), and the benchmark holds
the same ``hub.app.Hub`` that ``peyvand run`` does — no shortcut around adapters,
mapping, standardization, validation, matching or the store.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import Engine, delete, func, select

from hub.app import Hub
from hub.log import configure
from hub.pipeline import RunStats
from hub.store.tables import checkpoints, outbox, source_records


def make_workspace(root: Path, *, name: str, csv_path: Path, id_column: str,
                   source_system: str, mapping: Path, batch_size: int = 500) -> Hub:
    """Write config.yaml, the pipeline and its mapping under ``root``; the Hub on them."""
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    shutil.copy(mapping, root / "mappings" / mapping.name)
    pipeline = {"adapter": "spreadsheet",
                "options": {"path": str(csv_path), "id_column": id_column},
                "source_system": source_system, "mapping": mapping.name}
    (root / "pipelines" / f"{name}.yaml").write_text(
        yaml.safe_dump(pipeline, allow_unicode=True), encoding="utf-8")
    store_url = f"sqlite:///{root / 'master.sqlite'}"
    config = {"store": {"url": store_url}, "bus": {"url": "memory://"},
              "pipelines": [name], "log": {"level": "warning"},
              "run": {"batch_size": batch_size}}
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    hub = Hub.from_config(root / "config.yaml", environ={})
    configure(hub.config.log.level, "json")   # as `peyvand run` does: no per-record logs
    _ = hub.engine   # open and migrate the store now: not part of any timed run
    return hub


@dataclass
class TimedRun:
    """One pass of a pipeline: wall time and the latency of each committed batch."""

    stats: RunStats
    seconds: float
    batch_ms: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def records_per_s(self) -> float:
        return self.stats.read / self.seconds if self.seconds else 0.0

    def batch_percentiles(self) -> tuple[float, float, float]:
        return percentiles(self.batch_ms)

    def record_percentiles(self) -> tuple[float, float, float]:
        """Per-record latency: each batch's latency spread over its records."""
        return percentiles([ms / n for ms, n in zip(self.batch_ms, self.batch_sizes,
                                                    strict=True) if n])


class _Marks:
    """A RunObserver that notes when each batch was committed."""

    def __init__(self) -> None:
        self.marks: list[float] = []
        self.sizes: list[int] = []

    def started(self, pipeline: str, total: int | None) -> None:
        pass

    def advanced(self, pipeline: str, records: int) -> None:
        self.marks.append(time.perf_counter())
        self.sizes.append(records)

    def finished(self, pipeline: str, stats: RunStats) -> None:
        pass


def timed_run(hub: Hub) -> TimedRun:
    """Run the hub's first pipeline to the end; time every batch from the last one."""
    observer = _Marks()
    start = time.perf_counter()
    [stats] = hub.run(observer=observer)
    end = time.perf_counter()
    marks, sizes = observer.marks, observer.sizes
    edges = [start, *marks]
    return TimedRun(stats, end - start, [(b - a) * 1000 for a, b in zip(edges, marks,
                                                                         strict=False)], sizes)


def forget_checkpoints(engine: Engine) -> None:
    """Make the next run read the whole file again, as after the file was re-exported.

    With its checkpoint kept, a rerun over an unchanged file reads nothing at all; without
    it every row comes again and is recognised as unchanged by source id + content hash.
    """
    with engine.begin() as conn:
        conn.execute(delete(checkpoints))


def timed_relay(hub: Hub) -> tuple[int, float]:
    """Publish the whole outbox to ``memory://``; (events, seconds)."""
    start = time.perf_counter()
    published = hub.relay()
    return published, time.perf_counter() - start


def outbox_size(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def assignments(engine: Engine, source_system: str) -> dict[str, str]:
    """source_id -> master_id for every record of ``source_system`` in the store."""
    sr = source_records.c
    with engine.connect() as conn:
        return dict(conn.execute(select(sr.source_id, sr.master_id)
                                 .where(sr.source_system == source_system)).tuples().all())


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 (inclusive method: fine for a few dozen batches too)."""
    if not values:
        return (0.0, 0.0, 0.0)
    if len(values) == 1:
        return (values[0],) * 3
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
