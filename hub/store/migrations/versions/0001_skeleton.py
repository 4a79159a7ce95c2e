"""The store of release 0.1 (the walking skeleton), exactly as it created it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for the log.
SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "masters",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("merged_into", sa.String(26), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("golden", sa.JSON, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "source_records",
        sa.Column("id", SeqId, primary_key=True, autoincrement=True),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("raw_hash", sa.String(32), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("canonical", sa.JSON, nullable=False),
        sa.Column("master_id", sa.String(26), sa.ForeignKey("masters.id"), nullable=False),
        sa.Column("received_at", Stamp, nullable=False),
        sa.UniqueConstraint("source_system", "source_id", name="uq_source_record"),
    )
    op.create_index("ix_source_records_master_id", "source_records", ["master_id"])
    op.create_table(
        "blocking_keys",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("source_record_id", SeqId,
                  sa.ForeignKey("source_records.id", ondelete="CASCADE"), nullable=False),
        sa.Column("master_id", sa.String(26), nullable=False),
    )
    op.create_index("ix_blocking_keys_key", "blocking_keys", ["key"])
    op.create_index("ix_blocking_keys_record", "blocking_keys", ["source_record_id"])
    op.create_table(
        "quarantine",
        sa.Column("id", SeqId, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("source_system", "source_id", "content_hash",
                            name="uq_quarantine"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("pipeline", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("published_at", Stamp, nullable=True),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "seq"])
