"""The master store's tables: one SQLAlchemy Core metadata for SQLite and PostgreSQL.

The schema is created and upgraded by the migrations in ``hub/store/migrations``
(Alembic); this module is what the code reads and writes, and a test checks that the
two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
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
    Column("status", String(16), nullable=False, default="active"),  # active|merged|retired|erased
    Column("merged_into", String(26), nullable=True),
    Column("version", Integer, nullable=False),
    Column("golden", JSON, nullable=False),   # field -> {"value", "source_system", "source_id"}
    Column("search_text", Text, nullable=False, default=""),  # normalized names for search
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_masters_merged_into", "merged_into"),   # a merged-away id's survivor
    Index("ix_masters_status", "status"),   # counts by status (/metrics, the run summary)
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
    # hub.matching.profile.Profile.to_json(): candidates are compared without decoding
    # the canonical record; NULL (a store from before 0.2) is filled in when first read.
    Column("profile", JSON, nullable=True),
    # Set when the source says the record is gone: its link is closed, the customer is
    # rebuilt without it, and it comes back (reopened) if the source sends it again.
    Column("closed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("source_system", "source_id", name="uq_source_record"),
)

# Every matching decision with its evidence, oldest first: why a record is where it is.
links = Table(
    "links",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("source_record_id", _SeqId, ForeignKey("source_records.id", ondelete="CASCADE"),
           nullable=False),
    Column("master_id", String(26), nullable=False),
    Column("decision", String(16), nullable=False),   # new|joined|kept|merged|moved|unmerged
    Column("evidence", JSON, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Index("ix_links_record", "source_record_id", "id"),
)

# Interactions (an e-mail, an SMS, a form post), attached to the customer their
# contact identifies when one does.
interactions = Table(
    "interactions",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("source_system", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("content_hash", String(32), nullable=False),
    Column("raw_hash", String(32), nullable=False),
    Column("location", Text, nullable=False, default=""),
    Column("raw", JSON, nullable=False),
    Column("canonical", JSON, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("occurred_at", String(40), nullable=False),   # ISO 8601 with its offset
    Column("master_id", String(26), nullable=True, index=True),
    Column("matched_by", String(200), nullable=True),     # the blocking key that attached it
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_system", "source_id", name="uq_interaction"),
)

# The inbox of push sources: a webhook's request is stored here before it is answered,
# and the inbox adapter reads it like any other source (``seq`` is its checkpoint).
inbox = Table(
    "inbox",
    metadata,
    Column("seq", _SeqId, primary_key=True, autoincrement=True),
    Column("channel", String(100), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel", "source_id", name="uq_inbox"),
    Index("ix_inbox_channel_seq", "channel", "seq"),
)

# Signatures of signed pushes seen within their replay window: a request sent twice with
# the same signature is refused (rows past expires_at are deleted as new ones come).
request_signatures = Table(
    "request_signatures",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Blocking keys as indexed rows: a new record finds its candidates without a scan.
blocking_keys = Table(
    "blocking_keys",
    metadata,
    Column("key", String(200), nullable=False),
    Column("source_record_id", _SeqId, ForeignKey("source_records.id", ondelete="CASCADE"),
           nullable=False),
    Column("master_id", String(26), nullable=False),
    # key then master: candidates are found from the index alone (migration 0008)
    Index("ix_blocking_keys_key_master", "key", "master_id"),
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
    Column("stage", String(16), nullable=False),   # read | map | standardize | validate
    Column("field", String(200), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | resolved
    Column("created_at", DateTime(timezone=True), nullable=False),
    # record: the whole record waits; values: it was accepted, these values wait.
    Column("kind", String(8), nullable=False, default="record", server_default="record"),
    Column("problems", JSON, nullable=True),     # [{"field", "reason"}], every one
    UniqueConstraint("source_system", "source_id", "content_hash", "kind",
                     name="uq_quarantine"),
)

# One row per pipeline run: `peyvand runs` shows the history.
runs = Table(
    "runs",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("pipeline", String(100), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False),   # running | finished | failed
    Column("stats", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_runs_pipeline", "pipeline", "id"),
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

# Every merge of one master into another, with the records it moved: unmerge puts exactly
# those records back on the absorbed id. ``kind``: auto (matching), manual, review (an
# accepted review pair), rematch. ``undone_at`` is set when the merge is unmerged.
merge_history = Table(
    "merge_history",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("survivor", String(26), nullable=False),
    Column("absorbed", String(26), nullable=False),
    Column("record_ids", JSON, nullable=False),   # source_records.id moved by the merge
    Column("kind", String(16), nullable=False),
    Column("evidence", JSON, nullable=True),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True), nullable=True),
    Index("ix_merge_history_survivor", "survivor"),
    Index("ix_merge_history_absorbed", "absorbed"),
)

# Pairs of records matching would link only with a person's word: the score fell between
# the review and match thresholds, or a link was blocked between two masters. Rejected
# pairs are never linked automatically again, whatever a retrained model says.
review_pairs = Table(
    "review_pairs",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("record_a", _SeqId, ForeignKey("source_records.id", ondelete="CASCADE"),
           nullable=False),   # the smaller source_records.id of the two
    Column("record_b", _SeqId, ForeignKey("source_records.id", ondelete="CASCADE"),
           nullable=False),
    Column("score", Float, nullable=True),
    Column("evidence", JSON, nullable=True),
    Column("status", String(16), nullable=False),   # open | accepted | rejected
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(100), nullable=True),
    UniqueConstraint("record_a", "record_b", name="uq_review_pair"),
    Index("ix_review_pairs_status", "status", "id"),
    Index("ix_review_pairs_record_b", "record_b"),
)

# Right-to-be-forgotten requests carried out: the only trace of the person is this row,
# which names the erased master id and no personal data.
erasures = Table(
    "erasures",
    metadata,
    Column("id", _SeqId, primary_key=True, autoincrement=True),
    Column("master_id", String(26), nullable=False, unique=True),
    Column("request", String(200), nullable=True),   # the operator's reference (a ticket)
    Column("counts", JSON, nullable=False),   # rows removed per table
    Column("erased_at", DateTime(timezone=True), nullable=False),
)
