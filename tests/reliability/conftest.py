"""Reliability suite: hypothesis profiles, a figures recorder, and stages built from attributed worlds.

``TF_CLEANUP_SLOW=1`` (``tox -e slow``) selects the ``slow`` profile (1000 examples, more seeds and
kill points); the default ``ci`` profile runs 200 examples, derandomized so CI runs are reproducible.
The option is an environment variable, not ``--slow``: a ``pytest_addoption`` in this sub-directory's
conftest is not loaded when pytest starts from the repository root.

Figures (faults injected, kills tried, examples run, bad inputs tried) are written as JSON lines to
``<pytest basetemp>/reliability-figures.jsonl`` (one file per xdist worker) and asserted non-zero in
the tests that produce them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

from kubespray_cleanup.cli import main
from kubespray_cleanup.simulator.scenarios.kubespray import write_states
from kubespray_cleanup.simulator.server import SimulatorServer
from tests.reliability.world import World, build_world

SLOW = os.environ.get("TF_CLEANUP_SLOW", "") not in ("", "0")

if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # no .hypothesis/ in the work tree (examples are not stored)
    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "tf-cleanup-hypothesis"))

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("slow", max_examples=1000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = "slow" if SLOW else "ci"
FAST = ("--poll-interval", "0.02", "--yes")


def scaled(ci: int, slow: int) -> int:
    """A count for this run: ``ci`` normally, ``slow`` under TF_CLEANUP_SLOW=1."""
    return slow if SLOW else ci


@dataclass
class WorldStage:
    """A started simulator over an attributed world, with its clouds.yaml and states on disk."""

    world: World
    sim: SimulatorServer
    clouds: Path
    states: Path
    tmp: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {"OS_CLIENT_CONFIG_FILE": str(self.clouds), "CI": "true", "OS_CLOUD": "", **extra}

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return CliRunner().invoke(main, list(args), env=self.env(**(env or {})), catch_exceptions=False)

    def conflicts(self) -> int:
        return int(self.sim.simulator.stats_json()["by_status"].get("409", 0))

    def requests(self, method: str) -> int:
        return sum(r["count"] for r in self.sim.simulator.stats_json()["routes"] if r["method"] == method)


@pytest.fixture
def world_stage(tmp_path: Path) -> Iterator[Callable[..., WorldStage]]:
    """Factory: ``world_stage(document_or_name, latency=..., time_scale=..., faults=..., request_log=...)``."""
    started: list[SimulatorServer] = []

    def factory(document: dict[str, Any] | str = "demo", *, world: World | None = None, latency: str = "fast",
                time_scale: float = 200.0, faults: str | None = None, request_log: Any = None,
                subdir: str = "", rate_limit: str | None = None) -> WorldStage:
        world = world or build_world(document)
        sim = world.serve(latency=latency, time_scale=time_scale, faults=faults, request_log=request_log,
                          rate_limit=rate_limit)
        started.append(sim)
        base = tmp_path / subdir if subdir else tmp_path
        clouds = sim.write_clouds_yaml(base / "clouds.yaml")
        states = base / "states"
        write_states(world.scenario, states)
        return WorldStage(world, sim, clouds, states, base)

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture(scope="session")
def figures_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "reliability-figures.jsonl"


@pytest.fixture
def record_figures(figures_file: Path, request: pytest.FixtureRequest,
                   record_property: Callable[[str, object], None]) -> Callable[..., None]:
    """Append one JSON line of figures for the running test (and attach them to the junit report)."""
    def record(**figures: Any) -> None:
        line = {"test": request.node.nodeid, "time": round(time.time(), 3), **figures}
        with figures_file.open("a") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        for key, value in figures.items():
            record_property(key, value)

    return record
