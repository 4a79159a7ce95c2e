"""Reading the master: one customer, search by name, counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, or_, select

from hub.standardize.persian_text import text_key
from hub.standardize.person_names import compact_key, skeleton
from hub.store.tables import masters, source_records


def count_masters(engine: Engine, status: str = "active") -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(masters)
                                .where(masters.c.status == status)).scalar_one())


def get_master(engine: Engine, master_id: str) -> tuple[Any, list[Any]] | None:
    """The master row and its linked source records, or None."""
    with engine.connect() as conn:
        row = conn.execute(select(masters).where(masters.c.id == master_id)).first()
        if row is None:
            return None
        records = list(conn.execute(select(source_records)
                                    .where(source_records.c.master_id == master_id)
                                    .order_by(source_records.c.id)))
    return row, records


def search(engine: Engine, text: str, *, limit: int = 20) -> list[Any]:
    """Active masters whose names contain ``text``, compared as match keys.

    ``علي كريمي``, ``علی‌کریمی`` and ``Karimi`` all find علی کریمی: the query is folded
    like the stored names, and its consonant skeleton matches across scripts.
    """
    terms = {t for t in (text_key(text), compact_key(text)) if t}
    skel = skeleton(text).replace(" ", "")
    like = [masters.c.search_text.like(f"%{_escape(t)}%", escape="\\") for t in terms]
    if len(skel) >= 2:  # a skeleton matches a whole term only: KRM finds کریمی, not کرمانی
        like.append(masters.c.search_text.like(f"%| ~{_escape(skel)} |%", escape="\\"))
    if not like:
        return []
    query = (select(masters).where(masters.c.status == "active", or_(*like))
             .order_by(masters.c.id).limit(limit))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
