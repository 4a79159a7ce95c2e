"""The intake's parts without a server: tokens, signatures, the rate limit's refill and
the body's flattening (the server itself: tests/integration/test_serve.py)."""

from __future__ import annotations

import pytest

from hub.serve.auth import AuthError, Tokens, sign, verify
from hub.serve.limits import RateLimiter, TooManyRequests
from hub.serve.payload import BodyProblem, parse_json, parse_urlencoded

TOKEN = "t" * 24


def test_tokens_come_with_scopes_and_admin_has_them_all() -> None:
    tokens = Tokens.from_environ({"PEYVAND_API_TOKENS": f"read:{TOKEN}, admin:{'a' * 30}"})
    tokens.require(f"Bearer {TOKEN}", "read")
    tokens.require(f"bearer {'a' * 30}", "sms")
    with pytest.raises(AuthError) as denied:
        tokens.require(f"Bearer {TOKEN}", "forms")
    assert denied.value.status == 403


@pytest.mark.parametrize("value", ["read", f"write:{TOKEN}", "read:short", f"read+x:{TOKEN}"])
def test_a_bad_token_entry_is_named_without_its_token(value: str) -> None:
    with pytest.raises(ValueError, match="entry 1") as caught:
        Tokens.from_environ({"PEYVAND_API_TOKENS": value})
    assert TOKEN not in str(caught.value)


def test_a_signature_holds_within_its_window_only() -> None:
    body = b'{"email": "a@example.com"}'
    header = sign("secret", body, timestamp=1_000_000)
    digest = verify("secret", header, body, window=300, now=1_000_100)
    assert len(digest) == 64
    with pytest.raises(AuthError, match="more than 300 s"):
        verify("secret", header, body, window=300, now=1_000_400)
    with pytest.raises(AuthError, match="does not match"):
        verify("secret", header, body + b" ", window=300, now=1_000_000)


def test_the_rate_limit_refills_with_time() -> None:
    clock = [0.0]
    limiter = RateLimiter(60, now=lambda: clock[0])   # one a second, bursts of 60
    for _ in range(60):
        limiter.check("10.0.0.1")
    with pytest.raises(TooManyRequests) as caught:
        limiter.check("10.0.0.1")
    assert caught.value.retry_after == 1
    limiter.check("10.0.0.2")   # another client has its own bucket
    clock[0] = 2.0
    limiter.check("10.0.0.1")
    limiter.check("10.0.0.1")
    with pytest.raises(TooManyRequests):
        limiter.check("10.0.0.1")


def test_bodies_become_flat_fields() -> None:
    assert parse_json(b'{"contact": {"phone": "0912"}, "tags": ["a", "b"], "n": 3}') == {
        "contact.phone": "0912", "tags": "a, b", "n": 3}
    assert parse_urlencoded(b"interest=a&interest=b&name=%D8%B9%D9%84%DB%8C") == {
        "interest": "a, b", "name": "علی"}
    with pytest.raises(BodyProblem) as caught:
        parse_json(b"{}")
    assert caught.value.status == 422
