"""IMAP: one session over TLS, each folder read by UID after its checkpoint.

A folder's position is ``[UIDVALIDITY, last UID]``. UIDs only grow while UIDVALIDITY
stays; a new UIDVALIDITY means the server rebuilt the folder and every UID changed, so
the folder is read again from the start (the records come again with the same ids and
content, and downstream idempotency drops them).

Messages are fetched with ``BODY.PEEK`` (a read marks nothing as seen) in folders opened
with EXAMINE (read-only), at most ``MAX_MESSAGE_BYTES`` of each: headers, text and the
start of attachments, never a whole 30 MB attachment.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import structlog

from adapters._mail_message import MAX_MESSAGE_BYTES, Fetched
from hub.errors import FatalSourceError

log = structlog.get_logger("peyvand.adapters.email")

# UIDs per FETCH: few round trips, and at most 25 x MAX_MESSAGE_BYTES (50 MiB) in memory.
_BATCH = 25
_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_LIST = re.compile(rb'\([^)]*\) (?:"[^"]*"|NIL) (.*)$')
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
T = TypeVar("T")

Tls = Literal["imaps", "starttls", "none"]


@dataclass(frozen=True, slots=True)
class Server:
    """Where and as whom to log in; the password comes from the environment."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    tls: Tls
    ca_file: str | None
    timeout: float


class ImapMailbox:
    """The configured folders of one IMAP account."""

    def __init__(self, server: Server, folders: tuple[str, ...],
                 since: datetime.date | None) -> None:
        self.server = server
        self.folders = folders
        self.since = since

    def kind(self) -> str:
        return "imap"

    def read(self, positions: dict[str, Any]) -> Iterator[Fetched]:
        """Every message after ``positions`` (folder -> [UIDVALIDITY, UID]), in folder order
        and UID order; each carries the positions once it is stored."""
        at = dict(positions)
        with _Session(self.server) as session:
            for folder in self.folders:
                validity, uids = self._plan(session, folder, at.get(folder))
                at[folder] = [validity, _after(at.get(folder), validity)]
                for start in range(0, len(uids), _BATCH):
                    for uid, received, raw in session.fetch(uids[start:start + _BATCH]):
                        at[folder] = [validity, uid]
                        yield Fetched(folder, f"imap {folder} uid {uid}", received, raw,
                                      dict(at))

    def count(self, positions: dict[str, Any]) -> int:
        with _Session(self.server) as session:
            return sum(len(self._plan(session, f, positions.get(f))[1]) for f in self.folders)

    def _plan(self, session: _Session, folder: str, position: object
              ) -> tuple[int, list[int]]:
        validity = session.examine(folder)
        known = _position(position)
        if known is not None and known[0] != validity:
            log.warning("imap folder rebuilt: its UIDVALIDITY changed, reading it again "
                        "from the start", folder=folder, host=self.server.host,
                        was=known[0], now=validity)
        return validity, session.uids_after(_after(position, validity), self.since)


def _position(position: object) -> tuple[int, int] | None:
    """A folder's [UIDVALIDITY, UID] from a checkpoint, or None when it holds none."""
    if (isinstance(position, list) and len(position) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in position)):
        return position[0], position[1]
    return None


def _after(position: object, validity: int) -> int:
    """The last UID read in a folder whose UIDVALIDITY is still ``validity``, else 0."""
    known = _position(position)
    return known[1] if known is not None and known[0] == validity else 0


class _Session:
    """A logged-in connection; imaplib's errors become Peyvand's at the boundary.

    Socket errors and ``IMAP4.abort`` (the connection died) pass up unchanged: the
    adapter declares them transient. A refused login, a missing folder or an untrusted
    certificate are FatalSourceError: trying again will not help.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.imap = self._connect()

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            # A dead connection: logout raised before closing the socket. Close it.
            with contextlib.suppress(OSError):
                self.imap.shutdown()

    def _connect(self) -> imaplib.IMAP4:
        s = self.server
        imap: imaplib.IMAP4
        try:
            if s.tls == "imaps":
                imap = imaplib.IMAP4_SSL(s.host, s.port, ssl_context=_context(s),
                                         timeout=s.timeout)
            else:
                imap = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from exc
        except socket.gaierror as exc:
            # A name that does not exist is a typo; a resolver briefly away passes.
            if exc.errno in _NO_SUCH_HOST:
                raise FatalSourceError(f"email: there is no host {s.host!r} ({exc.strerror}); "
                                       "check options.host (or options.url)") from exc
            raise
        try:
            if s.tls == "starttls":
                self._starttls(imap)
            self._login(imap)
        except BaseException:
            imap.shutdown()   # no half-open connection is left behind
            raise
        return imap

    def _starttls(self, imap: imaplib.IMAP4) -> None:
        # imaplib raises ``abort`` (transient) when STARTTLS is not offered; it is not.
        if "STARTTLS" not in imap.capabilities:
            raise FatalSourceError(f"email: {self.server.host} offers no STARTTLS on port "
                                   f"{self.server.port}; use tls: imaps (port 993)")
        try:
            self._call(lambda: imap.starttls(_context(self.server)), "STARTTLS")
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from exc

    def _untrusted(self, exc: ssl.SSLCertVerificationError) -> FatalSourceError:
        return FatalSourceError(
            f"email: the certificate of {self.server.host}:{self.server.port} is not "
            f"trusted ({exc.verify_message}); give the CA that signed it in options.ca_file")

    def _login(self, imap: imaplib.IMAP4) -> None:
        s = self.server
        hint = f"; check options.user ({s.user}) and the password variable"
        if "AUTH=PLAIN" in imap.capabilities:
            # SASL PLAIN carries a UTF-8 password; LOGIN's quoted string is ASCII only.
            credentials = f"\0{s.user}\0{s.password}".encode()
            self._call(lambda: imap.authenticate("PLAIN", lambda _: credentials), "login",
                       hint)
        else:
            self._call(lambda: imap.login(s.user, s.password), "login", hint)

    def examine(self, folder: str) -> int:
        """Open ``folder`` read-only; its UIDVALIDITY."""
        status, data = self._call(lambda: self.imap.select(quote(folder), readonly=True),
                                  f"EXAMINE {folder}")
        if status != "OK":
            raise FatalSourceError(
                f"email: {self.server.host} has no folder {folder!r} ({_text(data)}); its "
                f"folders are: {', '.join(self.folder_names()) or 'none'}. Check "
                "options.folders.")
        _, values = self.imap.response("UIDVALIDITY")
        return int(values[0]) if values and values[0] else 0

    def folder_names(self) -> list[str]:
        _, lines = self._call(self.imap.list, "LIST")
        names = []
        for line in lines:   # (\HasNoChildren) "." INBOX, or ... "/" "Sent Items"
            if isinstance(line, bytes) and (m := _LIST.match(line)):
                name = m.group(1).decode("ascii", errors="replace")
                names.append(utf7_decode(name[1:-1] if name.startswith('"') else name))
        return names

    def uids_after(self, after: int, since: datetime.date | None) -> list[int]:
        criteria = ["UID", f"{after + 1}:*"]
        if since is not None:
            criteria += ["SINCE", f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"]
        _, data = self._call(lambda: self.imap.uid("SEARCH", *criteria), "SEARCH")
        found = b" ".join(d for d in data if isinstance(d, bytes)).split()
        # "n:*" always matches the last message, even when its UID is below n.
        return sorted(uid for uid in map(int, found) if uid > after)

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, str, bytes]]:
        """(UID, INTERNALDATE as ISO 8601, the message's first bytes) of each of ``uids``
        the folder still has, in UID order."""
        items = f"(UID INTERNALDATE BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)"
        _, data = self._call(lambda: self.imap.uid("FETCH", ",".join(map(str, uids)), items),
                             "FETCH")
        yield from sorted(_fetched(data))

    def _call(self, command: Callable[[], T], what: str, hint: str = "") -> T:
        try:
            return command()
        except imaplib.IMAP4.abort:
            raise   # the connection died: transient, ``read`` reports it
        except imaplib.IMAP4.error as exc:
            raise FatalSourceError(f"email: {self.server.host} refused {what}: {exc}{hint}") \
                from exc


def _context(server: Server) -> ssl.SSLContext:
    # Certificates and host names are checked; TLS 1.2 at least (Python's default).
    return ssl.create_default_context(cafile=server.ca_file)


def _fetched(data: list[Any]) -> Iterator[tuple[int, str, bytes]]:
    """Parse a FETCH response: ``(b'1 (UID 5 INTERNALDATE "..." BODY[]<0> {n}', bytes)``
    tuples, with the UID or date possibly in a part after the literal."""
    uid: int | None = None
    received, raw = "", b""
    for item in data:
        head = item[0] if isinstance(item, tuple) else item
        if not isinstance(head, bytes):
            continue
        if isinstance(item, tuple) and re.match(rb"\d+ \(", head):
            if uid is not None:
                yield uid, received, raw
            uid, received, raw = None, "", item[1]
        if m := _UID.search(head):
            uid = int(m.group(1))
        if m := _INTERNALDATE.search(head):
            received = _iso(m.group(1).decode("ascii", errors="replace"))
    if uid is not None:
        yield uid, received, raw


def _iso(internaldate: str) -> str:
    try:
        moment = datetime.datetime.strptime(internaldate.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return ""
    return moment.isoformat()


def _text(data: list[Any]) -> str:
    return " ".join(d.decode(errors="replace") if isinstance(d, bytes) else str(d)
                    for d in data if d)


def quote(folder: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    name = utf7_encode(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def utf7_encode(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            packed = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + packed.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def utf7_decode(name: str) -> str:
    def unpack(m: re.Match[str]) -> str:
        if not m.group(1):
            return "&"
        packed = m.group(1).replace(",", "/")
        return base64.b64decode(packed + "=" * (-len(packed) % 4)).decode("utf-16-be",
                                                                           errors="replace")
    return re.sub(r"&([^-]*)-", unpack, name)
