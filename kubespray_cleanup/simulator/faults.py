"""Injected faults: 5xx, 429 with Retry-After, slow answers, dropped connections, short-lived tokens.

Spec string (``--faults``), comma-separated ``key=value``:
``500=0.02,503=0.01,429=0.01,slow=0.01,drop=0.01`` (probability per request of each fault),
``rate=0.05`` (spread evenly over all five), ``seed=N``, ``methods=DELETE+PUT`` (only these),
``slow_seconds=S``, ``retry_after=S``, ``token_ttl=S`` (tokens expire after S seconds).
``lost=0.05``: the request takes effect, then its answer is lost (the connection drops after the change was
applied); it is not part of ``rate``. Control routes (``/_sim``) are never faulted; Keystone's token and
discovery calls only with ``keystone=1`` (or ``keystone=only``: those calls and nothing else).
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from kubespray_cleanup.simulator.http import json_response

FAULT_KINDS = ("500", "503", "429", "slow", "drop")
AFTER_KINDS = ("lost",)  # faults that strike once the request has been applied


@dataclass(frozen=True)
class FaultSpec:
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    methods: frozenset[str] = frozenset()
    slow_seconds: float = 2.0
    retry_after: float = 1.0
    token_ttl: float | None = None
    keystone: str = ""  # "": Keystone is spared; "also": faulted like the rest; "only": nothing else is

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        if not spec:
            return cls()
        rates: dict[str, float] = {}
        kwargs: dict[str, object] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault spec item {part!r} is not key=value")
            try:
                if key == "rate":
                    for kind in FAULT_KINDS:
                        rates[kind] = rates.get(kind, 0.0) + float(value) / len(FAULT_KINDS)
                elif key in FAULT_KINDS or key in AFTER_KINDS:
                    rates[key] = float(value)
                elif key == "keystone":
                    mode = {"1": "also", "true": "also", "also": "also", "only": "only", "0": ""}.get(value.lower())
                    if mode is None:
                        raise ValueError(f"unknown fault spec key {key!r} value {value!r} (1, also, only)")
                    kwargs["keystone"] = mode
                elif key == "seed":
                    kwargs["seed"] = int(value)
                elif key == "methods":
                    kwargs["methods"] = frozenset(m.upper() for m in value.split("+") if m)
                elif key in ("slow_seconds", "retry_after", "token_ttl"):
                    kwargs[key] = float(value)
                else:
                    raise ValueError(f"unknown fault spec key {key!r}")
            except ValueError as exc:
                if "unknown fault" in str(exc):
                    raise
                raise ValueError(f"fault spec item {part!r}: {value!r} is not a number") from None
        if any(not 0.0 <= r <= 1.0 for r in rates.values()) or sum(rates.values()) > 1.0:
            raise ValueError("fault probabilities must be within 0..1 and sum to at most 1")
        return cls(rates=rates, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fault:
    kind: str
    spec: FaultSpec

    @property
    def after_apply(self) -> bool:
        return self.kind in AFTER_KINDS

    def apply(self, request: Request, sleep: Callable[[float], None]) -> Response | None:
        """The fault's response, or None when the request should then proceed (slow)."""
        if self.kind == "slow":
            sleep(self.spec.slow_seconds)
            return None
        if self.kind in ("drop", "lost"):
            sock = request.environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return json_response({"error": "connection dropped"}, 500)
        if self.kind == "429":
            return json_response({"overLimit": {"code": 429, "message": "Rate limit exceeded",
                                                "retryAfter": str(int(self.spec.retry_after))}},
                                 429, {"Retry-After": str(int(max(1, self.spec.retry_after)))})
        status = int(self.kind)
        return json_response({"error": {"code": status, "message": "Injected fault"}}, status)


class FaultInjector:
    """Draws faults from a seeded generator so a run is reproducible."""

    def __init__(self, spec: FaultSpec | str | None) -> None:
        self.spec = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)
        self._random = random.Random(self.spec.seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def pick(self, method: str, route: str) -> Fault | None:
        if not self.spec.rates:
            return None
        identity = route.endswith("/auth/tokens") or route.startswith("GET /identity")
        if (identity and not self.spec.keystone) or (self.spec.keystone == "only" and not identity):
            return None
        if self.spec.methods and method not in self.spec.methods:
            return None
        with self._lock:
            draw = self._random.random()
        edge = 0.0
        for kind in (*FAULT_KINDS, *AFTER_KINDS):
            edge += self.spec.rates.get(kind, 0.0)
            if draw < edge:
                with self._lock:
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                return Fault(kind, self.spec)
        return None
