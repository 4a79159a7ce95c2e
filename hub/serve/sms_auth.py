"""Who may post SMS: a token in the URL, a bearer token, or Twilio's signature.

Most gateways cannot set a header: their panel takes a URL and nothing more. So a
gateway's URL may carry a secret, ``/sms/GATEWAY?token=SECRET``, compared in constant
time with the environment variable its ``secret_env`` names. The URL is then the secret:
serve over TLS only, and never log query strings (``peyvand serve`` writes no access log).

Twilio signs each request: ``X-Twilio-Signature`` is the Base64 HMAC-SHA1, keyed with the
account's auth token, of the URL Twilio requested followed, for a POST, by each form
parameter's name and value, sorted by name (twilio.com/docs/usage/security). Behind a
proxy the URL the server sees is not the one Twilio requested, so ``public_url`` names it;
and as Twilio's own validator does, the URL is tried with and without its default port.
What is not checked: Twilio's ``bodySHA256`` signing of JSON bodies (its messaging
webhooks send forms), and Vonage's optional ``sig`` parameter (a Vonage gateway uses the
URL token); a signed request repeated by an attacker within its lifetime is stored once
anyway, as a retry of the same message id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from hub.serve.auth import AuthError

TWILIO_HEADER = "X-Twilio-Signature"


def check_url_token(given: str | None, secret: str) -> None:
    """Let a request whose ``?token=`` is ``secret`` in, or raise AuthError (401)."""
    if not given:
        raise AuthError(401, "this gateway's URL needs its token: /sms/GATEWAY?token=SECRET")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise AuthError(401, "the token in the URL is not this gateway's")


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """What Twilio sends in X-Twilio-Signature for a request to ``url`` with the form
    ``params`` (none for a GET). A name given several times adds each of its distinct
    values, sorted, as Twilio's own validator does."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(grouped)
                         for value in sorted(grouped[name]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def check_twilio(header: str | None, url: str, params: list[tuple[str, str]],
                 auth_token: str) -> None:
    """Let a request Twilio signed in, or raise AuthError (401) saying what is wrong."""
    if not header:
        raise AuthError(401, f"this gateway takes requests signed by Twilio: the "
                             f"{TWILIO_HEADER} header is missing")
    for candidate in _with_and_without_port(url):
        if hmac.compare_digest(twilio_signature(candidate, params, auth_token).encode(),
                               header.strip().encode()):
            return
    raise AuthError(401, "the Twilio signature does not match this URL and body (behind a "
                         "proxy, set the gateway's public_url to the URL Twilio calls)")


def _with_and_without_port(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is not None and parts.port != default:
        return [url]
    netloc = parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else ""
    bare = urlunsplit(parts._replace(netloc=f"{netloc}{host}"))
    ported = urlunsplit(parts._replace(netloc=f"{netloc}{host}:{default}"))
    return list(dict.fromkeys([url, bare, ported]))
