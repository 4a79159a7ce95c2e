"""Throughput, latency, memory and F1 on the seeded synthetic accounting export.

run.py calls ``generate`` and ``measure`` in two fresh processes per size: the generator
holds every row in memory, so measuring in a process of its own keeps the peak RSS the
pipeline's alone (interpreter and imports included).
"""

from __future__ import annotations

import json
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

from hub.testing import pairwise, write_synthetic_csv

MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "accounting_customers.yaml"
SOURCE = "synthetic"
SEED = 1402


def generate(people: int, folder: Path, seed: int = SEED) -> None:
    """Write ``synthetic.csv`` and its truth (``truth.json``: source id -> person)."""
    truth = write_synthetic_csv(folder / "synthetic.csv", people, seed=seed)
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")


def measure(folder: Path, *, batch_size: int) -> dict[str, Any]:
    """Run the pipeline over ``folder/synthetic.csv`` into a new store in ``folder``."""
    baseline_mb = peak_rss_mb()
    hub = make_workspace(folder, name="synthetic", csv_path=folder / "synthetic.csv",
                         id_column="کد مشتری", source_system=SOURCE, mapping=MAPPING,
                         batch_size=batch_size)
    engine = hub.engine
    first = timed_run(hub)
    first_mb = peak_rss_mb()
    events = outbox_size(engine)
    published, relay_s = timed_relay(hub)
    resumed = timed_run(hub)                        # checkpoint kept: reads nothing
    forget_checkpoints(engine)
    again = timed_run(hub)                          # every row again, all unchanged
    pipeline_mb = peak_rss_mb()                     # before the truth and F1 pair sets
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    precision, recall, f1 = pairwise(truth, assignments(engine, SOURCE))
    masters = hub.count_customers()
    hub.close()
    bp50, bp95, bp99 = first.batch_percentiles()
    rp50, rp95, rp99 = first.record_percentiles()
    return {
        "people": len(set(truth.values())), "records": first.stats.read,
        "batch_size": batch_size, "seconds": first.seconds,
        "records_per_s": first.records_per_s,
        "batch_p50_ms": bp50, "batch_p95_ms": bp95, "batch_p99_ms": bp99,
        "record_p50_ms": rp50, "record_p95_ms": rp95, "record_p99_ms": rp99,
        "quarantined": first.stats.rejected, "masters": masters,
        "precision": precision, "recall": recall, "f1": f1,
        "events": events, "relay_published": published, "relay_seconds": relay_s,
        "relay_events_per_s": published / relay_s if relay_s else 0.0,
        "resume_read": resumed.stats.read, "resume_seconds": resumed.seconds,
        "rerun_read": again.stats.read, "rerun_unchanged": again.stats.unchanged,
        "rerun_seconds": again.seconds, "rerun_records_per_s": again.records_per_s,
        "rerun_events": again.stats.events,
        "baseline_rss_mb": baseline_mb, "first_run_rss_mb": first_mb,
        "peak_rss_mb": pipeline_mb,
        "db_mb": sum(f.stat().st_size for f in folder.glob("master.sqlite*")) / 2**20,
    }
