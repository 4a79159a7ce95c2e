"""The ``xml_files`` drop folder: which files a glob names, which are ready, and reading
one within its size limit with a hardened parser."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from adapters._files import is_temporary, settled_since
from hub.mapping.xslt_mapping import XML_PARSER, dtd_problem, syntax_problem

_MAGIC = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file the glob names, by its path below the glob's fixed folder."""

    path: Path
    name: str        # POSIX path relative to the glob's folder: the ledger key, the id prefix
    size: int
    mtime_ns: int


def split_glob(pattern: Path) -> tuple[Path, str]:
    """The fixed folder of a glob and the pattern below it (``exports``, ``**/*.xml``);
    a path without wildcards names one file."""
    parts = pattern.parts
    cut = next((i for i, part in enumerate(parts) if _MAGIC & set(part)), len(parts) - 1)
    return Path(*parts[:cut]) if cut else Path("."), str(PurePosixPath(*parts[cut:]))


def candidates(folder: Path, pattern: str) -> tuple[list[Candidate], set[str]]:
    """(the files the glob names in a stable order: oldest first, then by name; their
    names). Temporary names are never listed; settled or not is the caller's to see."""
    found = []
    for path in folder.glob(pattern):
        name = path.relative_to(folder).as_posix()
        if is_temporary(name):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:   # renamed or removed since the listing
            continue
        if path.is_file():
            found.append(Candidate(path, name, stat.st_size, stat.st_mtime_ns))
    found.sort(key=lambda c: (c.mtime_ns, c.name))
    return found, {c.name for c in found}


def settled(candidate: Candidate, settle_seconds: float) -> bool:
    """Not modified for ``settle_seconds``: a writer that is still writing touches its
    file more often than that. A future mtime (a clock ahead) is not settled either."""
    return settled_since(candidate.mtime_ns, settle_seconds)


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, never more than ``limit`` + 1 of them (it may grow after its
    size was checked)."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def parse(data: bytes) -> tuple[etree._ElementTree | None, str | None]:
    """(the document, None) or (None, why it is refused: with line and column when it
    is not well-formed)."""
    try:
        tree = etree.fromstring(data, XML_PARSER).getroottree()
    except etree.XMLSyntaxError as exc:
        return None, f"it is not well-formed XML ({syntax_problem(exc)})"
    problem = dtd_problem(tree)
    return (None, problem) if problem else (tree, None)
