"""Which files a spreadsheet source reads, in what order, and where a run stopped in them.

``options.path`` is one file or a glob (``exports/customers-*.xlsx``). A glob's files are
read in the order of their names with runs of digits compared as numbers (``-2`` before
``-10``), so the order is stable across runs and machines. Names writers give files they
have not finished (``*.part``, ``*.tmp``, Office's ``~$...`` and LibreOffice's
``.~lock...#``, hidden files) are left out, and the adapters leave a file modified in the
last ``settle_seconds`` for the next run: a copy still being written.

The checkpoint keeps, for one file with one sheet, the form it always had,
``<content hash>:<row>``, and ``<content hash>:done:<row>`` once the file is read to its
end (an unchanged file is then not even opened). With a glob or several sheets it is JSON:
``{"done": {file: hash}, "at": [file, hash, sheet, row]}``: the files read to the end
and the content hash each had then (a new file is read, an unchanged one is not, a file
replaced by a newer version of itself is read again from its top), and the row reached in
the file being read.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from hub.errors import FatalSourceError
from hub.records import Checkpoint

_GLOB = re.compile(r"[*?[]")
_DIGITS = re.compile(r"(\d+)")
# Names writers give files they have not finished: partial downloads and copies, editors'
# and Office's lock files, hidden files (rsync writes ``.name.XXXXXX`` then renames).
_TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download",
                  ".filepart", ".swp", "~")
_TEMP_PREFIXES = (".", "~$", "~")


def is_glob(path: str) -> bool:
    return bool(_GLOB.search(path))


def expand(base_dir: Path, path: str) -> list[Path]:
    """The files ``path`` names, in their stable order (see the module docstring)."""
    pattern = base_dir / Path(path).expanduser()
    if not is_glob(path) or pattern.is_file():
        return [pattern]
    found = [Path(p) for p in glob.glob(str(pattern), recursive=True)]
    files = [p for p in found if p.is_file() and not is_temporary(p.name)]
    if not files:
        raise FatalSourceError(f"{pattern}: no file matches; check options.path.")
    return sorted(files, key=lambda p: (_natural(str(p)), str(p)))


def is_temporary(name: str) -> bool:
    """Whether any part of a relative path looks like a file still being written."""
    return any(part.startswith(_TEMP_PREFIXES) or part.lower().endswith(_TEMP_SUFFIXES)
               for part in PurePosixPath(name).parts)


def settled_since(mtime_ns: int, settle_seconds: float) -> bool:
    """Not modified for ``settle_seconds``: a writer that is still writing touches its
    file more often than that. A future mtime (a clock ahead) is not settled either."""
    return time.time() - mtime_ns / 1e9 >= settle_seconds


def file_key(base_dir: Path, path: Path) -> str:
    """How the checkpoint names ``path``: relative to the pipeline's folder when inside."""
    try:
        return path.relative_to(base_dir).as_posix()
    except ValueError:
        return path.as_posix()


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(piece)) if piece.isdigit() else (1, piece)
            for piece in _DIGITS.split(text) if piece]


def digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:16]


@dataclass
class Progress:
    """Where a source stands: files read to the end (name -> content hash; ``""``: the
    only file) and the row reached in the file being read (``file`` None: the only file;
    ``sheet`` None: its only sheet)."""

    done: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    digest: str = ""
    sheet: str | None = None
    row: int = 0

    @classmethod
    def decode(cls, checkpoint: Checkpoint | None) -> Progress:
        if checkpoint is None:
            return cls()
        value = checkpoint.value
        if not value.startswith("{"):   # one file, one sheet: "<hash>[:done]:<row>"
            hashed, _, row = value.partition(":")
            finished = row.startswith("done:")
            row = row.removeprefix("done:")
            return cls({"": hashed} if finished else {}, digest=hashed,
                       row=int(row) if row.isdigit() else 0)
        try:
            data = json.loads(value)
            file, at_hash, sheet, at_row = data.get("at") or (None, "", None, 0)
            done = {str(k): str(v) for k, v in dict(data.get("done", {})).items()}
            return cls(done, file, str(at_hash), sheet, int(at_row))
        except (ValueError, TypeError):
            return cls()   # not ours (another version's): read everything again

    def resume_row(self, file: str | None, hashed: str, sheet: str | None) -> int:
        """The row to resume after in ``file``'s ``sheet``: the stored one while the file is
        unchanged, else 0 (a changed file is read from its top; rows already delivered
        come again and downstream idempotency, source id + content hash, drops them)."""
        if hashed != self.digest or file != self.file or sheet != self.sheet:
            return 0
        return self.row


class Positions:
    """Makes the checkpoints of the records of one run.

    ``simple``: one file, one sheet, and the ``<hash>:<row>`` form.
    """

    def __init__(self, simple: bool, done: dict[str, str]) -> None:
        self.simple = simple
        self.done = dict(done)
        self._prefix = ""

    def enter(self, file: str, hashed: str, sheet: str | None) -> None:
        """The records that follow are of ``file``'s ``sheet``."""
        if self.simple:
            self._prefix = f"{hashed}:"
            return
        done = json.dumps(self.done, ensure_ascii=False, sort_keys=True)
        at = json.dumps([file, hashed, sheet], ensure_ascii=False)[:-1]
        self._prefix = f'{{"done": {done}, "at": {at}, '

    def at(self, row: int) -> Checkpoint:
        if self.simple:
            return Checkpoint(f"{self._prefix}{row}")
        return Checkpoint(f"{self._prefix}{row}]}}")

    def finish(self, file: str, hashed: str, row: int) -> Checkpoint:
        """``file`` is read to its end, its last record in ``row``: the checkpoint that
        says so."""
        self.done[file] = hashed
        if self.simple:
            return Checkpoint(f"{hashed}:done:{row}")
        return Checkpoint(json.dumps({"done": self.done, "at": None}, ensure_ascii=False,
                                     sort_keys=True))
