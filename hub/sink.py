"""The seam between ``prepare`` (stateless) and ``commit`` (matching, the master, events).

The pipeline prepares a batch (map, standardize, validate) and hands it to a ``Sink``.
``StoreSink`` commits it in this process: one unit of work holds the records, links,
golden records, interactions, quarantine entries, events and the adapter's checkpoint,
so a crash anywhere loses nothing and a rerun duplicates nothing. A queue-backed sink
(prepared batches over the bus to matcher workers) fits the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from hub.errors import RecordRejected
from hub.records import CanonicalRecord, Checkpoint, RawRecord, Target
from hub.retry import retry_store
from hub.store import checkpoints, interactions, quarantine
from hub.store.engine import read, unit_of_work
from hub.store.interactions import InteractionOutcome
from hub.store.master import BatchOutcome, MasterRepository, unchanged_raw
from hub.store.quarantine import Rejection


@dataclass
class PreparedBatch:
    """A batch after the stateless stages: what to accept, what to quarantine.

    Args:
        pipeline: the pipeline it came from.
        source_system: the records' source system.
        target: what the accepted records describe.
        accepted: canonical records with the raw records they came from.
        rejected: records to quarantine, with their reasons.
        checkpoint: the source's position after the batch's last record; saved with it.
        reasons: still-rejected quarantine entries (by id) after a replay, whose
            reasons are brought up to date.
        skipped: records left out before the stages because the store holds them from
            the same raw data and mapping (unchanged).
        closed: records the source says are gone, (source system, source id): their
            links are closed.
    """

    pipeline: str
    source_system: str
    target: Target
    accepted: list[tuple[CanonicalRecord, RawRecord]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    reasons: list[tuple[int, RecordRejected]] = field(default_factory=list)
    skipped: int = 0
    closed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Committed:
    """What committing a batch did."""

    outcome: BatchOutcome | InteractionOutcome
    quarantined: int   # new quarantine entries (a record rejected again is not new)
    set_aside: int = 0   # new entries of accepted records with values set aside
    closed: int = 0      # links closed because the source says the record is gone


class Sink(Protocol):
    def checkpoint(self, pipeline: str) -> Checkpoint | None:
        """Where ``pipeline`` stopped (None: from the start)."""

    def unchanged(self, source_system: str, raw_hashes: dict[str, str]) -> set[str]:
        """Source ids already stored from the same raw data and mapping."""

    def commit(self, batch: PreparedBatch) -> Committed:
        """Commit ``batch`` with its checkpoint, all or nothing."""


class StoreSink:
    """Commits batches to the store in this process."""

    def __init__(self, engine: Engine, masters: MasterRepository) -> None:
        self.engine, self.masters = engine, masters

    def checkpoint(self, pipeline: str) -> Checkpoint | None:
        return read(self.engine, f"reading the checkpoint of {pipeline}",
                    lambda conn: checkpoints.load(conn, pipeline))

    def unchanged(self, source_system: str, raw_hashes: dict[str, str]) -> set[str]:
        return read(self.engine, f"looking up records of {source_system}",
                    lambda conn: unchanged_raw(conn, source_system, raw_hashes))

    @retry_store
    def commit(self, batch: PreparedBatch) -> Committed:
        """One transaction per batch; a locked or unreachable store is retried."""
        with unit_of_work(self.engine, f"committing a batch of {batch.pipeline}") as conn:
            outcome: BatchOutcome | InteractionOutcome
            if batch.target is Target.INTERACTION:
                outcome = interactions.record(conn, batch.accepted)
            else:
                outcome = self.masters.ingest(conn, batch.accepted)
            set_aside = quarantine.accepted(conn, batch.pipeline, batch.accepted)
            quarantine.update_reasons(conn, batch.reasons)
            new = quarantine.add(conn, batch.rejected)
            closed = self.masters.close(conn, batch.closed) if batch.closed else 0
            quarantine.resolve(conn, batch.closed)   # nothing waits for what is gone
            checkpoints.save(conn, batch.pipeline, batch.checkpoint)
        return Committed(outcome, new, set_aside, closed)
