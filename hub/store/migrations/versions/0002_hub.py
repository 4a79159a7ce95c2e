"""Release 0.2: match profiles, decisions with their evidence, interactions, the inbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Profiles of existing records are computed from their canonical form when first
    # read (hub.store.master), not here: the migration stays free of matching code.
    with op.batch_alter_table("source_records") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))
    op.create_table(
        "links",
        sa.Column("id", SeqId, primary_key=True, autoincrement=True),
        sa.Column("source_record_id", SeqId,
                  sa.ForeignKey("source_records.id", ondelete="CASCADE"), nullable=False),
        sa.Column("master_id", sa.String(26), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=True),
        sa.Column("decided_at", Stamp, nullable=False),
    )
    op.create_index("ix_links_record", "links", ["source_record_id", "id"])
    # Records linked by 0.1 keep their link; why it was made was not recorded then.
    op.execute("INSERT INTO links (source_record_id, master_id, decision, decided_at) "
               "SELECT id, master_id, 'legacy', received_at FROM source_records")
    op.create_table(
        "interactions",
        sa.Column("id", SeqId, primary_key=True, autoincrement=True),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("raw_hash", sa.String(32), nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("canonical", sa.JSON, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("master_id", sa.String(26), nullable=True),
        sa.Column("matched_by", sa.String(200), nullable=True),
        sa.Column("received_at", Stamp, nullable=False),
        sa.UniqueConstraint("source_system", "source_id", name="uq_interaction"),
    )
    op.create_index("ix_interactions_master_id", "interactions", ["master_id"])
    op.create_table(
        "inbox",
        sa.Column("seq", SeqId, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", Stamp, nullable=False),
        sa.UniqueConstraint("channel", "source_id", name="uq_inbox"),
    )
    op.create_index("ix_inbox_channel_seq", "inbox", ["channel", "seq"])
