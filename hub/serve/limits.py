"""What one client may cost: a body size limit, read as a stream, and a rate limit.

The rate limit is a token bucket per client address, kept in this process: with several
``serve`` processes behind a balancer, each counts its own share. Behind a reverse proxy
every request comes from the proxy's address, so let the proxy limit per client there.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Request

from hub.serve.payload import BodyProblem


class TooManyRequests(BodyProblem):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, f"too many requests from this address; try again in "
                              f"{retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    """``per_minute`` requests a minute per client, in bursts of as many (0: no limit)."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}   # client -> (tokens, when)
        self._lock = threading.Lock()
        self._now = now

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60
        with self._lock:
            now = self._now()
            tokens, then = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                raise TooManyRequests(math.ceil((1 - tokens) / rate))
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > 100_000:   # forget the full buckets of idle clients
                self._buckets = {c: b for c, b in self._buckets.items()
                                 if b[0] + (now - b[1]) * rate < self.per_minute}


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) as soon as it passes ``limit`` bytes, whatever
    its Content-Length says."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyProblem(413, f"the body is larger than {limit // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyProblem(413, f"the body is larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)
