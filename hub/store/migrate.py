"""The store's schema, created and upgraded in place by Alembic migrations.

``open_engine`` calls ``upgrade``: a new store is built by running every migration from
the first, and a store made by an older release is upgraded to ``HEAD``. A store from
0.1 (the walking skeleton, which had no migrations) is recognised by its tables and
stamped as revision ``0001`` first. Two processes opening one store at once do not
migrate it twice: the upgrade runs under the store's write lock.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from hub.errors import StoreUnavailable
from hub.store.dialect import lock
from hub.store.engine import reading, unit_of_work

HEAD = "0008"            # the newest revision in migrations/versions (a test checks it)
SKELETON = "0001"        # the schema of release 0.1, which was created without Alembic
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return SKELETON if inspect(conn).has_table("masters") else None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the store at ``engine`` to ``HEAD``."""
    with reading(engine, "opening the store") as conn:
        if current_revision(conn) == HEAD:
            return
    with unit_of_work(engine, "upgrading the store's schema") as conn:
        lock(conn, "migrate")
        revision = current_revision(conn)   # again: another process may have done it
        if revision == HEAD:
            return
        _run(conn, revision)


def _run(conn: Connection, revision: str | None) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision is not None and revision not in known:
        raise StoreUnavailable(
            f"the store's schema is at revision {revision!r}, which this release of "
            f"Peyvand does not know (it knows up to {HEAD!r}): a newer release made it; "
            "upgrade Peyvand")
    try:
        if revision == SKELETON and not inspect(conn).has_table("alembic_version"):
            command.stamp(cfg, SKELETON)
        command.upgrade(cfg, "head")
    except CommandError as exc:
        raise StoreUnavailable(f"the store's schema cannot be upgraded: {exc}") from exc
