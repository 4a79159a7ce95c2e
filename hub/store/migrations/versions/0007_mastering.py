"""Mastering (issue 6/8): merge history for unmerge, the review queue, erasure tombstones.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "merge_history",
        sa.Column("id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("survivor", sa.String(26), nullable=False),
        sa.Column("absorbed", sa.String(26), nullable=False),
        sa.Column("record_ids", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_merge_history_survivor", "merge_history", ["survivor"])
    op.create_index("ix_merge_history_absorbed", "merge_history", ["absorbed"])
    op.create_table(
        "review_pairs",
        sa.Column("id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("record_a", _SeqId, sa.ForeignKey("source_records.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("record_b", _SeqId, sa.ForeignKey("source_records.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("evidence", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.UniqueConstraint("record_a", "record_b", name="uq_review_pair"),
    )
    op.create_index("ix_review_pairs_status", "review_pairs", ["status", "id"])
    op.create_index("ix_review_pairs_record_b", "review_pairs", ["record_b"])
    op.create_table(
        "erasures",
        sa.Column("id", _SeqId, primary_key=True, autoincrement=True),
        sa.Column("master_id", sa.String(26), nullable=False, unique=True),
        sa.Column("request", sa.String(200), nullable=True),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erasures")
    op.drop_table("review_pairs")
    op.drop_index("ix_merge_history_absorbed", table_name="merge_history")
    op.drop_index("ix_merge_history_survivor", table_name="merge_history")
    op.drop_table("merge_history")
