"""Local mailboxes: a Maildir (its Maildir++ folders too), an mbox file, .eml files.

Messages are read in a stable order, and a folder's position is the last one read:

* Maildir: by delivery second, which its file names start with, then by name; the
  position keeps the names read in the last second (see ``_maildir_after``). A message
  put in later under an older name is seen only by a full run (``peyvand run --full``).
* a folder of .eml files (or one file): by file name; name new files so they sort last.
* mbox: by place in the file; the position also holds a hash of the last message read,
  and a file whose message there changed (compacted, rewritten) is read from the start.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import mailbox
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from adapters._mail_message import MAX_MESSAGE_BYTES, Fetched
from hub.errors import FatalSourceError

log = structlog.get_logger("peyvand.adapters.email")

ROOT = "INBOX"   # a Maildir's own messages; its Maildir++ folders go by their names
_SAME_SECOND = 50   # Maildir keys of one second a position remembers (see _maildir_after)
# Errors that say the path is wrong, not that the disk is briefly away.
_WRONG_PATH = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


@dataclass(frozen=True, slots=True)
class _Item:
    position: Callable[[bytes], Any]   # the folder's position once this message is read
    location: str
    received: str
    read: Callable[[], bytes]


class LocalMailbox:
    """A Maildir, an mbox file, a folder of .eml files or one .eml file at ``path``."""

    def __init__(self, path: Path, folders: tuple[str, ...]) -> None:
        self.path = path
        self.folders = folders

    def kind(self) -> str:
        """``maildir``, ``mbox`` or ``eml``, by what is at the path."""
        try:
            if self.path.is_dir():
                maildir = (self.path / "cur").is_dir() and (self.path / "new").is_dir()
                kind = "maildir" if maildir else "eml"
            elif self.path.is_file():
                kind = "eml" if self.path.suffix.lower() == ".eml" else "mbox"
            else:
                raise FatalSourceError(f"{self.path}: no such mailbox; options.path names a "
                                       "Maildir, an mbox file or a folder of .eml files")
        except _WRONG_PATH as exc:
            raise FatalSourceError(f"{self.path}: cannot be read: {exc}") from exc
        if self.folders and kind != "maildir":
            raise FatalSourceError(f"{self.path}: options.folders is for IMAP and Maildir; "
                                   f"this is {'an mbox file' if kind == 'mbox' else '.eml'}")
        return kind

    def read(self, positions: dict[str, Any]) -> Iterator[Fetched]:
        at = dict(positions)
        try:
            with contextlib.ExitStack() as opened:
                yield from self._fetch(self._plan(positions, opened), at)
        except _WRONG_PATH as exc:
            raise FatalSourceError(f"{self.path}: cannot be read: {exc}") from exc
        # Other OSErrors (a network share timing out) pass up: the adapter declares them
        # transient.

    def count(self, positions: dict[str, Any]) -> int:
        with contextlib.ExitStack() as opened:
            return sum(len(items) for _, items in self._plan(positions, opened))

    def _fetch(self, plan: list[tuple[str, list[_Item]]], at: dict[str, Any]
               ) -> Iterator[Fetched]:
        for folder, items in plan:
            for item in items:
                try:
                    raw = item.read()
                except (KeyError, FileNotFoundError):
                    log.info("message gone before it was read", location=item.location)
                    continue   # moved or deleted by a mail client meanwhile
                at[folder] = item.position(raw)
                yield Fetched(folder, item.location, item.received, raw, dict(at))

    def _plan(self, positions: dict[str, Any], opened: contextlib.ExitStack
              ) -> list[tuple[str, list[_Item]]]:
        """What to read, folder by folder; an mbox file stays open in ``opened``."""
        kind = self.kind()
        if kind == "maildir":
            return [(f, self._maildir(f, positions.get(f))) for f in self.folders or (ROOT,)]
        folder = self.path.name
        if kind == "mbox":
            box = mailbox.mbox(self.path, factory=None, create=False)
            opened.callback(box.close)
            return [(folder, self._mbox(box, positions.get(folder)))]
        return [(folder, self._eml(positions.get(folder)))]

    def _maildir(self, folder: str, position: object) -> list[_Item]:
        root = mailbox.Maildir(self.path, factory=None, create=False)
        try:
            box = root if folder == ROOT else root.get_folder(folder)
        except mailbox.NoSuchMailboxError:
            raise FatalSourceError(
                f"{self.path}: no Maildir folder {folder!r}; its folders are "
                f"{', '.join([ROOT, *root.list_folders()])}. Check options.folders.") from None
        done = [k for k in position if isinstance(k, str)] if isinstance(position, list) else []
        items = []
        for key in _maildir_after(box.iterkeys(), done):
            done = [*done, key] if done and _second(done[-1]) == _second(key) else [key]
            items.append(_Item(_fixed(done[-_SAME_SECOND:]), f"{self.path.name} {folder} {key}",
                               _delivered(key), _reader(box, key)))
        return items

    def _mbox(self, box: mailbox.mbox, position: object) -> list[_Item]:
        keys = sorted(box.keys())
        start = 0
        if isinstance(position, str) and ":" in position:
            index, _, digest = position.partition(":")
            if index.isdigit() and int(index) < len(keys) \
                    and _hash(_reader(box, keys[int(index)])()) == digest:
                start = int(index) + 1
            else:
                log.warning("mbox changed where it was last read: reading it from the start",
                            path=self.path.name, position=position)
        return [_Item(_mbox_position(i), f"{self.path.name} message {i + 1}", "",
                      _reader(box, keys[i])) for i in range(start, len(keys))]

    def _eml(self, after: object) -> list[_Item]:
        files = [self.path] if self.path.is_file() else sorted(
            p for p in self.path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
        return [_Item(_fixed(p.name), p.name, "", _file_reader(p)) for p in files
                if not isinstance(after, str) or p.name > after]


def _reader(box: mailbox.Mailbox[Any], key: Any) -> Callable[[], bytes]:
    def read() -> bytes:
        with box.get_file(key) as handle:
            return handle.read(MAX_MESSAGE_BYTES)
    return read


def _file_reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as handle:
            return handle.read(MAX_MESSAGE_BYTES)
    return read


def _fixed(position: Any) -> Callable[[bytes], Any]:
    return lambda _raw: position


def _maildir_after(keys: Iterable[str], done: list[str]) -> list[str]:
    """The keys after a Maildir position, in delivery order.

    A position is the keys read in the last second read, not only the last key: within
    one second the names are not in delivery order (the rest of the name is a counter or
    microseconds, not zero-padded), and a message delivered in the second of the last one
    read, between two runs, may sort before it. Past ``_SAME_SECOND`` messages in one
    second (a bulk import) the position keeps the latest, and what sorts before them in
    that second is seen again only by a full run.
    """
    ordered = sorted(keys, key=lambda k: (_second(k), k))
    if not done:
        return ordered
    second, seen = _second(done[-1]), set(done)
    floor = done[0] if len(done) >= _SAME_SECOND else None
    return [k for k in ordered if _second(k) > second or (
        _second(k) == second and k not in seen and (floor is None or k > floor))]


def _second(key: str) -> int:
    """The delivery second a Maildir name starts with (-1 for a name that does not)."""
    head = key.partition(".")[0]
    return int(head) if head.isdigit() else -1


def _mbox_position(index: int) -> Callable[[bytes], str]:
    # A place in the file, and what was there: a rewritten file is noticed.
    return lambda raw: f"{index}:{_hash(raw)}"


def _hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def _delivered(key: str) -> str:
    """When a Maildir message was delivered, from its name."""
    second = _second(key)
    if second < 0:
        return ""
    return datetime.datetime.fromtimestamp(second, datetime.UTC).isoformat()
