"""End-to-end fixtures: a simulator with a Kubespray scenario, its clouds.yaml and states, and a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubespray_cleanup.cli import main
from kubespray_cleanup.simulator.server import SimulatorServer


@dataclass
class Stage:
    sim: SimulatorServer
    clouds: Path
    states: Path
    tmp: Path

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        runner = CliRunner()
        base_env = {"OS_CLIENT_CONFIG_FILE": str(self.clouds), "CI": "true", "OS_CLOUD": "",
                    "XDG_STATE_HOME": str(self.tmp / "state")}
        base_env.update(env or {})
        return runner.invoke(main, list(args), env=base_env, catch_exceptions=False)

    def names(self) -> set[str]:
        return {str(r.get("name")) for rows in self.sim.store.snapshot().values() for r in rows if r.get("name")}

    def ids(self) -> set[str]:
        return {str(r.get("id")) for rows in self.sim.store.snapshot().values() for r in rows}

    def requests(self, method: str) -> int:
        return sum(r["count"] for r in self.sim.simulator.stats_json()["routes"] if r["method"] == method)

    def conflicts(self) -> int:
        return int(self.sim.simulator.stats_json()["by_status"].get("409", 0))

    def report(self, path: Path) -> dict[str, Any]:
        return dict(json.loads(path.read_text()))


@pytest.fixture
def stage(make_sim: Callable[..., SimulatorServer], tmp_path: Path) -> Callable[..., Stage]:
    def factory(scenario: str = "demo", **kwargs: Any) -> Stage:
        from kubespray_cleanup.simulator.scenarios.kubespray import write_states

        kwargs.setdefault("latency", "fast")
        kwargs.setdefault("time_scale", 200.0)
        sim = make_sim(scenario, **kwargs)
        clouds = sim.write_clouds_yaml(tmp_path / "clouds.yaml")
        states = tmp_path / "states"
        write_states(sim.scenario, states)
        return Stage(sim, clouds, states, tmp_path)

    return factory


FAST = ("--poll-interval", "0.02", "--yes")
