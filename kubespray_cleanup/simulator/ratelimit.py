"""Rate limits as the API gateways in front of public OpenStack clouds apply them: a token bucket, 429 + Retry-After.

Spec string (``--rate-limit``): ``RPS[,burst=N][,per=project|service]``. ``RPS`` requests per second refill
the bucket, which holds at most ``burst`` (default: one second's worth, at least 1). ``per=project`` (the
default) gives each project one bucket for every service; ``per=service`` one bucket per project and service.
Requests without a token (token creation) share the bucket of the anonymous caller. Control routes (``/_sim``)
are never limited. A refused request takes no token; its ``Retry-After`` is the whole seconds until the next
token, at least 1, as HTTP's delta-seconds are.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import json_response

SCOPES = ("project", "service")


@dataclass(frozen=True)
class RateLimitSpec:
    rate: float
    burst: int
    per: str = "project"

    @classmethod
    def parse(cls, spec: str) -> RateLimitSpec:
        head, *items = [p.strip() for p in spec.split(",") if p.strip()] or [""]
        try:
            rate = float(head)
        except ValueError:
            raise ValueError(f"rate limit {spec!r}: {head!r} is not a number of requests per second") from None
        if not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate limit {spec!r}: the rate must be a positive number")
        burst, per = max(1, math.ceil(rate)), "project"
        for item in items:
            key, sep, value = item.partition("=")
            if key == "burst" and sep and value.isdigit() and int(value) >= 1:
                burst = int(value)
            elif key == "per" and value in SCOPES:
                per = value
            else:
                raise ValueError(f"rate limit item {item!r}: expected burst=N (N >= 1) or per=project|service")
        return cls(rate, burst, per)


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second; not thread-safe on its own."""

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate, self.capacity = rate, float(capacity)
        self.tokens, self.updated = float(capacity), now

    def take(self, now: float) -> float:
        """0.0 when a token was taken, else the seconds until one will be there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """One bucket per scope key; counts what it refused."""

    def __init__(self, spec: RateLimitSpec | str, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec if isinstance(spec, RateLimitSpec) else RateLimitSpec.parse(spec)
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self, project: str, service: str) -> float:
        """0.0 when the request may proceed, else the seconds the caller should wait."""
        key = (project, service if self.spec.per == "service" else "")
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.spec.rate, self.spec.burst, now)
            wait = bucket.take(now)
            if wait:
                self.refused += 1
            return wait


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))


def too_many_requests(service: str, wait: float) -> Response:
    """The 429 each service's own API answers with (its fault body shape), carrying ``Retry-After``."""
    seconds = retry_after_header(wait)
    message = "Rate limit exceeded: too many requests, retry after the delay given."
    headers = {"Retry-After": seconds}
    if service in ("compute", "volume"):
        body: object = {"overLimit": {"code": 429, "message": message, "retryAfter": seconds}}
    elif service == "network":
        body = {"NeutronError": {"type": "TooManyRequests", "message": message, "detail": ""}}
    elif service == "load-balancer":
        body = {"faultcode": "Client", "faultstring": message, "debuginfo": None}
    else:  # identity, image and anything behind the same gateway
        body = {"error": {"code": 429, "title": "Too Many Requests", "message": message}}
    return json_response(body, 429, headers)
