"""Throughput, latency, memory and F1 on the seeded synthetic accounting export.

``measure(people, ...)`` runs in a process of its own (run.py starts one per size), so
its peak RSS belongs to that size alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from harness import (
    assignments,
    forget_checkpoints,
    make_workspace,
    outbox_size,
    peak_rss_mb,
    timed_relay,
    timed_run,
)

from hub.store.queries import count_masters
from hub.testing import pairwise_f1, write_synthetic_csv

MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "accounting_customers.yaml"
SOURCE = "synthetic"


def measure(people: int, *, batch_size: int, seed: int = 1402,
            tmp_root: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="peyvand-bench-", dir=tmp_root) as tmp:
        root = Path(tmp)
        csv_path = root / "synthetic.csv"
        truth = write_synthetic_csv(csv_path, people, seed=seed)
        cfg, engine = make_workspace(root, name="synthetic", csv_path=csv_path,
                                     id_column="کد مشتری", source_system=SOURCE,
                                     mapping=MAPPING)
        first = timed_run(cfg, engine, batch_size)
        events = outbox_size(engine)
        published, relay_s = timed_relay(engine)
        resumed = timed_run(cfg, engine, batch_size)    # checkpoint kept: reads nothing
        forget_checkpoints(engine)
        again = timed_run(cfg, engine, batch_size)      # every row again, all unchanged
        assigned = assignments(engine, SOURCE)
        precision, recall, f1 = pairwise_f1(truth, assigned)
        bp50, bp95, bp99 = first.batch_percentiles()
        rp50, rp95, rp99 = first.record_percentiles()
        result = {
            "people": people, "records": first.stats.read, "batch_size": batch_size,
            "seconds": first.seconds, "records_per_s": first.records_per_s,
            "batch_p50_ms": bp50, "batch_p95_ms": bp95, "batch_p99_ms": bp99,
            "record_p50_ms": rp50, "record_p95_ms": rp95, "record_p99_ms": rp99,
            "quarantined": first.stats.rejected, "masters": count_masters(engine),
            "precision": precision, "recall": recall, "f1": f1,
            "events": events, "relay_published": published, "relay_seconds": relay_s,
            "relay_events_per_s": published / relay_s if relay_s else 0.0,
            "resume_read": resumed.stats.read, "resume_seconds": resumed.seconds,
            "rerun_read": again.stats.read, "rerun_unchanged": again.stats.unchanged,
            "rerun_seconds": again.seconds, "rerun_records_per_s": again.records_per_s,
            "rerun_events": again.stats.events,
            "db_mb": sum(f.stat().st_size for f in root.glob("master.sqlite*")) / 2**20,
        }
        engine.dispose()
    result["peak_rss_mb"] = peak_rss_mb()
    return result
