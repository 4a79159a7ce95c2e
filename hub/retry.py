"""Retry policies, keyed on ``TransientError``: a passing failure is tried again."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import structlog
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from hub.errors import StoreUnavailable

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger("peyvand.retry")


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.warning("store busy or unreachable, retrying", attempt=state.attempt_number,
                error=str(exc))


def retry_store(fn: Callable[P, R]) -> Callable[P, R]:
    """Retry ``fn`` when the store is locked or unreachable: 5 tries over about 6 s.

    ``fn`` must be one unit of work, so a retry repeats it whole.
    """
    return retry(retry=retry_if_exception_type(StoreUnavailable), stop=stop_after_attempt(5),
                 wait=wait_exponential(multiplier=0.2, max=5), before_sleep=_log_retry,
                 reraise=True)(fn)
