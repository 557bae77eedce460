"""``tf-cleanup demo``: the real cleanup against the bundled simulator and a Kubespray CI scenario."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from kubespray_cleanup.config import get_profile
from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.executor import ExecutorOptions
from kubespray_cleanup.runner import run_cleanup
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.simulator.cli import DEMO_TOKEN, gitlab_seed
from kubespray_cleanup.simulator.gitlab import start_gitlab
from kubespray_cleanup.simulator.scenarios.kubespray import write_states
from kubespray_cleanup.simulator.server import running_simulator
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig


def run_demo(time_scale: float = 20.0, latency: str = "realistic", output: str = "text",
             scenario: str | None = None, gitlab: bool = False) -> ExitCode:
    """The cleanup against the simulator; with ``gitlab`` a simulated GitLab beside it decides liveness by job
    status (scenario ``gitlab``: a job cancelled minutes ago is cleaned at once, one running for hours kept)."""
    scenario = scenario or ("gitlab" if gitlab else "demo")
    with tempfile.TemporaryDirectory(prefix="tf-cleanup-demo-") as tmp, \
            running_simulator(scenario, latency=latency, time_scale=time_scale) as sim, \
            _gitlab_beside(sim.scenario if gitlab else None) as gitlab_config:
        work = Path(tmp)
        clouds = sim.write_clouds_yaml(work / "clouds.yaml")
        states = write_states(sim.scenario, work / "states")
        before = sim.store.snapshot()
        if output == "text":
            _describe(sim, states, before)
            if gitlab_config is not None:
                jobs = ", ".join(f"{j} {st}" for j, st in sorted(sim.scenario.gitlab_jobs.items()))
                click.echo(f"  simulated GitLab at {gitlab_config.url}: jobs {jobs}\n")
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
        started = time.monotonic()
        settings = Settings(
            profile=get_profile("elastx"), cloud="elastx", state_paths=(str(work / "states"),), yes=True,
            output=output, journal_path=work / "journal.jsonl", lock_dir=work / "locks", progress=False,
            gitlab=gitlab_config,
            executor=ExecutorOptions(max_parallel=16, run_timeout=900, resource_timeout=300,
                                     poll_interval=max(0.02, 1.0 / time_scale)),
        )
        code = run_cleanup(settings)
        wall = time.monotonic() - started
        stats = sim.simulator.stats_json()
        if output == "text":
            _verdict(sim, before, stats, wall)
            if gitlab_config is not None:
                _gitlab_verdict(sim, before)
        return code


@contextlib.contextmanager
def _gitlab_beside(scenario: Any) -> Iterator[Any]:
    """A simulated GitLab seeded with the scenario's job statuses, and the config a CI job would build for it."""
    if scenario is None:
        yield None
        return
    server = start_gitlab(project_id=42, **gitlab_seed(scenario, with_states=False))
    try:
        yield GitLabConfig(url=server.url, project="42", token=DEMO_TOKEN)
    finally:
        server.stop()


def _gitlab_verdict(sim: Any, before: dict[str, list[dict[str, Any]]]) -> None:
    names = {str(r.get("name")) for rows in sim.store.snapshot().values() for r in rows}
    was = {str(r.get("name")) for rows in before.values() for r in rows}
    for job, status in sorted(sim.scenario.gitlab_jobs.items()):
        mine = {n for n in was if _named_for(n, job)}
        left = mine & names
        fate = "untouched" if left == mine else ("gone" if not left else f"{len(left)} of {len(mine)} left")
        click.echo(f"Job {job} ({status} in GitLab): {fate}.")


def _describe(sim: Any, states: list[Path], before: dict[str, list[dict[str, Any]]]) -> None:
    clusters = getattr(sim.scenario, "clusters", {}) or {}
    total = sum(len(v) for v in before.values())
    click.echo(f"Simulated OpenStack at {sim.url}: scenario {sim.scenario.name}, {total} resources.")
    for fate, jobs in sorted(clusters.items()):
        click.echo(f"  {fate:<8} pipelines: {', '.join(map(str, jobs))}")
    click.echo(f"  {len(states)} Terraform state file(s) left by pipelines\n")


def _verdict(sim: Any, before: dict[str, list[dict[str, Any]]], stats: dict[str, Any], wall: float) -> None:
    after = sim.store.snapshot()
    ids_after = {r.get("id") for rows in after.values() for r in rows}
    removed = sum(1 for rows in before.values() for r in rows if r.get("id") not in ids_after)
    conflicts = stats["by_status"].get("409", 0)
    clusters = getattr(sim.scenario, "clusters", {}) or {}
    live_jobs = [str(j) for j in clusters.get("live", [])]
    touched = [r.get("name") for rows in before.values() for r in rows
               if r.get("id") not in ids_after and any(_named_for(str(r.get("name", "")), j) for j in live_jobs)]
    click.echo(f"\nDemo: {removed} objects gone from the cloud (incl. cascades) in {wall:.1f}s, "
               f"{stats['total']} API requests, {conflicts} x 409.")
    click.echo(f"Live pipelines {', '.join(live_jobs) or '-'}: "
               f"{'untouched' if not touched else 'TOUCHED: ' + ', '.join(map(str, touched))}.")


def _named_for(name: str, job: str) -> bool:
    """Whether a resource name is one the CI job ``job`` gives (``<job>-...``, ``ci-<job>``, ``kubernetes-<job>``)."""
    return name.startswith(f"{job}-") or name in (f"ci-{job}", f"kubernetes-{job}")
