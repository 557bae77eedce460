"""SIGKILL at any point, then rerun: the cleanup converges, touches nothing kept, and takes 404s as done.

``python -m kubespray_cleanup`` runs as a subprocess against an in-process simulator of the ``demo``
scenario with realistic latency at time scale 10 (a run lasts about four seconds; deletes start after
one). It is killed after ``k`` ``resource_deleted``/``resource_detached`` log events, or at a seeded
random moment (planning included), possibly several times in a row; a final run then goes to
completion. No 409 may be served over the whole sequence.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubespray_cleanup.errors import ExitCode
from tests.reliability.checks import Expectation
from tests.reliability.conftest import SLOW, WorldStage

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # openstacksdk's own

EVENTS = ('"resource_deleted"', '"resource_detached"')
RUN_TIMEOUT = 90.0


def _spawn(stage: WorldStage, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **stage.env()}
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(stage.states),
             "--yes", "--poll-interval", "0.05"],
            env=env, stdout=subprocess.DEVNULL, stderr=err)


def _events(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(text.count(e) for e in EVENTS)


def _deletes_of(requests: io.StringIO, fragment: str) -> int:
    return sum(1 for line in requests.getvalue().splitlines()
               if '"method": "DELETE"' in line and fragment in json.loads(line)["path"])


def _kill(proc: subprocess.Popen[bytes], log: Path, point: tuple[str, Any], requests: io.StringIO) -> bool:
    """SIGKILL at ``("events", k)``, ``("seconds", t)`` or ``("delete", path fragment)`` (once the cloud
    answered the first DELETE of that path); True when the process was still running then."""
    what, value = point
    deadline = time.monotonic() + RUN_TIMEOUT
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() < deadline:
        if (what == "events" and _events(log) >= value) or (what == "seconds" and
                                                            time.monotonic() - started >= value) or \
                (what == "delete" and _deletes_of(requests, value)):
            break
        time.sleep(0.005)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")
    return alive


def _chains() -> list[tuple[str, list[tuple[str, Any]]]]:
    chains: list[tuple[str, list[tuple[str, Any]]]] = [
        ("after-1-event", [("events", 1)]),
        ("after-8-events", [("events", 8)]),
        ("after-20-events", [("events", 20)]),
        ("after-40-events", [("events", 40)]),
        ("twice-after-3-events", [("events", 3), ("events", 3)]),
        # the rerun finds these mid-delete: a load balancer in PENDING_DELETE, a server in task_state deleting
        ("after-load-balancer-delete", [("delete", "/loadbalancers/")]),
        ("after-server-delete", [("delete", "/servers/")]),
        ("after-volume-delete", [("delete", "/volumes/")]),
    ]
    for seed in range(3 if not SLOW else 15):
        rng = random.Random(seed)
        chains.append((f"random-times-seed-{seed}", [("seconds", round(rng.uniform(0.3, 3.0), 2))
                                                     for _ in range(rng.randint(1, 3))]))
    if SLOW:
        chains += [(f"after-{k}-events", [("events", k)]) for k in (2, 4, 12, 16, 28, 33, 44, 47)]
    return chains


@pytest.mark.parametrize("points", [c[1] for c in _chains()], ids=[c[0] for c in _chains()])
def test_sigkill_then_rerun_converges_without_conflicts(world_stage: Callable[..., WorldStage],
                                                        record_figures: Callable[..., None],
                                                        points: list[tuple[str, Any]]) -> None:
    """Killed (SIGKILL) at the given points, then rerun: exit 0, no leftover, no 409, nothing kept written."""
    request_log = io.StringIO()
    stage = world_stage("demo", latency="realistic", time_scale=10.0, request_log=request_log)
    expect = Expectation.of(stage.world)
    kills = effective = 0
    for n, point in enumerate(points):
        log = stage.tmp / f"killed-{n}.log"
        kills += 1
        effective += _kill(_spawn(stage, log), log, point, request_log)
    report = stage.tmp / "final.json"
    result = stage.run("--project", "elastx", "--state", str(stage.states), "--report", str(report),
                       "--poll-interval", "0.05", "--yes")
    assert result.exit_code == ExitCode.CLEAN, result.output[-3000:]
    assert "Traceback" not in result.output
    outcomes: list[dict[str, Any]] = json.loads(report.read_text()).get("result", {}).get("outcomes", [])
    gone_already = sum(1 for o in outcomes if "404" in str(o.get("message")))
    stats = stage.sim.simulator.stats_json()
    record_figures(kills_tried=kills, kills_mid_run=effective, final_exit=int(result.exit_code),
                   final_actions=len(outcomes), already_gone_404=gone_already,
                   served_404=int(stats["by_status"].get("404", 0)), points=points)
    assert stage.conflicts() == 0, stats["by_status"]
    assert expect.leftovers() == []
    assert expect.touched() == []
    assert expect.foreign_writes(request_log.getvalue()) == []
    assert effective >= 1, "no kill landed while the cleanup was running"


def test_objects_deleted_since_planning_count_as_done(world_stage: Callable[..., WorldStage],
                                                      record_figures: Callable[..., None]) -> None:
    """A plan made before a killed run's last deletes landed: the cloud answers 404 and each counts as done."""
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.executor import DONE, Executor, ExecutorOptions
    from kubespray_cleanup.planner import Options, make_plan, now_utc
    from kubespray_cleanup.simulator import neutron, nova
    from kubespray_cleanup.sources.inventory import list_inventory

    stage = world_stage("demo")
    expect = Expectation.of(stage.world)
    conn = stage.sim.connect("elastx")
    profile = get_profile("elastx")
    plan = make_plan(list_inventory(conn).resources, stage.world.state_files(), profile, conn.current_project_id,
                     Options(now_utc(), profile.min_age, profile.state_max_age))
    store, truth = stage.world.store, expect.truth
    gone = [k for k in plan.order() if k in truth.dangling and k.split(":")[0] in ("server", "floating_ip", "volume")]
    with store.lock:  # what the killed run finished after this plan was made
        for key in gone:
            kind, rid = key.split(":", 1)
            if kind == "server":
                nova.destroy_server(store, rid)
        for key in gone:
            kind, rid = key.split(":", 1)
            if kind == "floating_ip":
                neutron.remove_floating_ip(store, rid)
            elif kind == "volume":
                store.remove("volumes", rid)
    result = Executor(conn, plan, ExecutorOptions(poll_interval=0.02)).run()
    served_404 = int(stage.sim.simulator.stats_json()["by_status"].get("404", 0))
    record_figures(deleted_before_execution=len(gone), served_404=served_404)
    assert len(gone) >= 10
    assert {o.status for o in result.outcomes.values()} == {DONE}
    assert served_404 >= len(gone)
    assert stage.conflicts() == 0
    assert expect.leftovers() == [] and expect.touched() == []
