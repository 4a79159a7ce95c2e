"""Per-pipeline checkpoints, saved in the same transaction as the records they cover."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from hub.records import Checkpoint
from hub.store.tables import checkpoints


def load(conn: Connection, pipeline: str) -> Checkpoint | None:
    value = conn.execute(select(checkpoints.c.value)
                         .where(checkpoints.c.pipeline == pipeline)).scalar()
    return Checkpoint(value) if value is not None else None


def save(conn: Connection, pipeline: str, checkpoint: Checkpoint | None) -> None:
    if checkpoint is None:
        return
    now = datetime.now(UTC)
    done = conn.execute(update(checkpoints).where(checkpoints.c.pipeline == pipeline)
                        .values(value=checkpoint.value, updated_at=now)).rowcount
    if not done:
        conn.execute(checkpoints.insert().values(pipeline=pipeline, value=checkpoint.value,
                                                 updated_at=now))
