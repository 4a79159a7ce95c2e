"""The ``xml_files`` checkpoint: which files of the drop folder are done, by content.

A checkpoint is JSON::

    {"v": 1, "done": {"2024/INV-7.xml": [size, mtime_ns, "sha256[:16]"], ...},
     "at": ["INV-8.xml", size, mtime_ns, "sha256[:16]", 3]}

``done`` holds every file of the folder read to its end (files no longer in the folder
are dropped from it, so it stays as long as the folder, not as its history); ``at``, the
file in progress and how many of its records were delivered.

Every record carries a checkpoint, and the engine saves only the one of the last record
of a batch. Written out for each record, a ledger of thousands of files would cost
O(files) per record: O(files x records) time and a ledger's copy in memory per record
of a batch. So a ``LedgerCheckpoint`` holds a snapshot by reference (the ledger at the
start of the run, plus how many of this run's finished files it covers) and writes the
JSON when its value is first read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.errors import FatalSourceError
from hub.records import Checkpoint

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Mark:
    """What a file was when it was read: its size, its mtime and its content's hash."""

    size: int
    mtime_ns: int
    digest: str   # sha256 hex, 16 digits; "" when the file was refused unread (too big)

    def same_stat(self, size: int, mtime_ns: int) -> bool:
        return (self.size, self.mtime_ns) == (size, mtime_ns)

    def to_json(self) -> list[Any]:
        return [self.size, self.mtime_ns, self.digest]


@dataclass(frozen=True, slots=True)
class Position:
    """The file in progress and how many of its records were delivered."""

    name: str
    mark: Mark
    delivered: int


@dataclass(frozen=True, slots=True)
class Ledger:
    """A checkpoint, read: the files done, and the file in progress."""

    done: dict[str, Mark]
    at: Position | None = None

    @property
    def digests(self) -> set[str]:
        """The contents done, whatever the files' names now."""
        return {m.digest for m in self.done.values() if m.digest}


def read_checkpoint(checkpoint: Checkpoint | None) -> Ledger:
    """The ledger a checkpoint holds (empty for None); a foreign one stops the run."""
    if checkpoint is None:
        return Ledger({})
    try:
        doc = json.loads(checkpoint.value)
        if doc.get("v") != _VERSION:
            raise ValueError(f"version {doc.get('v')!r}")
        done = {str(n): Mark(int(s), int(t), str(d)) for n, (s, t, d) in doc["done"].items()}
        at = None
        if doc.get("at"):
            name, size, mtime, digest, delivered = doc["at"]
            at = Position(str(name), Mark(int(size), int(mtime), str(digest)), int(delivered))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise FatalSourceError(f"xml_files checkpoint {checkpoint.value[:60]!r} is not one "
                               f"this adapter wrote ({exc}); reset the pipeline's "
                               "checkpoint") from None
    return Ledger(done, at)


class Run:
    """The ledger as one extract moves on: the folder's files done before it (pruned to
    those still there), then the files it finishes, in order. Append-only, so a prefix
    of it is a snapshot a checkpoint can keep."""

    def __init__(self, before: dict[str, Mark]) -> None:
        self.before = before
        self.finished: list[tuple[str, Mark]] = []

    def finish(self, name: str, mark: Mark) -> None:
        self.finished.append((name, mark))

    def checkpoint(self, at: Position | None = None) -> LedgerCheckpoint:
        """The checkpoint after every file finished so far (and ``at``, if given)."""
        return LedgerCheckpoint(self, len(self.finished), at)

    def encode(self, count: int, at: Position | None) -> str:
        done = dict(self.before)
        done.update(self.finished[:count])
        doc: dict[str, Any] = {"v": _VERSION,
                               "done": {n: done[n].to_json() for n in sorted(done)}}
        if at is not None:
            doc["at"] = [at.name, *at.mark.to_json(), at.delivered]
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


class LedgerCheckpoint(Checkpoint):
    """A Checkpoint whose JSON is written when ``value`` is first read (see the module
    docstring); it compares, hashes and pickles as the plain Checkpoint of that value."""

    __slots__ = ("_at", "_count", "_run", "_text")
    _run: Run
    _count: int
    _at: Position | None
    _text: str | None

    def __init__(self, run: Run, count: int, at: Position | None) -> None:
        # Checkpoint is frozen: set the slots as its own __init__ does.
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_count", count)
        object.__setattr__(self, "_at", at)
        object.__setattr__(self, "_text", None)

    @property
    def value(self) -> str:
        if self._text is None:
            object.__setattr__(self, "_text", self._run.encode(self._count, self._at))
        return str(self._text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.value,))

    def __repr__(self) -> str:
        return f"Checkpoint(value={self.value!r})"

    def __reduce__(self) -> tuple[type[Checkpoint], tuple[str]]:
        return Checkpoint, (self.value,)
