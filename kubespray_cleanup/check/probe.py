"""Every cloud call of a check goes through one prober: it times each service's answers for the endpoint check
and turns a refusal (403, 404, 5xx, a dropped connection) into a recorded failure instead of a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openstack import exceptions

T = TypeVar("T")


@dataclass
class ServiceCalls:
    """How one service answered during the check."""

    service: str
    calls: int = 0
    seconds: list[float] = field(default_factory=list)
    failures: list[tuple[str, int | None, str]] = field(default_factory=list)  # (what, status, message)

    @property
    def reachable(self) -> bool:
        """Whether the service answered at all (a 4xx is an answer; no answer or a 5xx is not)."""
        answered = any(status is not None and status < 500 for _, status, _ in self.failures)
        return answered or len(self.failures) < self.calls

    @property
    def latency_ms(self) -> float | None:
        return round(min(self.seconds) * 1000, 1) if self.seconds else None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:300]


class Prober:
    """``prober.call(service, what, fn)`` -> fn's result, or None when the service refused or did not answer."""

    def __init__(self) -> None:
        self.services: dict[str, ServiceCalls] = {}

    def of(self, service: str) -> ServiceCalls:
        return self.services.setdefault(service, ServiceCalls(service))

    def call(self, service: str, what: str, fn: Callable[[], T]) -> T | None:
        record = self.of(service)
        record.calls += 1
        started = time.perf_counter()
        try:
            result = fn()
        except exceptions.HttpException as exc:
            record.failures.append((what, exc.status_code, first_line(exc)))
            return None
        except Exception as exc:  # connection refused, timeouts, bad JSON: the service did not answer usefully
            record.failures.append((what, None, first_line(exc)))
            return None
        record.seconds.append(time.perf_counter() - started)
        return result

    def failure(self, service: str, what: str) -> tuple[int | None, str] | None:
        for name, status, message in self.of(service).failures:
            if name == what:
                return status, message
        return None


def get_json(proxy: Any, path: str) -> dict[str, Any]:
    """GET a path of a service (through openstacksdk's proxy for it) and return the JSON body; HTTP errors raise."""
    response = proxy.get(path)
    exceptions.raise_from_response(response)
    body: Any = response.json()
    if not isinstance(body, dict):
        raise ValueError(f"GET {path}: expected a JSON object")
    return body
