"""Contender 3: openstacksdk ``Connection.project_cleanup`` called the way ``openstack project cleanup`` calls it.

OSC ``project cleanup --auth-project --created-before T --auto-approve``: a dry-run pass that fills a status queue
(the listing shown to the user), then the same call with ``dry_run=False``; filters ``{"created_at": T}``.
Errors inside a service's cleanup are logged by the SDK and swallowed; the bench counts those log records.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import time
from datetime import UTC, datetime
from typing import Any

from bench.contenders import CUTOFF, Attempt, Target

WAIT_TIMEOUT = 120  # seconds: the SDK's default, which OSC keeps


def sdk_connect(target: Target) -> Any:
    """A plain openstacksdk connection to the simulator's cloud (what a script or OSC gets)."""
    import openstack

    os.environ["OS_CLIENT_CONFIG_FILE"] = str(target.clouds_yaml)
    return openstack.connect(cloud=target.cloud)


class _Swallowed(logging.Handler):
    """Counts and keeps the errors the SDK logs instead of raising."""

    def __init__(self, stream: Any) -> None:
        super().__init__(logging.WARNING)
        self.stream = stream
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        line = record.getMessage().splitlines()[0][:60]
        if record.exc_info and record.exc_info[1] is not None:
            line = f"{line.split('(', 1)[0]}: {type(record.exc_info[1]).__name__}: {_first_line(record.exc_info[1])}"
        if len(self.first) < 5:
            self.first.append(line)
        self.stream.write(f"{record.name} {record.levelname}: {line}\n")


def _drain(status: queue.Queue[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    while not status.empty():
        item = status.get_nowait()
        counts[type(item).__name__] = counts.get(type(item).__name__, 0) + 1
    return counts


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]


def run(target: Target) -> Attempt:
    created_before = (datetime.now(UTC) - CUTOFF).strftime("%Y-%m-%dT%H:%M:%S")
    filters = {"created_at": created_before}
    target.log_path.parent.mkdir(parents=True, exist_ok=True)
    sdk_log = logging.getLogger("openstack")
    with target.log_path.open("a") as stream:
        handler = _Swallowed(stream)
        propagate, level = sdk_log.propagate, sdk_log.level
        sdk_log.addHandler(handler)
        sdk_log.propagate = False
        sdk_log.setLevel(logging.WARNING)
        marks = [time.perf_counter()]
        error = None
        identified: dict[str, int] = {}
        processed: dict[str, int] = {}
        try:
            conn = sdk_connect(target)
            try:
                status: queue.Queue[Any] = queue.Queue()
                conn.project_cleanup(dry_run=True, wait_timeout=WAIT_TIMEOUT, status_queue=status, filters=filters)
                identified = _drain(status)
                marks.append(time.perf_counter())
                conn.project_cleanup(dry_run=False, wait_timeout=WAIT_TIMEOUT, status_queue=status, filters=filters)
                processed = _drain(status)
                marks.append(time.perf_counter())
            finally:
                conn.close()
        except Exception as exc:
            error = f"{type(exc).__name__}: {_first_line(exc)}"
        finally:
            sdk_log.removeHandler(handler)
            sdk_log.propagate = propagate
            sdk_log.setLevel(level)
    phases = dict(zip(("dry_run_listing", "cleanup"), (round(b - a, 4) for a, b in itertools.pairwise(marks)),
                      strict=False))
    if error is None and handler.count:
        error = f"{handler.count} error(s) logged and swallowed, e.g. {handler.first[0]}"
    return Attempt(phases=phases, error=error,
                   details={"created_before": created_before, "identified": identified, "processed": processed,
                            "swallowed_errors": handler.count, "first_errors": handler.first,
                            "wait_timeout": WAIT_TIMEOUT})
