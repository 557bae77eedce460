"""Transient-failure retries (5xx, 429 with Retry-After, timeouts, dropped connections) via tenacity.

Sleeping goes through an injected function so tests never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity
from keystoneauth1 import exceptions as ks_exc
from requests import exceptions as rq_exc

T = TypeVar("T")

DEFAULT_ATTEMPTS = 6


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an openstacksdk/keystoneauth exception carries, if any."""
    for attr in ("status_code", "http_status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def is_transient(exc: BaseException) -> bool:
    """5xx, 429, 401, timeouts and connection failures are worth another try; other 4xx answers are not.

    A 401 in the middle of a run is a token that expired while calls were in flight (keystoneauth
    re-authenticates on the next call); credentials that never worked fail at connect time instead.
    """
    status = status_of(exc)
    if status is not None:
        return status in (401, 429) or status >= 500
    return isinstance(exc, (ks_exc.ConnectFailure, ks_exc.ConnectionError, ks_exc.RetriableConnectionFailure,
                            ks_exc.ConnectTimeout, ks_exc.RequestTimeout, rq_exc.ConnectionError, rq_exc.Timeout,
                            ConnectionError, TimeoutError))


def retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _wait(base: float, cap: float) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential(multiplier=base, max=cap)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after(exc) if exc else None
        return min(cap, hinted) if hinted is not None else float(backoff(state))

    return wait


def call_with_retry(fn: Callable[[], T], *, attempts: int = DEFAULT_ATTEMPTS, base: float = 0.5, cap: float = 10.0,
                    sleep: Callable[[float], Any] = time.sleep,
                    on_retry: Callable[[BaseException, int], None] | None = None) -> T:
    """Call ``fn``; retry transient failures with exponential backoff (honouring Retry-After)."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(exc, state.attempt_number)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_transient),
        stop=tenacity.stop_after_attempt(attempts),
        wait=_wait(base, cap),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
