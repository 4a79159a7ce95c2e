"""Release 0.2: match profiles, decisions with their evidence, interactions, the inbox.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SeqId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)
CHUNK = 500   # outbox rows read and rewritten per statement


def upgrade() -> None:
    # Profiles of existing records are computed from their canonical form when first
    # read (hub.store.master), not here: the migration stays free of matching code.
    with op.batch_alter_table("source_records") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))
    op.create_index("ix_masters_merged_into", "masters", ["merged_into"])
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
    _public_events()


# --- events of 0.1 in the public payload of 0.2 -------------------------------------------
# 0.1 stored each event's whole envelope in ``payload`` with its storage-shaped data
# (``master_id``/``golden`` with "system/id" source strings); 0.2 stores ``{"data": ...}``
# with the public payload of hub/events.py. The log is rewritten so a consumer reading it
# from offset 0 sees one format. The conversion is written out here on purpose: a
# migration must not import application code, which keeps changing after it is released.

_outbox = sa.table(
    "outbox",
    sa.column("seq", sa.Integer),
    sa.column("type", sa.String),
    sa.column("payload", sa.JSON),
)
_CUSTOMER = frozenset({"customer.created", "customer.updated", "customer.merged"})
_REJECTED = "record.rejected"


def _public_events() -> None:
    conn = op.get_bind()
    seq = _outbox.c.seq
    query = (sa.select(seq, _outbox.c.type, _outbox.c.payload)
             .where(_outbox.c.type.in_([*_CUSTOMER, _REJECTED])).order_by(seq).limit(CHUNK))
    rewrite = (sa.update(_outbox).where(seq == sa.bindparam("b_seq"))
               .values(payload=sa.bindparam("b_payload")))
    last = 0
    while rows := conn.execute(query.where(seq > last)).all():
        last = rows[-1].seq
        updates = []
        for row in rows:
            data = _public_data(row.type, row.payload)
            if data is not None:
                updates.append({"b_seq": row.seq, "b_payload": {"data": data}})
        if updates:
            conn.execute(rewrite, updates)


def _public_data(event_type: str, payload: Any) -> dict[str, Any] | None:
    """The 0.2 data of a 0.1 event; None when ``payload`` is not in the 0.1 format."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return None
    if event_type in _CUSTOMER and "golden" in data and "customer" not in data:
        golden = data.get("golden") or {}
        out: dict[str, Any] = {"customer": {
            "id": data["master_id"],
            "status": data.get("status", "active"),
            "display_name": golden.get("display_name", ""),
            "fields": {path: [{"value": v["value"], "source": _source(v["source"])}
                              for v in values]
                       for path, values in golden.get("fields", {}).items()},
            "sources": [_source(s) for s in golden.get("sources", [])],
        }}
        if event_type == "customer.merged":
            out["merged_ids"] = sorted(data.get("merged", []))
        return out
    if event_type == _REJECTED and "source_system" in data and "source" not in data:
        return {"pipeline": data.get("pipeline"),
                "source": {"system": data["source_system"], "id": data["source_id"]},
                "location": data.get("location", ""), "stage": data.get("stage"),
                "field": data.get("field"), "reason": data.get("reason")}
    return None


def _source(ref: str) -> dict[str, str]:
    """``{"system", "id"}`` from 0.1's ``"system/id"`` (a system name holds no ``/``)."""
    system, _, source_id = ref.partition("/")
    return {"system": system, "id": source_id}
