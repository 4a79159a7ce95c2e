"""Runs one pipeline: extract -> map -> standardize -> validate -> master, batch by batch.

A stage rejects a record by raising RecordRejected; the record goes to quarantine with
its reason and the run goes on. Each batch commits its source records, master changes,
quarantine entries, outbox events and the adapter's checkpoint in one transaction, so
a crash anywhere loses nothing and a restart duplicates nothing.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters import Adapter, get_adapter_class
from hub.config import PipelineConfig
from hub.errors import ConfigError, RecordRejected, StoreUnavailable
from hub.mapping import Mapping, load_mapping
from hub.records import CanonicalRecord, RawRecord
from hub.schema_model import Model, load_model
from hub.standardize.fields import standardize
from hub.store import checkpoints, quarantine
from hub.store.engine import writing
from hub.store.master import BatchOutcome, MasterIngest, unchanged_raw
from hub.validation import validate

log = structlog.get_logger("peyvand.pipeline")

_IDENTIFYING = ("name.full", "name.given", "name.family", "organization.name", "nationalCode",
                "emails.email", "phones.phone")


@dataclass
class RunStats:
    """What a run did, for the summary."""

    pipeline: str
    read: int = 0
    rejected: int = 0          # records rejected in this run
    quarantined: int = 0       # of those, new in quarantine (the rest were there already)
    unchanged: int = 0
    added: int = 0
    changed: int = 0
    linked: int = 0
    created: int = 0
    merged: int = 0            # masters merged into another
    events: int = 0

    def add(self, outcome: BatchOutcome) -> None:
        self.unchanged += outcome.unchanged
        self.added += outcome.added
        self.changed += outcome.changed
        self.linked += outcome.linked
        self.created += len(outcome.created)
        self.merged += sum(len(o) for _, o in outcome.merges)
        self.events += outcome.events


def to_canonical(raw: RawRecord, mapping: Mapping, source_system: str, model: Model,
                 raw_key: str | None = None) -> CanonicalRecord:
    """Map, standardize and validate one record; raise RecordRejected naming the field."""
    try:
        fields = standardize(mapping.apply(raw), mapping.options)
        if not any(path.partition(":")[0] in _IDENTIFYING for path in fields):
            raise RecordRejected("the record has no name, national code, e-mail or phone, "
                                 "so nothing identifies the customer", field="name.full")
        record = CanonicalRecord(source_system, raw.source_id, "", fields, raw.location,
                                 raw_key or raw_hash(raw, mapping))
        record.content_hash = record.compute_hash()
        validate(record, model)
        return record
    except RecordRejected as exc:
        exc.source, exc.record = source_system, raw.source_id
        raise


def raw_hash(raw: RawRecord, mapping: Mapping) -> str:
    return hashlib.sha256(f"{raw.content_hash()}:{mapping.fingerprint}".encode()).hexdigest()[:32]


def build_adapter(cfg: PipelineConfig) -> Adapter:
    """The pipeline's adapter with its settings checked (ConfigError lists every problem)."""
    return get_adapter_class(cfg.adapter, where=str(cfg.path)).from_options(
        cfg.options, where=str(cfg.path), base_dir=cfg.path.parent)


def check_all(pipelines: Sequence[PipelineConfig]) -> None:
    """Check every adapter and mapping before anything runs; one error lists all problems."""
    problems: list[str] = []
    for cfg in pipelines:
        for check in (partial(build_adapter, cfg), partial(load_mapping, cfg.mapping)):
            try:
                check()
            except ConfigError as exc:
                problems += [f"{exc.source}: {p}" for p in exc.problems]
    if problems:
        raise ConfigError("the pipelines", problems)


def run_pipeline(cfg: PipelineConfig, engine: Engine, ingest: MasterIngest, *,
                 batch_size: int = 500,
                 on_progress: Callable[[int], None] | None = None,
                 on_total: Callable[[int | None], None] | None = None) -> RunStats:
    """Run ``cfg`` to the end of its source.

    ``on_total(n)`` is told how many records the source expects (None: unknown) before
    the first batch, ``on_progress(n)`` how many were committed after each batch.
    """
    adapter, mapping, model = build_adapter(cfg), load_mapping(cfg.mapping), load_model()
    if on_total:
        on_total(adapter.estimate_total())
    stats = RunStats(cfg.name)
    with engine.connect() as conn:
        start = checkpoints.load(conn, cfg.name)
    bound = log.bind(pipeline=cfg.name, source=cfg.source_system)
    for batch in _batches(adapter.extract(start), batch_size):
        accepted, rejected = [], []
        hashes = {raw.source_id: raw_hash(raw, mapping) for raw in batch}
        with engine.connect() as conn:
            seen = unchanged_raw(conn, cfg.source_system, hashes)
        stats.unchanged += len(seen)
        for raw in batch:
            if raw.source_id in seen:
                continue
            try:
                canon = to_canonical(raw, mapping, cfg.source_system, model, hashes[raw.source_id])
                accepted.append((canon, raw))
            except RecordRejected as exc:
                rejected.append(quarantine.Rejection(cfg.name, cfg.source_system, raw, exc))
                bound.info("record rejected", record=raw.source_id, field=exc.field,
                           reason=exc.reason)
        new_quarantined, outcome = _commit(engine, ingest, cfg.name, adapter.position(),
                                           accepted, rejected)
        stats.read += len(batch)
        stats.rejected += len(rejected)
        stats.quarantined += new_quarantined
        stats.add(outcome)
        bound.info("batch committed", records=len(batch), rejected=len(rejected),
                   created=len(outcome.created), linked=outcome.linked,
                   unchanged=outcome.unchanged, events=outcome.events)
        if on_progress:
            on_progress(len(batch))
    return stats


def _batches(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    # Pull exactly ``size`` records, so the adapter's position() covers this batch only.
    while batch := list(itertools.islice(records, size)):
        yield batch


@retry(retry=retry_if_exception_type(StoreUnavailable), stop=stop_after_attempt(5),
       wait=wait_exponential(multiplier=0.2, max=5), reraise=True)
def _commit(engine: Engine, ingest: MasterIngest, pipeline: str, position: object,
            accepted: list[tuple[CanonicalRecord, RawRecord]],
            rejected: list[quarantine.Rejection]) -> tuple[int, BatchOutcome]:
    """One transaction per batch; a locked or unreachable store is retried."""
    try:
        with writing(engine) as conn:
            outcome = ingest.ingest(conn, accepted)
            quarantine.resolve(conn, [(c.source_system, c.source_id) for c, _ in accepted])
            new = quarantine.add(conn, rejected)  # appends events: keep near the commit
            checkpoints.save(conn, pipeline, position)  # type: ignore[arg-type]
            return new, outcome
    except OperationalError as exc:
        raise StoreUnavailable(f"the store failed during a batch of {pipeline}: {exc.orig}") \
            from exc


def replay_quarantine(engine: Engine, pipelines: Sequence[PipelineConfig],
                      ingest: MasterIngest, ids: Sequence[int] = ()) -> tuple[int, int]:
    """Run open quarantine entries through their pipeline's stages again, after a fix.

    Accepted records join the master and their entries are resolved, in one transaction;
    the rest stay open with their reason brought up to date. Returns (accepted, still open).
    """
    by_name = {p.name: p for p in pipelines}
    entries = [e for e in quarantine.entries(engine) if not ids or e.id in ids]
    mappings: dict[str, Mapping] = {}
    accepted: list[tuple[CanonicalRecord, RawRecord]] = []
    still: list[tuple[int, RecordRejected]] = []
    model = load_model()
    for entry in entries:
        cfg = by_name.get(entry.pipeline)
        if cfg is None:
            raise ConfigError("quarantine replay", [
                f"entry #{entry.id} came from pipeline {entry.pipeline!r}, "
                "which is not in the configuration"])
        if cfg.name not in mappings:
            mappings[cfg.name] = load_mapping(cfg.mapping)
        mapping = mappings[cfg.name]
        raw = RawRecord(entry.source_id, entry.raw, entry.location)
        try:
            accepted.append((to_canonical(raw, mapping, cfg.source_system, model), raw))
        except RecordRejected as exc:
            still.append((entry.id, exc))
    with writing(engine) as conn:
        ingest.ingest(conn, accepted)
        quarantine.resolve(conn, [(c.source_system, c.source_id) for c, _ in accepted])
        quarantine.update_reasons(conn, still)
    return len(accepted), len(still)
