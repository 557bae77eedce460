"""Adaptive concurrency per service: a cloud's API gateway rate-limits without saying its rate, so it is learnt.

Each service gets a window of calls in flight, starting at its ceiling (the executor's per-service limit, itself
within ``--max-parallel``). A success adds ``1 / window`` (one call per round trip: additive increase); a 429
halves the window (multiplicative decrease), once per round of calls: a 429 answering a call started before the
last decrease says nothing new. The refused call waits the ``Retry-After`` the gateway gave (or a short backoff
without one) outside the window, then goes again, and the window does not grow again before that delay has
passed: probing for more while the gateway still says "wait" only buys more 429s. Only 429s are handled here;
other failures are the caller's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from kubespray_cleanup.clock import Clock
from kubespray_cleanup.retry import retry_after, status_of

T = TypeVar("T")

DECREASE = 0.5
THROTTLED_ATTEMPTS = 30  # 429s in a row for one call before it is given up (the caller's retries then apply)
FALLBACK_WAIT = 1.0  # seconds, for a 429 without Retry-After
MAX_WAIT = 30.0


class AdaptiveLimit:
    """The window of one service: acquire a slot per call, report each answer."""

    def __init__(self, ceiling: int, clock: Clock | None = None, floor: int = 1) -> None:
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.window = float(self.ceiling)
        self.clock = clock or Clock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.throttled = 0  # 429s seen
        self.decreases = 0
        self._epoch = 0  # bumped by each decrease; a call remembers the epoch it started in
        self._hold_until = float("-inf")  # no increase before this (monotonic): the last Retry-After
        self._cond = threading.Condition()

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` within the window; on 429 shrink the window, wait as told, and call again."""
        for attempt in range(1, THROTTLED_ATTEMPTS + 1):
            started = self._acquire()
            try:
                result = fn()
            except Exception as exc:
                if status_of(exc) != 429 or attempt == THROTTLED_ATTEMPTS:
                    raise
                wait = self._throttled(started, retry_after(exc))
            else:
                self._succeeded()
                return result
            finally:
                self._release()
            self.clock.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    # --- the window ---------------------------------------------------------------------------
    def _acquire(self) -> int:
        with self._cond:
            while self.in_flight >= max(self.floor, int(self.window)):
                self._cond.wait(0.5)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return self._epoch

    def _release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify()

    def _succeeded(self) -> None:
        with self._cond:
            used = self.in_flight + 1 >= int(self.window)
            if self.window < self.ceiling and used and self.clock.monotonic() >= self._hold_until:
                self.window = min(float(self.ceiling), self.window + 1.0 / self.window)
                self._cond.notify()

    def _throttled(self, started: int, hinted: float | None) -> float:
        wait = min(MAX_WAIT, hinted if hinted is not None else FALLBACK_WAIT)
        with self._cond:
            self.throttled += 1
            if started == self._epoch:
                self.window = max(float(self.floor), self.window * DECREASE)
                self._epoch += 1
                self.decreases += 1
            self._hold_until = max(self._hold_until, self.clock.monotonic() + wait)
        return wait
