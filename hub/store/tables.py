"""The master store's tables: one SQLAlchemy Core metadata for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for the log.
_SeqId = BigInteger().with_variant(Integer(), "sqlite")

masters = Table(
    "masters",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("status", String(16), nullable=False, default="active"),  # active | merged
    Column("merged_into", String(26), nullable=True),
    Column("version", Integer, nullable=False),
    Column("golden", JSON, nullable=False),   # field -> {"value", "source_system", "source_id"}
    Column("search_text", Text, nullable=False, default=""),  # normalized names for search
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

source_records = Table(
    "source_records",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("source_system", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("content_hash", String(32), nullable=False),   # of the canonical form
    Column("raw_hash", String(32), nullable=False),       # of the raw record + its mapping
    Column("location", Text, nullable=False, default=""),
    Column("raw", JSON, nullable=False),
    Column("canonical", JSON, nullable=False),
    Column("master_id", String(26), ForeignKey("masters.id"), nullable=False, index=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_system", "source_id", name="uq_source_record"),
)

# Blocking keys as indexed rows: a new record finds its candidates without a scan.
blocking_keys = Table(
    "blocking_keys",
    metadata,
    Column("key", String(200), nullable=False),
    Column("source_record_id", _SeqId, ForeignKey("source_records.id", ondelete="CASCADE"),
           nullable=False),
    Column("master_id", String(26), nullable=False),
    Index("ix_blocking_keys_key", "key"),
    Index("ix_blocking_keys_record", "source_record_id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("source_system", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("location", Text, nullable=False, default=""),
    Column("stage", String(16), nullable=False),   # map | standardize | validate
    Column("field", String(200), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | resolved
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_system", "source_id", "content_hash", name="uq_quarantine"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("pipeline", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The outbox is the durable, ordered event log: written in the same transaction as the
# change it describes, relayed to the bus afterwards, readable from any offset.
outbox = Table(
    "outbox",
    metadata,
    Column("seq", _SeqId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("subject", String(200), nullable=False),   # master id, or source/record
    Column("version", Integer, nullable=True),          # per-customer version
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_unpublished", "published_at", "seq"),
)
