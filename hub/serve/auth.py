"""Who may call what: API tokens with scopes, and HMAC-signed form posts.

Tokens come from the environment, never from config.yaml: ``PEYVAND_API_TOKENS`` holds
entries separated by spaces or commas, each ``SCOPES:TOKEN`` with scopes joined by ``+``
(``read:3f9a… forms+sms:77c1…``); ``admin`` includes every scope. A token is at least 24
characters. Requests carry it as ``Authorization: Bearer TOKEN``.

A signed form post carries ``X-Peyvand-Signature: t=UNIX_SECONDS,v1=HEX``, where HEX is
HMAC-SHA256 with the form's secret over ``f"{t}.".encode() + body``. A timestamp further
than the replay window from now is refused, and so is a signature seen before (the store
keeps each until its window closes, so several ``serve`` processes refuse it alike).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

SCOPES = ("read", "forms", "sms", "admin")
TOKENS_ENV = "PEYVAND_API_TOKENS"
SIGNATURE_HEADER = "X-Peyvand-Signature"
MIN_TOKEN = 24
_ENTRY = re.compile(r"[\s,]+")


class AuthError(Exception):
    """Why a request is not let in; ``status`` is 401 (who are you) or 403 (not this)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Tokens:
    """The API tokens of the environment: token -> its scopes."""

    scopes: Mapping[str, frozenset[str]]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Tokens:
        """Parse ``PEYVAND_API_TOKENS``; ValueError names a bad entry (never its token)."""
        found: dict[str, frozenset[str]] = {}
        for n, entry in enumerate(e for e in _ENTRY.split(environ.get(TOKENS_ENV, "")) if e):
            names, sep, token = entry.partition(":")
            scopes = frozenset(names.split("+"))
            if not sep or not scopes <= set(SCOPES):
                raise ValueError(f"{TOKENS_ENV}: entry {n + 1} is not SCOPES:TOKEN with "
                                 f"scopes among {', '.join(SCOPES)} joined by +")
            if len(token) < MIN_TOKEN:
                raise ValueError(f"{TOKENS_ENV}: entry {n + 1}: the token is shorter than "
                                 f"{MIN_TOKEN} characters; make one with "
                                 "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
            found[token] = scopes
        return cls(found)

    def require(self, authorization: str | None, scope: str) -> None:
        """Let the bearer of ``authorization`` in for ``scope``, or raise AuthError."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "this endpoint needs a bearer token: "
                                 "Authorization: Bearer TOKEN")
        granted = next((s for t, s in self.scopes.items()
                        if hmac.compare_digest(t.encode(), token.strip().encode())), None)
        if granted is None:
            raise AuthError(401, "the bearer token is not known")
        if scope not in granted and "admin" not in granted:
            raise AuthError(403, f"the token has no {scope!r} scope")


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` (what a form builder computes)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, header: str | None, body: bytes, window: int,
           now: float | None = None) -> str:
    """Check a signed body; the signature's digest (to refuse it a second time), or
    AuthError naming what is wrong."""
    if not header:
        raise AuthError(401, f"this form takes signed posts: the {SIGNATURE_HEADER} header "
                             "is missing")
    parts = dict(p.partition("=")[::2] for p in header.replace(" ", "").split(","))
    t, given = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not given:
        raise AuthError(401, f"{SIGNATURE_HEADER} must read t=UNIX_SECONDS,v1=HEX")
    if abs((time.time() if now is None else now) - int(t)) > window:
        raise AuthError(401, f"the signature's timestamp is more than {window} s from now "
                             "(a replay, or a clock that is wrong)")
    expected = sign(secret, body, int(t)).partition(",v1=")[2]
    if not hmac.compare_digest(expected, given.lower()):
        raise AuthError(401, "the signature does not match the body")
    return hashlib.sha256(f"{t}.{given.lower()}".encode()).hexdigest()
