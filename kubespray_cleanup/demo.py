"""``tf-cleanup demo``: the real cleanup against the bundled simulator and a Kubespray CI scenario."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from kubespray_cleanup.errors import ExitCode


def run_demo(time_scale: float = 20.0, latency: str = "realistic", output: str = "text",
             scenario: str = "demo") -> ExitCode:
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.executor import ExecutorOptions
    from kubespray_cleanup.runner import run_cleanup
    from kubespray_cleanup.settings import Settings
    from kubespray_cleanup.simulator.kubespray import write_states
    from kubespray_cleanup.simulator.server import running_simulator

    with tempfile.TemporaryDirectory(prefix="tf-cleanup-demo-") as tmp, \
            running_simulator(scenario, latency=latency, time_scale=time_scale) as sim:
        work = Path(tmp)
        clouds = sim.write_clouds_yaml(work / "clouds.yaml")
        states = write_states(sim.scenario, work / "states")
        before = sim.store.snapshot()
        if output == "text":
            _describe(sim, states, before)
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds)
        started = time.monotonic()
        settings = Settings(
            profile=get_profile("elastx"), cloud="elastx", state_paths=(str(work / "states"),), yes=True,
            output=output, journal_path=work / "journal.jsonl", lock_dir=work / "locks", progress=False,
            executor=ExecutorOptions(max_parallel=16, run_timeout=900, resource_timeout=300,
                                     poll_interval=max(0.02, 1.0 / time_scale)),
        )
        code = run_cleanup(settings)
        wall = time.monotonic() - started
        stats = sim.simulator.stats_json()
        if output == "text":
            _verdict(sim, before, stats, wall)
        return code


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
               if r.get("id") not in ids_after and any(str(r.get("name", "")).startswith(f"{j}-") or
                                                        str(r.get("name", "")) in (f"ci-{j}", f"kubernetes-{j}")
                                                        for j in live_jobs)]
    click.echo(f"\nDemo: {removed} objects gone from the cloud (incl. cascades) in {wall:.1f}s, "
               f"{stats['total']} API requests, {conflicts} x 409.")
    click.echo(f"Live pipelines {', '.join(live_jobs) or '-'}: "
               f"{'untouched' if not touched else 'TOUCHED: ' + ', '.join(map(str, touched))}.")
