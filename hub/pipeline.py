"""Runs one pipeline: extract -> prepare -> commit, batch by batch.

``prepare`` is a chain of stateless stages over one record (map, standardize, identify,
validate); a stage rejects a record by raising ``RecordRejected``, and the record goes to
quarantine with its reason while the run goes on. A prepared batch is handed to a
``Sink`` (``hub.sink``), which commits it with the checkpoint of its last record.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar

import structlog
from lxml import etree

from adapters import get_adapter_class
from hub.adapter import Adapter, SourceContext
from hub.errors import (
    ConfigError,
    DuplicateSourceId,
    MappingFailed,
    Problem,
    RecordRejected,
    StandardizationFailed,
    UnreadableRecord,
)
from hub.mapping import Mapping, load_mapping
from hub.records import SOURCE_SYSTEM, CanonicalRecord, RawRecord, Target, Value
from hub.sink import Committed, PreparedBatch, Sink
from hub.source_ids import SourceIds
from hub.standardize.fields import standardize
from hub.standardize.persian_text import header_key
from hub.store.interactions import InteractionOutcome
from hub.store.quarantine import QuarantineEntry, Rejection
from hub.validation import validate

if TYPE_CHECKING:
    from hub.config import PipelineConfig

log = structlog.get_logger("peyvand.pipeline")

# What must survive standardization for a record to identify anyone.
IDENTIFYING = {
    Target.CUSTOMER: ("name.full", "name.given", "name.family", "organization.name",
                      "nationalCode", "emails.email", "phones.phone"),
    Target.INTERACTION: ("contact.name", "contact.email", "contact.phone"),
}
_NOTHING_IDENTIFIES = {
    Target.CUSTOMER: ("the record has no name, national code, e-mail or phone, so nothing "
                      "identifies the customer", "name.full"),
    Target.INTERACTION: ("the interaction has no contact name, e-mail or phone, so nothing "
                         "identifies who it was with", "contact"),
}


@dataclass(frozen=True, slots=True)
class RunSettings:
    """``run:`` in config.yaml.

    Args:
        batch_size: records per committed batch (one transaction each).
        attempts: how often a pipeline is tried when its source is unavailable; each
            try resumes after the last committed batch.
        retry_wait: seconds before the second try, doubling after each (at most 60).
    """

    section: ClassVar[str] = "run"
    batch_size: int = 500
    attempts: int = 3
    retry_wait: float = 2.0

    def problems(self) -> list[str]:
        out = [] if self.batch_size >= 1 else ["run.batch_size: must be 1 or more"]
        out += [] if self.attempts >= 1 else ["run.attempts: must be 1 or more"]
        out += [] if self.retry_wait >= 0 else ["run.retry_wait: must be 0 or more"]
        return out


@dataclass
class RunStats:
    """What a run did, for the summary."""

    pipeline: str
    read: int = 0
    rejected: int = 0          # records rejected whole in this run
    quarantined: int = 0       # of those, new in quarantine (the rest were there already)
    set_aside: int = 0         # records accepted with values set aside in quarantine
    closed: int = 0            # links closed: the source says the record is gone
    unchanged: int = 0
    added: int = 0
    changed: int = 0
    linked: int = 0
    created: int = 0
    merged: int = 0            # established masters merged into another
    interactions: int = 0      # interactions stored (new or changed)
    attached: int = 0          # of those, attached to a customer
    events: int = 0

    def add(self, batch: PreparedBatch, committed: Committed, read: int) -> None:
        out = committed.outcome
        self.read += read
        self.rejected += len(batch.rejected)
        self.quarantined += committed.quarantined
        self.closed += committed.closed
        self.set_aside += sum(1 for canon, _ in batch.accepted if canon.set_aside)
        self.unchanged += out.unchanged + batch.skipped
        self.events += out.events
        if isinstance(out, InteractionOutcome):
            self.interactions += out.added + out.changed
            self.attached += out.attached
            return
        self.added += out.added
        self.changed += out.changed
        self.linked += out.linked
        self.created += len(out.created)
        self.merged += out.merged


@dataclass(frozen=True, slots=True)
class Preparer:
    """The stateless stages of one pipeline: map, standardize, identify, validate."""

    mapping: Mapping
    source_system: str
    system_column: str | None = None   # a column that names each record's source system
    sparse: bool = False   # records name only the fields they have (pushed requests)

    @classmethod
    def for_pipeline(cls, cfg: PipelineConfig) -> Preparer:
        """The stages of ``cfg``: its mapping, its source system; a push source's
        requests (a form left half empty) may leave out fields the mapping names."""
        push = get_adapter_class(cfg.adapter, where=str(cfg.path)).features.push
        return cls(load_mapping(cfg.mapping, cfg.attributes), cfg.source_system,
                   cfg.source_system_column, sparse=push)

    def __call__(self, raw: RawRecord, raw_key: str | None = None) -> CanonicalRecord:
        """One record through every stage; RecordRejected names the source and record."""
        system = self.source_system
        try:
            system = self.system_of(raw)
            if raw.problem is not None:
                raise UnreadableRecord(raw.problem)
            fields, problems = standardize(self.mapping.apply(raw, sparse=self.sparse),
                                           self.mapping.model,
                                           self.mapping.options)
            self.hold_back(fields, problems)
            record = CanonicalRecord(system, raw.source_id, "", fields,
                                     raw.location, raw_key or self.raw_hash(raw),
                                     self.mapping.target, problems)
            record.content_hash = record.compute_hash()
            validate(record, self.mapping.model)
            return record
        except RecordRejected as exc:
            exc.source, exc.record = system, raw.source_id
            raise

    def system_of(self, raw: RawRecord) -> str:
        """The record's source system: its own column when the pipeline names one (an
        export holding several systems), else the pipeline's."""
        if self.system_column is None or isinstance(raw.data, etree._Element):
            return self.source_system
        keys = {header_key(str(k)): k for k in raw.data}
        value = raw.data.get(keys.get(header_key(self.system_column), ""))
        text = str(value).strip() if value is not None else ""
        if not text:
            return self.source_system
        if not SOURCE_SYSTEM.fullmatch(text):
            raise MappingFailed(f"column {self.system_column!r} gives {text!r}, which is no "
                                "source system name (up to 64 characters, no spaces or '/')",
                                field="source_system")
        return text

    def hold_back(self, fields: dict[str, list[Value]], problems: list[Problem]) -> None:
        """Reject the whole record when a strict field has a bad value or nothing that
        identifies anyone is left; every problem of the record is named at once."""
        strict = [p for p in problems if p.field in self.mapping.strict]
        if strict:
            raise StandardizationFailed.of(problems)
        wanted = IDENTIFYING[self.mapping.target]
        if not any(path.partition(":")[0] in wanted for path in fields):
            reason, field_name = _NOTHING_IDENTIFIES[self.mapping.target]
            # Lost to bad values, or never there: say which, with every problem.
            rejected = StandardizationFailed if problems else RecordRejected
            raise rejected.of([*problems, Problem(field_name, reason)])

    def raw_hash(self, raw: RawRecord) -> str:
        """The raw record and the mapping that shapes it: equal means nothing to redo."""
        blob = f"{raw.content_hash()}:{self.mapping.fingerprint}".encode()
        return hashlib.sha256(blob).hexdigest()[:32]


def build_adapter(cfg: PipelineConfig, context: SourceContext | None = None) -> Adapter:
    """The pipeline's adapter with its settings checked (ConfigError lists every problem)."""
    return get_adapter_class(cfg.adapter, where=str(cfg.path)).from_options(
        cfg.options, where=str(cfg.path),
        context=context or SourceContext(base_dir=cfg.path.parent))


def check_all(pipelines: Sequence[PipelineConfig]) -> None:
    """Check every adapter and mapping before anything runs; one error lists all problems."""
    problems: list[str] = []
    for cfg in pipelines:
        for check in (partial(build_adapter, cfg),
                      partial(load_mapping, cfg.mapping, cfg.attributes)):
            try:
                check()
            except ConfigError as exc:
                problems += [f"{exc.source}: {p}" for p in exc.problems]
    if problems:
        raise ConfigError("the pipelines", problems)


def run_pipeline(cfg: PipelineConfig, sink: Sink, *, context: SourceContext,
                 batch_size: int = 500,
                 on_progress: Callable[[int], None] | None = None,
                 on_total: Callable[[int | None], None] | None = None,
                 stats: RunStats | None = None) -> RunStats:
    """Run ``cfg`` to the end of its source.

    ``on_total(n)`` is told how many records the source expects (None: unknown) before
    the first batch, ``on_progress(n)`` how many were committed after each batch.
    ``stats`` goes on counting a run that is being tried again.
    """
    adapter = build_adapter(cfg, context)
    prepare = Preparer.for_pipeline(cfg)
    start = sink.checkpoint(cfg.name)
    if on_total:
        on_total(adapter.total(start))
    stats = stats or RunStats(cfg.name)
    bound = log.bind(pipeline=cfg.name, source=cfg.source_system)
    ids = SourceIds()
    try:
        for records in _batches(adapter.read(start), batch_size):
            batch = prepare_batch(cfg, prepare, sink, records, ids)
            committed = sink.commit(batch)
            stats.add(batch, committed, len(records))
            _freeze_long_lived()
            bound.info("batch committed", records=len(records), rejected=len(batch.rejected),
                       unchanged=committed.outcome.unchanged, events=committed.outcome.events)
            if on_progress:
                on_progress(len(records))
    finally:
        ids.close()
    return stats


def prepare_batch(cfg: PipelineConfig, prepare: Preparer, sink: Sink,
                  records: list[RawRecord], ids: SourceIds) -> PreparedBatch:
    """Run the stateless stages over ``records``; skip those stored from the same raw
    data, and hold back records whose id the extract repeats with other content."""
    batch = PreparedBatch(cfg.name, cfg.source_system, prepare.mapping.target,
                          checkpoint=records[-1].checkpoint)
    batch.closed = [(_system(prepare, raw), raw.source_id) for raw in records if raw.deleted]
    records = [raw for raw in records if not raw.deleted]
    if not records:
        return batch
    hashes = [prepare.raw_hash(raw) for raw in records]
    refs = [(_system(prepare, raw), raw.source_id) for raw in records]
    conflicts, repeats = ids.check(records, refs, hashes)
    candidates: dict[str, dict[str, str]] = {}
    for i, ((system, source_id), raw_hash) in enumerate(zip(refs, hashes, strict=True)):
        if i not in conflicts and i not in repeats:
            candidates.setdefault(system, {})[source_id] = raw_hash
    seen = {(system, sid) for system, by_id in candidates.items()
            for sid in sink.unchanged(system, by_id)}
    for i, (raw, raw_hash) in enumerate(zip(records, hashes, strict=True)):
        if i in repeats or (refs[i] in seen and i not in conflicts):
            batch.skipped += 1
            continue
        try:
            if i in conflicts:
                raise conflicts[i]
            batch.accepted.append((prepare(raw, raw_hash), raw))
        except RecordRejected as exc:
            exc.source, exc.record = refs[i]
            batch.rejected.append(Rejection(cfg.name, refs[i][0], raw, exc))
            log.info("record rejected", pipeline=cfg.name, stage=exc.stage,
                     field=exc.field)
    return batch


def _system(prepare: Preparer, raw: RawRecord) -> str:
    try:
        return prepare.system_of(raw)
    except RecordRejected:
        return prepare.source_system   # the stages reject it with the reason


_frozen = False


def _freeze_long_lived() -> None:
    """Once per process, after the first batch: move everything alive then (libraries,
    compiled schemas, phone metadata loaded on first use, caches) out of the garbage
    collector's reach. Those objects live as long as the process, and every full
    collection scanned them again: measured, a first load ran 1.6 times faster without."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True


def _batches(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    while batch := list(itertools.islice(records, size)):
        yield batch


def replay(entries: Iterable[QuarantineEntry], pipelines: Sequence[PipelineConfig],
           sink: Sink) -> tuple[int, int]:
    """Run quarantine entries through their pipeline's stages again, after a fix.

    Accepted records join the master and their entries are resolved; the rest stay open
    with their reason brought up to date. One transaction per pipeline. Returns
    (accepted, still open).
    """
    by_name = {p.name: p for p in pipelines}
    grouped: dict[str, list[QuarantineEntry]] = {}
    for entry in entries:
        if entry.pipeline not in by_name:
            raise ConfigError("quarantine replay", [
                f"entry #{entry.id} came from pipeline {entry.pipeline!r}, "
                "which is not in the configuration"])
        grouped.setdefault(entry.pipeline, []).append(entry)
    accepted = still = 0
    for name, group in grouped.items():
        cfg = by_name[name]
        prepare = Preparer.for_pipeline(cfg)
        batch = PreparedBatch(cfg.name, cfg.source_system, prepare.mapping.target)
        for entry in group:
            if entry.stage in (UnreadableRecord.stage, DuplicateSourceId.stage):
                still += 1   # only the source can fix what it gave unreadable or twice
                continue
            raw = RawRecord.from_storable(entry.source_id, entry.raw, entry.location)
            try:
                batch.accepted.append((prepare(raw), raw))
            except RecordRejected as exc:
                batch.reasons.append((entry.id, exc))
        sink.commit(batch)
        accepted, still = accepted + len(batch.accepted), still + len(batch.reasons)
    return accepted, still
