"""The app factory: the WSGI application (routing, authentication, latency, faults, request accounting) and
``SERVICES``, the one explicit list of the services it serves. Sits above the core and every service package."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from kubespray_cleanup.simulator import cinder, control, glance, keystone, neutron, nova, octavia
from kubespray_cleanup.simulator.faults import FaultInjector, FaultSpec
from kubespray_cleanup.simulator.http import ApiError, json_response, keystone_error
from kubespray_cleanup.simulator.latency import LatencyProfile, get_profile
from kubespray_cleanup.simulator.ratelimit import RateLimiter, RateLimitSpec, too_many_requests
from kubespray_cleanup.simulator.routing import Ctx, Routes, ServiceRegistration
from kubespray_cleanup.simulator.store import Store, Token

# Every service of the simulated cloud, in registration order: the one place that knows them all.
SERVICES: tuple[ServiceRegistration, ...] = (
    control.register,
    keystone.register,
    glance.register,
    nova.register,
    neutron.register,
    cinder.register,
    octavia.register,
)


class Simulator:
    """A stateful OpenStack: Keystone, Nova, Neutron, Cinder, Glance and Octavia in one WSGI app."""

    def __init__(self, store: Store | None = None, latency: LatencyProfile | str = "none",
                 faults: FaultSpec | str | None = None, request_log: IO[str] | None = None,
                 rate_limit: RateLimiter | RateLimitSpec | str | None = None) -> None:
        self.store = store or Store()
        self.rate_limiter: RateLimiter | None = None
        if rate_limit:
            self.rate_limiter = rate_limit if isinstance(rate_limit, RateLimiter) else RateLimiter(rate_limit)
        self.latency = get_profile(latency) if isinstance(latency, str) else latency
        self.faults = FaultInjector(faults)
        if self.faults.spec.token_ttl is not None:
            from datetime import timedelta

            self.store.token_ttl = timedelta(seconds=self.faults.spec.token_ttl)
        self.request_log = request_log
        self._log_lock = threading.Lock()
        self.stats: Counter[tuple[str, str, int]] = Counter()
        self._stats_lock = threading.Lock()
        # Wall time spent inside the app per request (simulated latency and injected sleeps excluded), and
        # the part of it spent holding the store lock: what the simulator itself costs a client.
        self.handler_seconds_total = 0.0
        self.handler_seconds_max = 0.0
        self.locked_seconds_total = 0.0
        self._slept = threading.local()
        self.routes = Routes()
        self._register_services()
        self.url_map = Map(self.routes.rules)

    def _register_services(self) -> None:
        for register in SERVICES:
            register(self.routes)

    # --- WSGI ----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        # A plain copy: handlers read headers many times per request (Nova's microversion once per server
        # rendered), and each read of werkzeug's EnvironHeaders walks the whole WSGI environ.
        request.headers = Headers(request.headers)
        self._slept.seconds = 0.0
        self._slept.locked = 0.0
        self._slept.fault = None
        self._slept.answer = None
        response, route = self._dispatch(request)
        if "X-OpenStack-Request-ID" not in response.headers:  # every real API answers with one
            response.headers["X-OpenStack-Request-ID"] = f"req-{uuid.uuid4()}"
        body = response(environ, start_response)
        self._account(request, route, response.status_code, started)
        return body

    def _dispatch(self, request: Request) -> tuple[Response, str]:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed:
            return json_response({"error": {"code": 405, "message": "Method not allowed"}}, 405), "unmatched"
        except NotFound:
            return json_response({"error": {"code": 404, "message": "The resource could not be found."}},
                                 404), "unmatched"
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return exc.get_response(request.environ), "unmatched"
        route = str(endpoint)
        is_control = route.split(" ", 1)[1].startswith("/_sim")
        if not is_control:
            refused = self._rate_limited(request, route)
            if refused is not None:
                return refused, route
            self._sleep(self.latency.request_delay(request.method, route))
            fault = self.faults.pick(request.method, route)
            self._slept.fault = fault.kind if fault is not None else None
            if fault is not None and not fault.after_apply:
                fault_response = fault.apply(request, self._sleep)
                if fault_response is not None:
                    return fault_response, route
        else:
            fault = None
        response = self._handle(request, route, args)
        if fault is not None and fault.after_apply:  # applied, but the client never hears of it
            self._slept.answer = response.status_code
            lost = fault.apply(request, self._sleep)
            return (lost or response), route
        return response, route

    def _handle(self, request: Request, route: str, args: Mapping[str, Any]) -> Response:
        try:
            token = None if route in self.routes.public else self._authenticate(request)
            self.store.advance()
            with self.store.lock:
                entered = time.perf_counter()
                try:
                    response = self.routes.handlers[route](Ctx(self, request, token), **args)
                finally:
                    self._slept.locked = time.perf_counter() - entered
        except ApiError as err:
            response = err.response
        return response

    def _rate_limited(self, request: Request, route: str) -> Response | None:
        """The gateway's 429 when the caller's bucket is empty (checked before the service sees the request)."""
        if self.rate_limiter is None:
            return None
        token = self.store.tokens.get(request.headers.get("X-Auth-Token", ""))
        service = route.split(" ", 1)[-1].strip("/").split("/", 1)[0]
        wait = self.rate_limiter.admit(token.project_id if token is not None else "", service)
        return too_many_requests(service, wait) if wait else None

    def _authenticate(self, request: Request) -> Token:
        token_id = request.headers.get("X-Auth-Token", "")
        token = self.store.tokens.get(token_id)
        if token is None or token.expires_at <= self.store.utcnow():
            raise keystone_error(401, "Unauthorized", "The request you have made requires authentication.")
        return token

    def _sleep(self, simulated_seconds: float) -> None:
        if simulated_seconds > 0:
            seconds = simulated_seconds / self.store.time_scale
            time.sleep(seconds)
            self._slept.seconds = getattr(self._slept, "seconds", 0.0) + seconds

    def _account(self, request: Request, route: str, status: int, started: float) -> None:
        if route.split(" ", 1)[-1].startswith("/_sim"):
            return
        elapsed = time.perf_counter() - started
        own = max(0.0, elapsed - getattr(self._slept, "seconds", 0.0))
        locked = getattr(self._slept, "locked", 0.0)
        with self._stats_lock:
            self.stats[(request.method, route, status)] += 1
            self.handler_seconds_total += own
            self.handler_seconds_max = max(self.handler_seconds_max, own)
            self.locked_seconds_total += locked
        if self.request_log is not None:
            line = json.dumps({
                "ts": time.time(), "method": request.method, "path": request.path, "route": route,
                "status": status, "ms": round(elapsed * 1000, 3),
                **({"fault": fault} if (fault := getattr(self._slept, "fault", None)) else {}),
                **({"answer": answer} if (answer := getattr(self._slept, "answer", None)) else {}),
            })
            with self._log_lock:
                self.request_log.write(line + "\n")
                self.request_log.flush()

    # --- observability ------------------------------------------------------------
    def stats_json(self) -> dict[str, Any]:
        with self._stats_lock:
            items = list(self.stats.items())
            handler_total, handler_max = self.handler_seconds_total, self.handler_seconds_max
            locked_total = self.locked_seconds_total
        by_status: Counter[str] = Counter()
        by_method: Counter[str] = Counter()
        routes = []
        for (method, route, status), n in sorted(items):
            by_status[str(status)] += n
            by_method[method] += n
            routes.append({"method": method, "route": route.split(" ", 1)[-1], "status": status, "count": n})
        total = sum(by_status.values())
        return {"total": total, "by_status": dict(by_status), "by_method": dict(by_method), "routes": routes,
                "handler_seconds_total": round(handler_total, 6), "handler_seconds_max": round(handler_max, 6),
                "handler_seconds_mean": round(handler_total / total, 6) if total else 0.0,
                "locked_seconds_total": round(locked_total, 6)}

    def reset_stats(self) -> None:
        with self._stats_lock:
            self.stats.clear()
            self.handler_seconds_total = self.handler_seconds_max = self.locked_seconds_total = 0.0
