"""One id names one record: the ids an extract has given, and the conflicts among them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from hub.errors import DuplicateSourceId, RecordRejected
from hub.records import RawRecord

_CHUNK = 900   # ids per lookup: under SQLite's limit of bound parameters


class SourceIds:
    """The ids one extract has given so far: an id must name one record.

    A copy with the same content is harmless and skipped. Copies with other content are
    conflicts: within a batch every copy waits in quarantine, later in the extract the
    later copy does (the first is already committed).

    The ids live in a private temporary SQLite database on disk (deleted when closed),
    looked up and added a batch at a time: memory stays flat however long the extract
    (held in a dict, they took some 440 bytes an id, 220 MB for 500,000 rows).
    """

    def __init__(self) -> None:
        # "" opens a private on-disk database that SQLite deletes on close.
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE seen (ref TEXT PRIMARY KEY, hash TEXT NOT NULL,"
            " location TEXT NOT NULL, conflicted INTEGER NOT NULL) WITHOUT ROWID;")

    def close(self) -> None:
        self._db.close()

    def check(self, records: list[RawRecord], refs: list[tuple[str, str]],
              hashes: list[str]) -> tuple[dict[int, RecordRejected], set[int]]:
        """(position -> conflict, positions of harmless repeats) within ``records``;
        ``refs`` are their (source system, source id)."""
        positions: dict[str, list[int]] = {}
        for i, (system, source_id) in enumerate(refs):
            positions.setdefault(f"{system}/{source_id}", []).append(i)
        earlier = self._earlier(positions)
        conflicts: dict[int, RecordRejected] = {}
        repeats: set[int] = set()
        rows: list[tuple[str, str, str, int]] = []
        for ref, at in positions.items():
            before = earlier.get(ref)
            copies = ([before[:2]] if before else []) + [(hashes[i], records[i].location)
                                                         for i in at]
            if len({h for h, _ in copies}) > 1 or (before and before[2]):
                clash = _conflict(refs[at[0]][1], [where for _, where in copies])
                conflicts.update((i, clash) for i in at)
                rows.append((ref, *copies[0], 1))
            else:
                repeats.update(at[1:] if before is None else at)
                if before is None:
                    rows.append((ref, *copies[0], 0))
        self._db.execute("BEGIN")   # one transaction a batch, not one a row
        self._db.executemany(
            "INSERT INTO seen VALUES (?, ?, ?, ?) ON CONFLICT (ref) DO UPDATE SET "
            "conflicted = excluded.conflicted", rows)
        self._db.execute("COMMIT")
        return conflicts, repeats

    def _earlier(self, refs: Iterable[str]) -> dict[str, tuple[str, str, int]]:
        """The first copy (hash, location) and conflict flag of each ref seen before."""
        found: dict[str, tuple[str, str, int]] = {}
        wanted = list(refs)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            for ref, digest, location, conflicted in self._db.execute(
                    f"SELECT ref, hash, location, conflicted FROM seen WHERE ref IN ({marks})",
                    chunk):
                found[ref] = (digest, location, conflicted)
        return found


def _conflict(source_id: str, locations: list[str]) -> RecordRejected:
    places = ", ".join(dict.fromkeys(locations))
    return DuplicateSourceId(
        f"source id {source_id!r} is given to different records ({places}); an id must "
        "name one record: fix the source, or choose the id column(s) in the pipeline")
