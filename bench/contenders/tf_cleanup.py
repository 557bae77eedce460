"""Contender 1, this project: the real engine in-process (states, inventory, plan, Executor), timed per phase."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.contenders import Attempt, Target

PROFILE = "elastx"


def poll_interval(time_scale: float) -> float:
    """One simulated second between checks of pending asynchronous deletes (as ``tf-cleanup demo`` uses)."""
    return max(0.02, 1.0 / time_scale)


@contextlib.contextmanager
def engine_logs(path: Path) -> Iterator[None]:
    """The engine's structlog events as JSON lines in ``path`` instead of the bench's terminal."""
    from kubespray_cleanup import logs

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as stream:
        logs.configure(logs.JSON, stream=stream)
        try:
            yield
        finally:
            logs.configure(logs.JSON, stream=open(os.devnull, "w"))  # noqa: SIM115 - lives with the process


def settings(target: Target, **executor: Any) -> Any:
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.executor import ExecutorOptions
    from kubespray_cleanup.settings import Settings

    options = {"max_parallel": 16, "poll_interval": poll_interval(target.time_scale), "run_timeout": 3600.0,
               "resource_timeout": 600.0, **executor}
    return Settings(profile=get_profile(PROFILE), cloud=target.cloud, state_paths=(str(target.states_dir),),
                       executor=ExecutorOptions(**options))


def plan_only(target: Target) -> Any:
    """The plan a dry run shows (nothing is changed): the bench's source of the critical-path bound."""
    from kubespray_cleanup.cleanup import gather_states, plan_run
    from kubespray_cleanup.sources.credentials import CloudChoice, connect

    os.environ["OS_CLIENT_CONFIG_FILE"] = str(target.clouds_yaml)
    run_settings = settings(target)
    with engine_logs(target.log_path):
        states, warnings = gather_states(run_settings)
        conn = connect(CloudChoice(run_settings.cloud, "bench"))
        try:
            return plan_run(conn, run_settings, states, warnings)
        finally:
            conn.close()


def run(target: Target, **executor: Any) -> Attempt:
    from kubespray_cleanup.cleanup import exit_code_for, gather_states, plan_run
    from kubespray_cleanup.executor import Executor
    from kubespray_cleanup.sources.credentials import CloudChoice, connect

    os.environ["OS_CLIENT_CONFIG_FILE"] = str(target.clouds_yaml)
    run_settings = settings(target, **executor)
    marks = [("start", time.perf_counter())]
    cpu = [time.process_time()]
    with engine_logs(target.log_path):
        states, warnings = gather_states(run_settings)
        marks.append(("read_states", time.perf_counter()))
        cpu.append(time.process_time())
        conn = connect(CloudChoice(run_settings.cloud, "bench"))
        marks.append(("authenticate", time.perf_counter()))
        cpu.append(time.process_time())
        try:
            plan = plan_run(conn, run_settings, states, warnings)
            marks.append(("list_and_plan", time.perf_counter()))
            cpu.append(time.process_time())
            result = Executor(conn, plan, run_settings.executor).run()
            marks.append(("execute", time.perf_counter()))
            cpu.append(time.process_time())
        finally:
            conn.close()
    phases = {name: round(t - marks[i][1], 4) for i, (name, t) in enumerate(marks[1:])}
    cpu_phases = {name: round(cpu[i + 1] - cpu[i], 4) for i, (name, _) in enumerate(marks[1:len(cpu)])}
    counts: dict[str, int] = {}
    for outcome in result.outcomes.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    waits = sorted((o.seconds for o in result.outcomes.values()), reverse=True)[:3]
    return Attempt(
        phases=phases,
        error=None if result.clean else f"{len(result.root_causes)} root cause(s): "
                                        + "; ".join(o.message for o in result.root_causes[:3]),
        details={"exit_code": int(exit_code_for(plan, result)), "plan": dict(plan.by_decision()),
                 "actions": len(plan.order()), "outcomes": counts, "poll_interval": run_settings.executor.poll_interval,
                 "slowest_actions_s": [round(w, 3) for w in waits], "cpu_s_by_phase": cpu_phases},
    )
