"""Per-pipeline checkpoints, saved in the same transaction as the records they cover."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

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


def reset(conn: Connection, pipeline: str) -> bool:
    """Forget where ``pipeline`` stopped: its next run reads its source from the start.

    Records already stored are recognised by source id and content, so their masters
    keep their ids: a full refresh changes only what changed at the source.
    """
    return bool(conn.execute(delete(checkpoints).where(checkpoints.c.pipeline == pipeline))
                .rowcount)


def show(conn: Connection, pipeline: str) -> tuple[str, datetime] | None:
    row = conn.execute(select(checkpoints.c.value, checkpoints.c.updated_at)
                       .where(checkpoints.c.pipeline == pipeline)).first()
    return (row.value, row.updated_at) if row else None
