"""Every variant of Kubespray's OpenStack module, end to end: cancelled jobs without state go completely, running
jobs with a locked state stay exactly as they were (scenario ``kubespray-full``)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator.scenarios.kubespray import write_states
from tests.e2e.conftest import FAST
from tests.reliability.checks import Expectation
from tests.reliability.conftest import WorldStage
from tests.reliability.world import build_world


@pytest.fixture
def full(tmp_path: Path) -> Iterator[tuple[WorldStage, io.StringIO]]:
    log = io.StringIO()
    world = build_world("kubespray-full")
    sim = world.serve(request_log=log)
    states = tmp_path / "states"
    write_states(world.scenario, states)
    yield WorldStage(world, sim, sim.write_clouds_yaml(tmp_path / "clouds.yaml"), states, tmp_path), log
    sim.stop()


def test_cancelled_jobs_of_every_module_variant_are_cleaned_completely(
        full: tuple[WorldStage, io.StringIO]) -> None:
    """Jobs 4720/4721 (no state; networks named ``internal``, server groups without prefix, boot volumes, CSI
    volumes, gfs nodes, map-keyed hosts, extra groups, C-router, the API LB) leave nothing, with no 409; the
    running jobs 4730/4731 are untouched and no write request names one of their objects."""
    st, log = full
    expect = Expectation.of(st.world)
    kinds = {key.split(":")[0] for key in expect.dangling}
    assert {"server_group", "volume", "load_balancer", "router", "keypair", "network"} <= kinds
    assert expect.leftovers(), "the scenario leaks nothing: the test would prove nothing"
    result = st.run("--project", "elastx", "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert expect.leftovers() == []
    assert expect.touched() == []
    assert expect.foreign_writes(log.getvalue()) == []
    assert st.conflicts() == 0
