"""Injected time: the real clock for runs, a fake one for tests that must never sleep."""

from __future__ import annotations

import queue
import threading
import time
from typing import TypeVar

T = TypeVar("T")


class Clock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, events: queue.Queue[T], timeout: float) -> T | None:
        """The next event, or None once ``timeout`` seconds passed without one."""
        try:
            return events.get(timeout=timeout)
        except queue.Empty:
            return None


class FakeClock(Clock):
    """Time only moves when someone sleeps; sleeping returns at once."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += max(0.0, seconds)

    def wait(self, events: queue.Queue[T], timeout: float) -> T | None:
        """Give worker threads a real moment to report; if none did, jump the clock by ``timeout``."""
        try:
            return events.get(timeout=0.05)
        except queue.Empty:
            with self._lock:
                self._now += max(0.0, timeout)
            return None
