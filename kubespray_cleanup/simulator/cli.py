"""``tf-cleanup simulator serve``: run the simulator in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

import click


def serve(host: str, port: int, scenario: str, latency: str, time_scale: float, faults: str | None,
          clouds_yaml: str | None, states_dir: str | None, request_log: str | None,
          rate_limit: str | None = None) -> None:
    from kubespray_cleanup.simulator.scenarios import ScenarioError
    from kubespray_cleanup.simulator.server import SimulatorServer

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError("the simulator only listens on loopback (127.0.0.1, localhost, ::1)")
    try:
        log_file: IO[str] | None = open(request_log, "a") if request_log else None  # noqa: SIM115 - lives until exit
    except OSError as exc:
        raise click.UsageError(f"cannot open request log {request_log}: {exc.strerror}") from None
    try:
        server = SimulatorServer(scenario, host=host, port=port, latency=latency, time_scale=time_scale,
                                 faults=faults, request_log=log_file, rate_limit=rate_limit)
    except (ScenarioError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    try:
        if clouds_yaml:
            server.write_clouds_yaml(Path(clouds_yaml))
        if states_dir:
            from kubespray_cleanup.simulator.scenarios.kubespray import write_states

            write_states(server.scenario, Path(states_dir))
    except OSError as exc:
        server.close()
        raise click.UsageError(f"cannot write {exc.filename}: {exc.strerror}") from None
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            server.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = server.store.count()
    click.echo(f"simulator: scenario {server.scenario.name} ({sum(counts.values())} resources, loaded in "
               f"{server.load_seconds:.2f} s) at {server.url}"
               f"{f', clouds.yaml {clouds_yaml}' if clouds_yaml else ''}", err=True)
    sys.stderr.flush()
    server.serve_forever()
    if log_file is not None:
        log_file.close()
    click.echo("simulator: stopped", err=True)


DEMO_TOKEN = "glpat-simulator-read-api"  # accepted by the simulated GitLab only; printed for local use


def gitlab_seed(scenario: Any, with_states: bool) -> dict[str, Any]:
    """Plain seed data for the simulated GitLab from a loaded scenario: its ``gitlab_jobs:`` statuses (running
    jobs as old as their cluster), and optionally its Terraform states as GitLab-managed states named after the
    job id (live pipelines' states locked)."""
    import json
    import time

    jobs = []
    for job, status in sorted(scenario.gitlab_jobs.items()):
        jobs.append({"id": int(job), "status": status, "age_minutes": 60, "finished_minutes_ago": 5})
    states: dict[str, Any] = {}
    if with_states:
        for name, document in sorted(scenario.states.items()):
            job = name.split("/", 1)[0]
            updated = max(0.0, (time.time() - scenario.state_mtimes.get(name, time.time())) / 60)
            states[job] = {"content": json.dumps(document), "locked": name in scenario.state_locks,
                           "updated_minutes_ago": updated}
    return {"jobs": jobs, "states": states, "tokens": {DEMO_TOKEN: ["api", "read_api"]}}


def serve_gitlab(host: str, port: int, scenario: str, project_id: int, project_path: str, with_states: bool) -> None:
    from kubespray_cleanup.simulator.gitlab import start_gitlab
    from kubespray_cleanup.simulator.scenarios import ScenarioError, load_scenario
    from kubespray_cleanup.simulator.store import Store

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError("the simulator only listens on loopback (127.0.0.1, localhost, ::1)")
    try:
        loaded = load_scenario(Store(), scenario)
    except (ScenarioError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        server = start_gitlab(host=host, port=port, project_id=project_id, project_path=project_path,
                              **gitlab_seed(loaded, with_states))
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    click.echo(f"simulated GitLab: project {project_id} ({project_path}), {len(loaded.gitlab_jobs)} jobs from "
               f"scenario {loaded.name} at {server.url}; token {DEMO_TOKEN} (read_api, api)", err=True)
    sys.stderr.flush()
    stopping.wait()
    server.stop()
    click.echo("simulated GitLab: stopped", err=True)
