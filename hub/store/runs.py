"""Run history: one row per pipeline run, written when it starts and when it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.retry import retry_store
from hub.store.engine import read, unit_of_work
from hub.store.tables import runs


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as ``peyvand runs`` shows it; ``running`` with no end is a run that is
    still going or was interrupted (a crash, a kill)."""

    id: int
    pipeline: str
    started_at: datetime
    finished_at: datetime | None
    status: str            # running | finished | failed
    stats: dict[str, Any]
    error: str | None


@retry_store
def start(engine: Engine, pipeline: str) -> int:
    with unit_of_work(engine, f"recording the start of {pipeline}") as conn:
        run_id: int = conn.execute(insert(runs).returning(runs.c.id), {
            "pipeline": pipeline, "started_at": datetime.now(UTC),
            "status": "running"}).scalar_one()
    return run_id


@retry_store
def finish(engine: Engine, run_id: int, stats: dict[str, Any], error: str | None = None
           ) -> None:
    with unit_of_work(engine, "recording the end of a run") as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            finished_at=datetime.now(UTC), status="failed" if error else "finished",
            stats=stats, error=error))


def history(engine: Engine, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
    """The latest runs, newest first."""
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    if pipeline:
        query = query.where(runs.c.pipeline == pipeline)
    return read(engine, "reading the run history", lambda conn: [
        RunRecord(r.id, r.pipeline, r.started_at, r.finished_at, r.status, r.stats or {},
                  r.error) for r in conn.execute(query)])
