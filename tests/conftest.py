"""Shared fixtures: simulators on free loopback ports and openstacksdk connections to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubespray_cleanup.simulator.server import SimulatorServer


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorServer]]:
    """Factory: ``make_sim(scenario="empty", latency="none", time_scale=1.0, faults=None)`` -> started server."""
    started: list[SimulatorServer] = []

    def factory(scenario: str = "empty", **kwargs: Any) -> SimulatorServer:
        server = SimulatorServer(scenario, **kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimulatorServer]) -> SimulatorServer:
    """The ``empty`` scenario with asynchronous operations compressed 1000-fold."""
    return make_sim("empty", latency="fast", time_scale=1000.0)


@pytest.fixture
def elastx(sim: SimulatorServer) -> Any:
    """openstacksdk Connection scoped to project ``elastx``."""
    return sim.connect("elastx")


@pytest.fixture
def other(sim: SimulatorServer) -> Any:
    """openstacksdk Connection scoped to project ``other``."""
    return sim.connect("other")


@pytest.fixture
def admin(sim: SimulatorServer) -> Any:
    """openstacksdk Connection with the admin role (sees every project)."""
    return sim.connect("admin")


def sim_stats(server: SimulatorServer) -> dict[str, Any]:
    """The simulator's request counters (same data as ``GET /_sim/stats``)."""
    return server.simulator.stats_json()


def conflicts(server: SimulatorServer) -> int:
    """How many 409 answers the simulator has served."""
    return int(sim_stats(server)["by_status"].get("409", 0))
