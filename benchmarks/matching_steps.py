"""The steps of benchmarks/matching.py, each run in a fresh interpreter of its own.

``prepare`` leaves in the folder: ``workspace/`` (config, pipeline, mapping, the CSV),
``prepared.pkl`` (accepted records, batch after batch), ``held_out.pkl`` (records to
add one at a time), ``splink.csv`` (the same records as Splink's columns) and
``truth.json`` (record key -> person, quarantined records included).
"""

from __future__ import annotations

import csv
import json
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from harness import peak_rss_mb, percentiles
from splink_bench import COLUMNS, splink_row
from sqlalchemy import select

from hub.app import Hub
from hub.errors import RecordRejected
from hub.log import configure
from hub.pipeline import Preparer
from hub.records import CanonicalRecord, RawRecord, Target
from hub.sink import PreparedBatch
from hub.store.tables import source_records
from hub.testing import bcubed, pairwise, persian_people
from hub.testing.people import FIELDS

HERE = Path(__file__).resolve().parent
SEED = 1402
HOLD_OUT = 1000
PIPELINE = "bench"
Batch = list[tuple[CanonicalRecord, RawRecord]]


# --- prepare -------------------------------------------------------------------------

def _source(name: str) -> tuple[Iterator[dict[str, str]], int, dict[str, Any]]:
    """(rows with their truth in "person", rows to score, pipeline settings)."""
    if name.startswith("persian-"):
        size = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}[name.split("-")[1]]
        return persian_people(size + HOLD_OUT, SEED), size, {
            "id_column": "source_id", "mapping": HERE / "persian_mapping.yaml",
            "system_column": "source", "columns": [f for f in FIELDS if f != "person"]}
    from febrl import LOADERS, truth_clusters
    frame, links = LOADERS[name](return_links=True)
    truth = truth_clusters(list(frame.index), links)
    frame = frame.fillna("")

    def rows() -> Iterator[dict[str, str]]:
        for rec_id, row in frame.iterrows():
            yield {"rec_id": str(rec_id), **{c: str(v) for c, v in row.items()},
                   "person": str(truth[str(rec_id)])}
    return rows(), len(frame), {"id_column": "rec_id", "mapping": HERE / "febrl_mapping.yaml",
                                "system_column": None,
                                "columns": ["rec_id", *map(str, frame.columns)]}


def _workspace(root: Path, settings: dict[str, Any], name: str, batch_size: int) -> Hub:
    """config.yaml, the pipeline and its mapping under ``root``; the Hub on them."""
    (root / "pipelines").mkdir(parents=True)
    (root / "mappings").mkdir()
    mapping: Path = settings["mapping"]
    (root / "mappings" / mapping.name).write_text(mapping.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    pipeline = {"adapter": "spreadsheet", "source_system": name, "mapping": mapping.name,
                "options": {"path": str(root / "records.csv"),
                            "id_column": settings["id_column"]}}
    if settings["system_column"]:
        pipeline["source_system_column"] = settings["system_column"]
    (root / "pipelines" / f"{PIPELINE}.yaml").write_text(
        yaml.safe_dump(pipeline, allow_unicode=True), encoding="utf-8")
    config = {"store": {"url": f"sqlite:///{root / 'master.sqlite'}"},
              "bus": {"url": "memory://"}, "pipelines": [PIPELINE],
              "log": {"level": "warning"}, "run": {"batch_size": batch_size}}
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return Hub.from_config(root / "config.yaml", environ={})


def prepare(name: str, folder: Path, *, batch_size: int) -> dict[str, Any]:
    """Write the records as CSV, run the pipeline's stages over them, keep the results."""
    rows, scored, settings = _source(name)
    root = folder / "workspace"
    hub = _workspace(root, settings, name.split("-")[0], batch_size)
    truth: dict[str, str] = {}
    with (root / "records.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, settings["columns"], extrasaction="ignore")
        writer.writeheader()
        for n, row in enumerate(rows):
            writer.writerow(row)
            if n < scored:
                truth[row[settings["id_column"]]] = row["person"]
    preparer = Preparer.for_pipeline(hub.config.pipeline(PIPELINE))
    seconds, rejected, keyed = _prepare_all(preparer, root / "records.csv", folder,
                                            settings["id_column"], scored, batch_size)
    truth = {keyed[sid]: person for sid, person in truth.items()}
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    pairs = sum(n * (n - 1) // 2 for n in _sizes(truth).values())
    return {"records": scored, "people": len(set(truth.values())), "true_pairs": pairs,
            "quarantined": rejected, "pipeline_seconds": seconds,
            "pipeline_peak_rss_mb": peak_rss_mb()}


def _prepare_all(preparer: Preparer, csv_path: Path, folder: Path, id_column: str,
                 scored: int, batch_size: int) -> tuple[float, int, dict[str, str]]:
    """(seconds in the stages, records rejected, source id -> record key)."""
    seconds, rejected, keyed = 0.0, 0, {}
    batch: Batch = []
    held: Batch = []
    with (csv_path.open(encoding="utf-8", newline="") as f,
          (folder / "prepared.pkl").open("wb") as out,
          (folder / "splink.csv").open("w", encoding="utf-8", newline="") as table):
        splink = csv.DictWriter(table, COLUMNS)
        splink.writeheader()
        for n, row in enumerate(csv.DictReader(f)):
            start = time.perf_counter()
            raw = RawRecord(row[id_column], row, f"records.csv row {n + 2}")
            try:
                canon = preparer(raw)
            except RecordRejected:
                rejected += n < scored
                keyed[raw.source_id] = f"{preparer.system_of(raw)}/{raw.source_id}"
                continue
            finally:
                seconds += time.perf_counter() - start
            key = f"{canon.source_system}/{canon.source_id}"
            keyed[raw.source_id] = key
            if n >= scored:
                held.append((canon, raw))
                continue
            batch.append((canon, raw))
            splink.writerow(splink_row(key, canon))
            if len(batch) == batch_size:
                pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
                batch = []
        if batch:
            pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
    (folder / "held_out.pkl").write_bytes(pickle.dumps(held, pickle.HIGHEST_PROTOCOL))
    return seconds, rejected, keyed


def _sizes(truth: dict[str, str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for person in truth.values():
        sizes[person] = sizes.get(person, 0) + 1
    return sizes


def _batches(path: Path) -> Iterator[Batch]:
    with path.open("rb") as f:
        while True:
            try:
                yield pickle.load(f)
            except EOFError:
                return


def _scores(folder: Path, found: dict[str, str]) -> dict[str, Any]:
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    precision, recall, f1 = pairwise(truth, found)
    clusters = {found.get(key, key) for key in truth}
    return {"precision": precision, "recall": recall, "f1": f1,
            "bcubed_f1": bcubed(truth, found).f1, "clusters": len(clusters)}


# --- Peyvand -------------------------------------------------------------------------

def peyvand(folder: Path) -> dict[str, Any]:
    """Commit every prepared batch through the Hub's sink, then train and re-match when
    the Hub can; then the held-out records, one transaction each."""
    hub = Hub.from_config(folder / "workspace" / "config.yaml", environ={})
    configure(hub.config.log.level, "json")   # as `peyvand run` does: no per-record logs
    _ = hub.engine                             # open and migrate: not timed
    start = time.perf_counter()
    sink = hub.sink()
    load = 0.0
    batches = _batches(folder / "prepared.pkl")
    while True:
        mark = time.perf_counter()
        batch = next(batches, None)
        load += time.perf_counter() - mark     # unpickling is not matching
        if batch is None:
            break
        sink.commit(PreparedBatch(PIPELINE, PIPELINE, Target.CUSTOMER, accepted=batch))
    matched = time.perf_counter() - start - load
    builtin = _scores(folder, _assignments(hub))   # the built-in model, before training
    steps = _train(hub)
    seconds = matched + sum(steps.values())
    peak = peak_rss_mb()
    found = _assignments(hub)
    held = pickle.loads((folder / "held_out.pkl").read_bytes())
    sink = hub.sink()     # with the trained model, if there is one
    single = []
    for item in held:
        mark = time.perf_counter()
        sink.commit(PreparedBatch(PIPELINE, PIPELINE, Target.CUSTOMER, accepted=[item]))
        single.append((time.perf_counter() - mark) * 1000)
    hub.close()
    return {"seconds": seconds, "match_seconds": matched, **steps,
            "trained": " + ".join(["match", *(k.removesuffix("_seconds") for k in steps)]),
            "peak_rss_mb": peak,
            "held_out": len(held), "incremental_ms": list(percentiles(single)) if held else [],
            "builtin": builtin, **_scores(folder, found)}


def _train(hub: Hub) -> dict[str, float]:
    """What a deployment does after its first load, when this version can: estimate the
    model from the store (``Hub.train``), then match every record again with it
    (``Hub.rematch``). Seconds per step; nothing when the Hub has no ``train``."""
    steps: dict[str, float] = {}
    for step, call in (("train_seconds", "train"), ("rematch_seconds", "rematch")):
        method = getattr(hub, call, None)
        if method is None:
            break
        mark = time.perf_counter()
        if call == "rematch":
            method(dry_run=False)
        else:
            method()
        steps[step] = time.perf_counter() - mark
    return steps


def _assignments(hub: Hub) -> dict[str, str]:
    sr = source_records.c
    with hub.engine.connect() as conn:
        rows = conn.execute(select(sr.source_system, sr.source_id, sr.master_id)).all()
    return {f"{system}/{sid}": master for system, sid, master in rows}


# --- Splink --------------------------------------------------------------------------

def splink(folder: Path) -> dict[str, Any]:
    from splink_bench import measure
    found, details = measure(folder / "splink.csv", seed=SEED)
    peak = peak_rss_mb()
    return {**details, "peak_rss_mb": peak, "trained": "u sampling + EM",
            **_scores(folder, found)}
