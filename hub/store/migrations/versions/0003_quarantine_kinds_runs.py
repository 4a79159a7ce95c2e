"""Values set aside in quarantine beside whole records; run history.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A record may wait whole and, after a fix, be accepted with a value still set aside:
    # two entries for the same content, told apart by their kind.
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False,
                                   server_default="record"))
        batch.add_column(sa.Column("problems", sa.JSON, nullable=True))
        batch.drop_constraint("uq_quarantine", type_="unique")
        batch.create_unique_constraint(
            "uq_quarantine", ["source_system", "source_id", "content_hash", "kind"])
    op.create_table(
        "runs",
        sa.Column("id", SeqId, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(100), nullable=False),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stats", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_runs_pipeline", "runs", ["pipeline", "id"])
