"""The e-mail adapter's options: what only it knows is wrong, and the IMAP connection they
describe (a URL, or host/port/user), with TLS decided."""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from adapters._mail_imap import Tls

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMAP_ONLY = ("url", "host", "port", "user", "password_env", "tls", "ca_file")


@dataclass(frozen=True, slots=True)
class Connection:
    """An IMAP account as the options describe it (no password: that is read at run)."""

    host: str
    port: int
    user: str
    tls: Tls
    folders: tuple[str, ...]


def connection(options: Mapping[str, Any]) -> Connection:
    """The connection of well-typed, checked options (``option_problems`` found none)."""
    url = urlsplit(options["url"]) if options.get("url") else None
    tls = options.get("tls") or _default_tls(url, options.get("port"))
    port = options.get("port") or (url.port if url else None) or (993 if tls == "imaps"
                                                                   else 143)
    folder = unquote(url.path.lstrip("/")) if url else ""
    return Connection(
        host=(url.hostname if url else None) or options.get("host") or "",
        port=port,
        user=unquote(url.username) if url and url.username else options.get("user") or "",
        tls=tls,
        folders=tuple(options.get("folders") or ()) or ((folder,) if folder else ("INBOX",)))


def _default_tls(url: SplitResult | None, port: object) -> Tls:
    if url is not None:
        return "imaps" if url.scheme == "imaps" else "starttls"
    return "imaps" if port in (None, 993) else "starttls"


def option_problems(options: Mapping[str, Any]) -> list[str]:
    """Every problem of well-typed ``options`` at once (types are checked apart)."""
    imap = bool(options.get("url") or options.get("host"))
    if options.get("path") is not None:
        given = [k for k in _IMAP_ONLY if options.get(k) is not None]
        return [f"options.{k}: is for an IMAP server; options.path names a local mailbox, "
                "give one or the other." for k in given] + _reading_problems(options)
    if not imap:
        return ["options.url: give an IMAP server (options.url, or options.host) or a local "
                "mailbox (options.path).", *_reading_problems(options)]
    return _url_problems(options) + _imap_problems(options) + _reading_problems(options)


def _url_problems(options: Mapping[str, Any]) -> list[str]:
    text = options.get("url")
    if not isinstance(text, str):
        return []
    problems = []
    if options.get("host") is not None:
        problems.append("options.host: the host is in options.url already; give one.")
    url = urlsplit(text)
    if url.scheme not in ("imap", "imaps") or not url.hostname:
        return [*problems, "options.url: expected imaps://user@host:993/FOLDER (or imap:// "
                           "with STARTTLS), got something else."]
    try:
        url.port   # noqa: B018 - it raises on a port that is not a number
    except ValueError:
        problems.append("options.url: its port is not a number from 1 to 65535.")
    if url.password is not None:
        problems.append("options.url: holds a password; remove it and name the environment "
                        "variable that holds it in options.password_env.")
    if url.path.strip("/") and options.get("folders"):
        problems.append("options.folders: options.url names a folder already; give one.")
    tls = options.get("tls")
    if tls in ("imaps", "starttls") and tls != _default_tls(url, None):
        problems.append(f"options.tls: {tls} contradicts the url's {url.scheme}:// scheme.")
    return problems


def _imap_problems(options: Mapping[str, Any]) -> list[str]:
    problems = []
    account = connection({k: v for k, v in options.items() if k != "url"} | (
        {"url": options["url"]} if _parsable(options.get("url")) else {}))
    if not account.user:
        problems.append("options.user: the IMAP user is required (or give it in options.url).")
    env = options.get("password_env")
    if not isinstance(env, str):
        problems.append("options.password_env: required: the NAME of the environment variable "
                        "that holds the IMAP password (never the password itself).")
    elif not _ENV_NAME.fullmatch(env):
        # Not echoed: a password pasted here by mistake must not reach logs or screens.
        problems.append("options.password_env: must be an environment variable's name "
                        "(letters, digits and _), not the password itself.")
    port = options.get("port")
    if isinstance(port, int) and not 0 < port < 65536:
        problems.append(f"options.port: {port} is not a port (1 to 65535).")
    if options.get("tls") == "none" and not _loopback(account.host):
        problems.append(f"options.tls: none sends the password in clear; it is allowed only "
                        f"for a server on this machine (127.0.0.1, ::1, localhost), not "
                        f"{account.host}.")
    timeout = options.get("timeout")
    if isinstance(timeout, int | float) and timeout <= 0:
        problems.append("options.timeout: must be more than 0 seconds.")
    return problems


def _reading_problems(options: Mapping[str, Any]) -> list[str]:
    problems = []
    folders = options.get("folders")
    if isinstance(folders, list | tuple) and any(not str(f).strip() for f in folders):
        problems.append("options.folders: a folder name is empty.")
    own = options.get("own_addresses")
    if isinstance(own, list | tuple):
        wrong = [a for a in own if "@" not in str(a)]
        if wrong:
            problems.append(f"options.own_addresses: {', '.join(map(repr, wrong))}: an address "
                            "(sales@shop.ir) or a whole domain (@shop.ir) is expected.")
        if own and options.get("direction") is not None:
            problems.append("options.own_addresses: unused when options.direction is given; "
                            "give one of them.")
    since = options.get("since")   # YAML reads an unquoted 2024-03-20 as a date already
    if isinstance(since, str):
        try:
            datetime.date.fromisoformat(since)
        except ValueError:
            problems.append(f"options.since: {since!r} is not a date as 2024-03-20.")
    length = options.get("summary_length")
    if isinstance(length, int) and not 20 <= length <= 5000:
        problems.append("options.summary_length: must be from 20 to 5000 characters.")
    return problems


def _parsable(url: object) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("imap", "imaps") and bool(parts.hostname) and (
            parts.port is None or parts.port > 0)
    except ValueError:
        return False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
