"""The adaptive window per service: halves on 429 once per round, honours Retry-After, stays within its ceiling."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from kubespray_cleanup.clock import FakeClock
from kubespray_cleanup.concurrency import THROTTLED_ATTEMPTS, AdaptiveLimit


class Throttled(Exception):
    """What openstacksdk raises for a 429: a status code and the response with its headers."""

    def __init__(self, retry_after: str | None = "2") -> None:
        super().__init__("429 Too Many Requests")
        self.status_code = 429
        self.response = SimpleNamespace(headers={"Retry-After": retry_after} if retry_after else {})


def answers(*outcomes: Exception | str) -> list[Exception | str]:
    return list(outcomes)


def test_a_429_halves_the_window_and_the_call_waits_retry_after_before_trying_again() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(8, clock)
    replies = answers(Throttled("2"), "ok")

    def call() -> str:
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    assert limit.call(call) == "ok"
    assert clock.slept == [2.0]
    assert limit.window == pytest.approx(4.0) and limit.throttled == 1 and limit.in_flight == 0


def test_429s_of_one_round_shrink_the_window_once_and_successes_grow_it_back_to_the_ceiling() -> None:
    """Calls started before a decrease report old news: three 429s of one round halve the window once; it
    grows back only once Retry-After has passed."""
    clock = FakeClock()
    limit = AdaptiveLimit(8, clock)
    rounds = [limit._acquire() for _ in range(3)]
    for started in rounds:
        limit._throttled(started, 1.0)
    for _ in rounds:
        limit._release()
    assert limit.window == pytest.approx(4.0) and limit.decreases == 1
    limit.window = 1.0
    limit.call(lambda: None)
    assert limit.window == 1.0  # still within the gateway's Retry-After
    clock.sleep(1.0)
    limit.window = 4.0
    for _ in range(40):
        limit.call(lambda: limit.in_flight)  # one call at a time: the window is not in use, it does not grow
    assert limit.window == pytest.approx(4.0)
    limit.window = 1.0
    for _ in range(40):
        limit.call(lambda: None)
    assert 2.0 <= limit.window < 4.0  # one call in flight never needs a window much wider than that
    limit.window = 7.2
    held = [limit._acquire() for _ in range(6)]
    for _ in range(40):
        limit.call(lambda: None)
    assert limit.window == 8.0  # used, it grows back, and never beyond its ceiling
    for _ in held:
        limit._release()


def test_without_retry_after_a_short_backoff_is_used_and_other_errors_pass_through() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(2, clock)
    replies = answers(Throttled(None), RuntimeError("500"))

    def call() -> None:
        raise replies.pop(0)

    with pytest.raises(RuntimeError):
        limit.call(call)
    assert clock.slept == [1.0] and limit.in_flight == 0


def test_a_call_throttled_without_end_is_given_up_to_the_caller() -> None:
    clock = FakeClock()
    limit = AdaptiveLimit(4, clock)

    def refused() -> None:
        raise Throttled("1")

    with pytest.raises(Throttled):
        limit.call(refused)
    assert len(clock.slept) == THROTTLED_ATTEMPTS - 1 and limit.window == 1.0


def test_calls_in_flight_never_exceed_the_window_or_the_ceiling() -> None:
    """Twelve threads, ceiling 3: never more than 3 at once; after a decrease to 1, one at a time."""
    limit = AdaptiveLimit(3)
    lock = threading.Lock()
    running, peak = [0], [0]

    def work() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1

    def many() -> None:
        for _ in range(10):
            limit.call(work)

    threads = [threading.Thread(target=many) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 3 and limit.peak_in_flight == 3
    limit.window, limit.ceiling = 1.0, 1
    peak[0] = 0
    threads = [threading.Thread(target=many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 1
