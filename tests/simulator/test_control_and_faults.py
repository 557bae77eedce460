"""Observability endpoints, injected faults and token expiry, driven through openstacksdk and plain HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from openstack import exceptions

from kubespray_cleanup.simulator.faults import FaultSpec
from kubespray_cleanup.simulator.server import SimulatorServer


def test_sim_stats_counts_409_answers(sim: SimulatorServer, elastx: Any) -> None:
    """GET /_sim/stats reports how many 409s were served, by route."""
    net = elastx.network.create_network(name="n")
    elastx.network.create_subnet(network_id=net.id, cidr="10.9.0.0/24", ip_version=4)
    elastx.network.create_port(network_id=net.id, name="p")
    with pytest.raises(exceptions.ConflictException):
        elastx.network.delete_network(net.id)
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()
    assert stats["by_status"]["409"] == 1
    assert any(r["status"] == 409 and r["method"] == "DELETE" for r in stats["routes"])


def test_sim_state_lists_current_resources(sim: SimulatorServer, elastx: Any) -> None:
    """GET /_sim/state returns every table, without internal fields."""
    elastx.network.create_network(name="visible")
    state = requests.get(f"{sim.url}/_sim/state", timeout=5).json()
    assert "visible" in {n["name"] for n in state["networks"]}
    assert not any(k.startswith("_") for n in state["networks"] for k in n)


@pytest.mark.parametrize("kind, status", [("500", 500), ("503", 503), ("429", 429)])
def test_injected_http_faults_reach_the_client(make_sim: Callable[..., SimulatorServer], kind: str,
                                               status: int) -> None:
    """A fault with probability 1 on GET answers every list with that status (429 with Retry-After)."""
    server = make_sim("empty", faults=f"{kind}=1.0,methods=GET")
    conn = server.connect("elastx")
    conn.authorize()
    with pytest.raises(exceptions.HttpException) as err:
        list(conn.network.networks())
    assert err.value.status_code == status
    if status == 429:
        assert err.value.response.headers["Retry-After"] == "1"


def test_fault_spec_rejects_unknown_keys_and_bad_rates() -> None:
    """The --faults spec fails with a readable message on typos and impossible probabilities."""
    with pytest.raises(ValueError, match="unknown fault spec key"):
        FaultSpec.parse("oops=1")
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        FaultSpec.parse("500=0.8,503=0.8")
    assert FaultSpec.parse("rate=0.05,seed=3").rates["drop"] == pytest.approx(0.01)


def test_expired_token_is_renewed_by_keystoneauth(make_sim: Callable[..., SimulatorServer]) -> None:
    """Short-lived tokens are renewed by keystoneauth (before expiry, or after a 401) and calls keep working."""
    server = make_sim("empty", faults="token_ttl=0.3")
    conn = server.connect("elastx")
    assert [n.name for n in conn.network.networks()] == ["public"]
    time.sleep(0.5)
    assert [n.name for n in conn.network.networks()] == ["public"]
    stats = server.simulator.stats_json()
    assert sum(r["count"] for r in stats["routes"] if r["route"] == "/identity/v3/auth/tokens") >= 2
