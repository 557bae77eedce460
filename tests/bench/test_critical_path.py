"""The critical-path bound: node-weighted longest chain of a plan's action graph, in wall seconds."""

from __future__ import annotations

from types import SimpleNamespace

import networkx as nx
import pytest

from bench.critical_path import bound, delete_duration, longest_path, plan_bound, request_latency
from kubespray_cleanup.model import Kind
from kubespray_cleanup.simulator.latency import LatencyProfile

PROFILE = LatencyProfile("test", request=0.1, services={"network": 0.01, "compute": 0.02, "load-balancer": 0.03},
                         operations={"server.delete": 5.0, "load_balancer.delete": 20.0, "volume.delete": 3.0})


def test_longest_path_sums_node_weights_along_the_heaviest_chain() -> None:
    """a(1) -> b(2) -> d(4) outweighs a(1) -> c(1) -> d(4)."""
    graph = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    total, chain = longest_path(graph, {"a": 1.0, "b": 2.0, "c": 1.0, "d": 4.0}.__getitem__)
    assert total == 7.0
    assert chain == ("a", "b", "d")


def test_parallel_chains_take_the_maximum_not_the_sum() -> None:
    """Independent work runs side by side: the bound is the slowest chain alone."""
    graph = nx.DiGraph([("a", "b"), ("x", "y")])
    total, chain = longest_path(graph, {"a": 1.0, "b": 1.0, "x": 5.0, "y": 0.5}.__getitem__)
    assert total == 5.5
    assert chain == ("x", "y")


def test_an_empty_graph_has_no_bound() -> None:
    assert longest_path(nx.DiGraph(), lambda node: 1.0) == (0.0, ())


def test_a_lone_node_is_its_own_critical_path() -> None:
    graph = nx.DiGraph()
    graph.add_node("only")
    assert longest_path(graph, lambda node: 2.5) == (2.5, ("only",))


def test_synchronous_kinds_weigh_one_request_of_their_service() -> None:
    assert request_latency(Kind.PORT, PROFILE) == pytest.approx(0.01)
    assert delete_duration(Kind.SECURITY_GROUP, PROFILE) == pytest.approx(0.01)
    assert delete_duration(Kind.KEYPAIR, PROFILE) == pytest.approx(0.02)


def test_asynchronous_kinds_add_their_operation_to_the_request() -> None:
    assert delete_duration(Kind.SERVER, PROFILE) == pytest.approx(5.02)
    assert delete_duration(Kind.LOAD_BALANCER, PROFILE) == pytest.approx(20.03)
    assert delete_duration(Kind.VOLUME, PROFILE) == pytest.approx(3.1)  # volume service: default request latency


def test_bound_is_simulated_seconds_divided_by_the_time_scale() -> None:
    graph = nx.DiGraph([("server", "port"), ("port", "network")])
    kinds = {"server": Kind.SERVER, "port": Kind.PORT, "network": Kind.NETWORK}
    path = bound(graph, kinds, PROFILE, time_scale=10.0)
    assert path.simulated_seconds == pytest.approx(5.04)
    assert path.seconds == pytest.approx(0.504)
    assert path.path == ("server", "port", "network")


def _plan(edges: list[tuple[str, str, str]], kinds: dict[str, Kind]) -> SimpleNamespace:
    graph = nx.DiGraph()
    graph.add_nodes_from(kinds)
    for before, after, reason in edges:
        graph.add_edge(before, after, reason=reason)
    entries = {key: SimpleNamespace(resource=SimpleNamespace(kind=kind)) for key, kind in kinds.items()}
    return SimpleNamespace(entries=entries, action_graph=lambda: graph.copy())


def test_plan_bound_can_leave_out_edges_by_reason() -> None:
    """A Terraform create-order edge (load balancer before server) lengthens the plan's chain, not the physical one."""
    plan = _plan([("lb", "server", "tfstate.dependencies"), ("server", "port", "port.device_id"),
                  ("lb", "subnet", "load_balancer.vip_subnet_id"), ("port", "subnet", "port.fixed_ips.subnet_id")],
                 {"lb": Kind.LOAD_BALANCER, "server": Kind.SERVER, "port": Kind.PORT, "subnet": Kind.SUBNET})
    full = plan_bound(plan, PROFILE, 1.0)
    physical = plan_bound(plan, PROFILE, 1.0, skip_reasons=("tfstate.dependencies",))
    assert full.path == ("lb", "server", "port", "subnet")
    assert full.simulated_seconds == pytest.approx(20.03 + 5.02 + 0.01 + 0.01)
    assert physical.path == ("lb", "subnet")
    assert physical.simulated_seconds == pytest.approx(20.04)
