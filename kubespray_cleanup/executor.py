"""The parallel walk: delete as soon as every predecessor is gone, wait by listing, retry, skip downstream of failure.

A ready set (not generation barriers) feeds a bounded thread pool; each service has its own
adaptive window of calls in flight (``concurrency``: it shrinks on 429 and grows back). A delete
counts as done only when the object is gone: synchronous Neutron/Nova calls are gone on 204/404,
asynchronous kinds (servers, volumes, snapshots, load balancers) are polled by listing their kind
once per interval for all pending objects. A dependency refusal (409, or Cinder's and Octavia's
400) re-lists what can block that kind, names the blocker, adds the edge and retries within
bounds. A failed node skips its dependents; only root causes are reported.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import networkx as nx
import structlog

from kubespray_cleanup.audit import acting_on
from kubespray_cleanup.clock import Clock
from kubespray_cleanup.concurrency import AdaptiveLimit
from kubespray_cleanup.heap import frozen_heap
from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.kinds.base import AUTO_PORT_OWNERS, RELEASING, SERVICE_PORT_OWNERS, Index
from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.planner import DETACH, Plan
from kubespray_cleanup.retry import call_with_retry, status_of

log = structlog.get_logger("tf-cleanup")
T = TypeVar("T")


DONE, FAILED, SKIPPED, INTERRUPTED = "done", "failed", "skipped", "interrupted"

# Kinds whose listing can reveal what blocks a refused delete of the key kind.
_BLOCKER_KINDS: dict[Kind, tuple[Kind, ...]] = {
    Kind.NETWORK: (Kind.PORT, Kind.SUBNET, Kind.LOAD_BALANCER),
    Kind.PORT: (Kind.TRUNK,),
    Kind.SUBNET: (Kind.PORT, Kind.LOAD_BALANCER, Kind.FLOATING_IP, Kind.ROUTER),
    Kind.SECURITY_GROUP: (Kind.PORT, Kind.SECURITY_GROUP, Kind.LOAD_BALANCER),
    Kind.ROUTER_INTERFACE: (Kind.FLOATING_IP, Kind.PORT, Kind.SUBNET, Kind.ROUTER),
    Kind.ROUTER: (Kind.PORT, Kind.FLOATING_IP, Kind.SUBNET),
    Kind.VOLUME: (Kind.SERVER, Kind.VOLUME, Kind.SNAPSHOT),
    Kind.SNAPSHOT: (Kind.VOLUME,),
}
_DEFAULT_SERVICE_LIMITS = {"compute": 10, "network": 10, "volume": 6, "load-balancer": 4}
_MANAGED_OWNERS = AUTO_PORT_OWNERS | SERVICE_PORT_OWNERS
_STUCK_STATUSES = {"error_deleting", "error"}


@dataclass
class Outcome:
    key: str
    label: str
    status: str  # done | failed | skipped | interrupted
    message: str = ""
    attempts: int = 0
    seconds: float = 0.0
    cause: str | None = None  # for skipped: the failed root

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "status": self.status, "message": self.message,
                "attempts": self.attempts, "seconds": round(self.seconds, 3), "cause": self.cause}


@dataclass
class RunResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    timed_out: bool = False

    def with_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.status == status]

    @property
    def root_causes(self) -> list[Outcome]:
        return sorted(self.with_status(FAILED), key=lambda o: o.key)

    @property
    def clean(self) -> bool:
        return all(o.status == DONE for o in self.outcomes.values())

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return {"seconds": round(self.seconds, 3), "counts": counts, "interrupted": self.interrupted,
                "timed_out": self.timed_out, "root_causes": [o.to_dict() for o in self.root_causes],
                "outcomes": [o.to_dict() for o in sorted(self.outcomes.values(), key=lambda o: o.key)]}


@dataclass(frozen=True)
class ExecutorOptions:
    max_parallel: int = 16
    service_limits: dict[str, int] = field(default_factory=lambda: dict(_DEFAULT_SERVICE_LIMITS))
    poll_interval: float = 1.0
    resource_timeout: float = 600.0
    run_timeout: float = 3600.0
    conflict_retries: int = 6
    retry_attempts: int = 6
    retry_base: float = 0.5
    release_grace: float = 60.0  # how long a gone server may still hold its ports and volumes


class Executor:
    """Walks one Plan's action graph against a cloud connection."""

    def __init__(self, conn: Any, plan: Plan, options: ExecutorOptions | None = None, clock: Clock | None = None,
                 on_progress: Callable[[Outcome], None] | None = None) -> None:
        self.conn = conn
        self.plan = plan
        self.options = options or ExecutorOptions()
        self.clock = clock or Clock()
        self.on_progress = on_progress
        self.graph: nx.DiGraph = plan.action_graph()
        self.resources: dict[str, Resource] = {k: plan.entries[k].resource for k in self.graph.nodes}
        self._events: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        self._stop = threading.Event()
        limits = self.options.service_limits
        ceiling = max(1, self.options.max_parallel)
        self.limits = {s: AdaptiveLimit(min(ceiling, max(1, limits.get(s, 4))), self.clock) for s in
                       ("compute", "network", "volume", "load-balancer")}
        self.result = RunResult()
        self._started: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self._waiting: dict[str, float] = {}  # async deletes issued: key -> when
        self._in_flight: set[str] = set()
        self._finished: set[str] = set()
        self._conflict_backoff: dict[str, float] = {}  # key -> not before (monotonic)
        self._tried: dict[str, list[str]] = {}  # key -> what was tried (delete, force-delete ...)
        self._stuck: dict[str, str] = {}  # key -> why recovery was needed
        self._not_ready: dict[str, float] = {}  # busy objects waited on before their delete: key -> since
        self._fresh = Index(())  # the latest re-listing made to explain a refusal

    def stop(self) -> None:
        """Ask the walk to end: no new calls; in-flight ones finish; the rest is 'interrupted'."""
        self._stop.set()

    def slowest_waits(self, count: int = 3) -> list[tuple[str, float]]:
        """The longest-running waits (asynchronous deletes and busy objects), as (label, seconds): for displays."""
        now = self.clock.monotonic()
        since = sorted([*list(self._waiting.items()), *list(self._not_ready.items())], key=lambda kv: kv[1])
        return [(self.resources[key].label, now - started) for key, started in since[:count]]

    # --- the walk -------------------------------------------------------------
    def run(self) -> RunResult:
        with frozen_heap():
            return self._run()

    def _run(self) -> RunResult:
        t0 = self.clock.monotonic()
        pending_preds = {n: set(self.graph.predecessors(n)) for n in self.graph.nodes}
        self._pending_preds = pending_preds
        self._rank = {key: i for i, key in enumerate(self.plan.order())}  # ties start in plan order
        self._next_poll = t0
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.options.max_parallel), thread_name_prefix="delete")
        try:
            for node in sorted((n for n, preds in pending_preds.items() if not preds), key=self._rank.__getitem__):
                self._submit(node)
            while len(self._finished) < self.graph.number_of_nodes():
                now = self.clock.monotonic()
                if self._stop.is_set() or now - t0 > self.options.run_timeout:
                    self._abandon(timed_out=not self._stop.is_set())
                    break
                self._release_backoffs(now)
                event = self.clock.wait(self._events, self._next_wait(now, self._next_poll))
                if event is not None:
                    self._handle(*event)
                now = self.clock.monotonic()
                if (self._waiting or self._not_ready) and now >= self._next_poll:
                    self._poll(now)
                    self._next_poll = now + self.options.poll_interval
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.result.seconds = self.clock.monotonic() - t0
        return self.result

    def _next_wait(self, now: float, next_poll: float) -> float:
        waits = [0.5]
        if self._waiting or self._not_ready:
            waits.append(max(0.0, next_poll - now))
        if self._conflict_backoff:
            waits.append(max(0.0, min(self._conflict_backoff.values()) - now))
        return max(0.001, min(waits))

    def _submit(self, key: str) -> None:
        if self._stop.is_set() or key in self._in_flight or key in self._finished:
            return
        now = self.clock.monotonic()
        self._started.setdefault(key, now)
        if key not in self._attempts and self._defer_by_listed_state(key, now):
            return
        self._in_flight.add(key)
        self._pool.submit(self._work, key)

    def _defer_by_listed_state(self, key: str, now: float) -> bool:
        """Objects an earlier run is already deleting are only waited for; busy ones are waited on first."""
        res = self.resources[key]
        handler = HANDLERS[res.kind]
        if handler.delete_in_progress(res):
            self._tried[key] = ["delete (already in progress)"]
            self._attempts[key] = 0
            self._waiting[key] = now
            return True
        if handler.busy(str(res.attrs.get("status") or "")):
            self._not_ready[key] = now
            return True
        return False

    def _work(self, key: str, recovering: bool = False) -> None:
        if self._stop.is_set():
            return
        res = self.resources[key]
        handler = HANDLERS[res.kind]
        self._attempts[key] = self._attempts.get(key, 0) + 1
        action = (lambda: handler.recover(self.conn, res)) if recovering else (lambda: handler.delete(self.conn, res))
        try:
            with acting_on(res):
                call_with_retry(lambda: self.limits[handler.service].call(action),
                                attempts=self.options.retry_attempts,
                                base=self.options.retry_base, sleep=self.clock.sleep,
                                on_retry=lambda exc, n: log.info("delete_retried", resource=res.label,
                                                                 status=status_of(exc), attempt=n))
        except Exception as exc:
            self._events.put(("recovery_failed" if recovering else "error", key, exc))
            return
        self._events.put(("issued", key, None))

    def _handle(self, kind: str, key: str, payload: Any) -> None:
        self._in_flight.discard(key)
        res = self.resources[key]
        if kind == "issued":
            self._tried.setdefault(key, []).append(HANDLERS[res.kind].recovery if key in self._stuck else "delete")
            if HANDLERS[res.kind].asynchronous:
                now = self.clock.monotonic()
                self._waiting[key] = now
                # A first look soon after the call catches quick deletes; later ones wait the full interval.
                self._next_poll = min(self._next_poll, now + self.options.poll_interval / 4)
            else:
                self._complete(key)
            return
        exc = payload
        status = status_of(exc)
        if kind == "recovery_failed" and status != 404:
            self._fail(key, f"{self._stuck[key]}; tried: {', '.join(self._tried[key])} (refused: {_describe(exc)})")
            return
        if status == 404:
            self._complete(key, "already gone (404)")
        elif _is_dependency_refusal(res.kind, status, exc):
            self._conflicted(key, exc)
        else:
            self._fail(key, _describe(exc))

    # --- completion and failure ----------------------------------------------------------
    def _complete(self, key: str, message: str = "") -> None:
        res = self.resources[key]
        verb = "detached" if self.plan.entries[key].decision == DETACH else "deleted"
        self._record(Outcome(key, res.label, DONE, message or verb, self._attempts.get(key, 0),
                             self.clock.monotonic() - self._started.get(key, self.clock.monotonic())))
        log.info("resource_" + verb, resource=res.label, seconds=round(self.result.outcomes[key].seconds, 2),
                 progress=self._progress())
        for succ in sorted(self.graph.successors(key), key=lambda k: self._rank.get(k, 1 << 30)):
            preds = self._pending_preds[succ]
            preds.discard(key)
            if not preds and succ not in self._finished:
                self._submit(succ)

    def _fail(self, key: str, message: str) -> None:
        res = self.resources[key]
        self._record(Outcome(key, res.label, FAILED, message, self._attempts.get(key, 0),
                             self.clock.monotonic() - self._started.get(key, self.clock.monotonic())))
        log.warning("delete_failed", resource=res.label, reason=message, progress=self._progress())
        for node in nx.descendants(self.graph, key):
            if node not in self._finished:
                self._record(Outcome(node, self.resources[node].label, SKIPPED, f"depends on {res.label}",
                                     cause=key))

    def _progress(self) -> str:
        return f"{len(self._finished)}/{self.graph.number_of_nodes()}"

    def _record(self, outcome: Outcome) -> None:
        self.result.outcomes[outcome.key] = outcome
        self._finished.add(outcome.key)
        self._waiting.pop(outcome.key, None)
        self._not_ready.pop(outcome.key, None)
        self._conflict_backoff.pop(outcome.key, None)
        if self.on_progress is not None:
            self.on_progress(outcome)

    def _abandon(self, timed_out: bool) -> None:
        self.result.interrupted = not timed_out
        self.result.timed_out = timed_out
        status = INTERRUPTED if not timed_out else FAILED
        why = "run interrupted" if not timed_out else "run timeout reached"
        for node in self.graph.nodes:
            if node not in self._finished:
                self._record(Outcome(node, self.resources[node].label, status, why, self._attempts.get(node, 0)))

    # --- waiting for asynchronous deletes ------------------------------------------------------
    def _poll(self, now: float) -> None:
        kinds = {self.resources[k].kind for k in [*self._waiting, *self._not_ready]}
        for kind in sorted(kinds, key=lambda k: k.value):
            pending = [self.resources[k] for k in [*self._waiting, *self._not_ready] if self.resources[k].kind is kind]
            try:
                live = call_with_retry(lambda kind=kind, pending=pending: self._listed(  # type: ignore[misc]
                                           kind, lambda conn: HANDLERS[kind].live_ids(conn, pending)),
                                       attempts=self.options.retry_attempts, base=self.options.retry_base,
                                       sleep=self.clock.sleep)
            except Exception as exc:
                log.warning("poll_failed", kind=kind.value, reason=_describe(exc))
                continue
            for key in [k for k in self._waiting if self.resources[k].kind is kind]:
                self._check_waiting(key, live, now)
            for key in [k for k in self._not_ready if self.resources[k].kind is kind]:
                self._check_ready(key, live, now)

    def _listed(self, kind: Kind, lister: Callable[[Any], T]) -> T:
        """A listing made within the window of the kind's service."""
        return self.limits[HANDLERS[kind].service].call(lambda: lister(self.conn))

    def _check_waiting(self, key: str, live: dict[str, str], now: float) -> None:
        res = self.resources[key]
        status = live.get(res.id)
        if status is None or status.lower() == "deleted":
            self._complete(key)
        elif status == RELEASING:  # gone from its listing; wait a while for its ports and volumes, never recover
            if now - self._waiting[key] > min(self.options.release_grace, self.options.resource_timeout):
                self._complete(key)
        elif status.lower() == "soft_deleted":  # reclaim_instance_interval > 0: only forceDelete frees it now
            self._stuck_or_recover(key, "soft-deleted (the cloud defers deletes)")
        elif status.lower() in _STUCK_STATUSES:
            self._stuck_or_recover(key, f"stuck in {status} after delete")
        elif now - self._waiting[key] > self.options.resource_timeout:
            waited = f"{self.options.resource_timeout:.0f}s"
            self._stuck_or_recover(key, f"still {status or 'present'} {waited} after delete")

    def _check_ready(self, key: str, live: dict[str, str], now: float) -> None:
        """A busy object: submit its delete once the service would accept it."""
        res = self.resources[key]
        status = live.get(res.id)
        if status is None:
            self._complete(key, "already gone")
        elif not HANDLERS[res.kind].busy(status):
            del self._not_ready[key]
            self._attempts.setdefault(key, 0)  # the listed state is stale now: do not defer again
            self._submit(key)
        elif now - self._started[key] > self.options.resource_timeout:
            self._fail(key, f"stuck in {status} for {now - self._started[key]:.0f}s; tried: waiting, "
                            f"delete x{self._attempts.get(key, 0)}")

    def _stuck_or_recover(self, key: str, why: str) -> None:
        """Try the kind's recovery once (force delete, reset state); report the resource stuck after that."""
        handler = HANDLERS[self.resources[key].kind]
        tried = self._tried.setdefault(key, ["delete"])
        if not handler.recovery or key in self._stuck or self._stop.is_set():
            self._fail(key, f"{why}; tried: {', '.join(tried)}")
            return
        log.warning("delete_stuck", resource=self.resources[key].label, reason=why, next=handler.recovery)
        self._stuck[key] = why
        self._waiting.pop(key, None)
        self._in_flight.add(key)
        self._pool.submit(self._work, key, True)

    # --- conflicts -------------------------------------------------------------------
    def _conflicted(self, key: str, exc: BaseException) -> None:
        res = self.resources[key]
        tries = self._attempts.get(key, 0)
        if res.kind is Kind.LOAD_BALANCER and "Invalid state PENDING" in _describe(exc):
            self._wait_for_pending(key, exc)
            return
        status = str(res.attrs.get("status") or "").lower()
        if status in _STUCK_STATUSES and HANDLERS[res.kind].recovery:
            self._stuck_or_recover(key, f"refused in status {status} ({_describe(exc)})")
            return
        blockers = self._find_blockers(res)
        orphaned = HANDLERS[res.kind].held_by_missing(res, self._fresh)
        # Not on the first refusal: Cinder may lag a moment behind Nova's own detach.
        if orphaned and not blockers and tries >= 2 and HANDLERS[res.kind].recovery:
            self._stuck_or_recover(key, f"{orphaned} ({_describe(exc)})")
            return
        names = ", ".join(b.label for b in blockers) or "nothing visible"
        log.warning("delete_conflicted", resource=res.label, status=status_of(exc), blockers=names, attempt=tries)
        waiting_on = False
        for blocker in blockers:
            if blocker.key in self.graph and blocker.key not in self._finished:
                self.graph.add_edge(blocker.key, key, reason="conflict")
                self._pending_preds[key].add(blocker.key)
                waiting_on = True
            elif blocker.key not in self.graph:
                entry = self.plan.entries.get(blocker.key)
                why = f"kept: {entry.reason}" if entry else "not in the plan"
                self._fail(key, f"blocked by {blocker.label} ({why})")
                return
        if tries >= self.options.conflict_retries:
            self._fail(key, f"refused {tries} times ({_describe(exc)}); blockers: {names}")
            return
        if not waiting_on:
            delay = min(30.0, self.options.retry_base * (2 ** (tries - 1)))
            self._conflict_backoff[key] = self.clock.monotonic() + delay

    def _wait_for_pending(self, key: str, exc: BaseException) -> None:
        """An Octavia LB in PENDING_* cannot be deleted yet: wait by listing until it settles, then delete."""
        log.info("delete_deferred", resource=self.resources[key].label, reason=_describe(exc))
        self._not_ready.setdefault(key, self.clock.monotonic())

    def _release_backoffs(self, now: float) -> None:
        for key, when in list(self._conflict_backoff.items()):
            if when <= now:
                del self._conflict_backoff[key]
                self._submit(key)

    def _find_blockers(self, res: Resource) -> list[Resource]:
        kinds = _BLOCKER_KINDS.get(res.kind, ())
        if not kinds:
            return []
        fresh: list[Resource] = []
        for kind in kinds:
            try:
                fresh.extend(call_with_retry(lambda kind=kind: self._listed(kind, HANDLERS[kind].list),  # type: ignore[misc]
                                             attempts=self.options.retry_attempts, base=self.options.retry_base,
                                             sleep=self.clock.sleep))
            except Exception as exc:
                log.warning("relist_failed", kind=kind.value, reason=_describe(exc))
        idx = Index(r for r in fresh if str(r.attrs.get("device_owner") or "") not in _MANAGED_OWNERS)
        self._fresh = idx
        blockers = {}
        for other in idx:
            if other.key == res.key or other.kind not in kinds:
                continue
            for relation in HANDLERS[other.kind].relations(other, idx):
                if relation.after == res.key:
                    blockers[other.key] = other
        return [blockers[k] for k in sorted(blockers)]


def _is_dependency_refusal(kind: Kind, status: int | None, exc: BaseException) -> bool:
    return status == 409 or (status == 400 and kind in (Kind.VOLUME, Kind.SNAPSHOT, Kind.LOAD_BALANCER))


def _describe(exc: BaseException) -> str:
    status = status_of(exc)
    details = getattr(exc, "details", None) or str(exc)
    text = str(details).strip().splitlines()[0] if str(details).strip() else exc.__class__.__name__
    return f"{status}: {text}" if status else f"{exc.__class__.__name__}: {text}"
