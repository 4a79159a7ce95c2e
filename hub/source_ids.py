"""One id names one record: the ids an extract has given, and the conflicts among them."""

from __future__ import annotations

from hub.errors import DuplicateSourceId, RecordRejected
from hub.records import RawRecord


class SourceIds:
    """The ids one extract has given so far: an id must name one record.

    A copy with the same content is harmless and skipped. Copies with other content are
    conflicts: within a batch every copy waits in quarantine, later in the extract the
    later copy does (the first is already committed). Memory grows with the extract's
    size, about 300 bytes an id (measured: 43 MB for 139,201 ids): a million-row file
    holds some 300 MB.
    """

    def __init__(self) -> None:
        self.first: dict[tuple[str, str], tuple[str, str]] = {}   # ref -> (hash, location)
        self.conflicted: set[tuple[str, str]] = set()

    def check(self, records: list[RawRecord], refs: list[tuple[str, str]],
              hashes: list[str]) -> tuple[dict[int, RecordRejected], set[int]]:
        """(position -> conflict, positions of harmless repeats) within ``records``;
        ``refs`` are their (source system, source id)."""
        positions: dict[tuple[str, str], list[int]] = {}
        for i, ref in enumerate(refs):
            positions.setdefault(ref, []).append(i)
        conflicts: dict[int, RecordRejected] = {}
        repeats: set[int] = set()
        for ref, at in positions.items():
            earlier = self.first.get(ref)
            copies = ([earlier] if earlier else []) + [(hashes[i], records[i].location)
                                                       for i in at]
            if len({h for h, _ in copies}) > 1 or ref in self.conflicted:
                self.conflicted.add(ref)
                clash = _conflict(ref[1], [where for _, where in copies])
                conflicts.update((i, clash) for i in at)
            else:
                repeats.update(at[1:] if earlier is None else at)
            self.first.setdefault(ref, copies[0])
        return conflicts, repeats


def _conflict(source_id: str, locations: list[str]) -> RecordRejected:
    places = ", ".join(dict.fromkeys(locations))
    return DuplicateSourceId(
        f"source id {source_id!r} is given to different records ({places}); an id must "
        "name one record: fix the source, or choose the id column(s) in the pipeline")
