"""Octavia delete rules O1-O6 (openstack-dependencies.md §5 and §10), one test per rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.latency import LatencyProfile
from kubespray_cleanup.simulator.server import SimulatorServer
from tests.conftest import conflicts
from tests.simulator.test_octavia_support import assert_fault, build_lb, make_subnet, seed_lb, wait_active, wait_gone

# Child operations take one real second, so a second request lands while the first is in progress.
SLOW_CHILDREN = LatencyProfile("slow-children", operations={"load_balancer.child_delete": 1.0})


def test_lb_delete_with_children_without_cascade_is_400_has_children(elastx: Any) -> None:
    """O1: DELETE of an LB that still has listeners/pools, without cascade, is 400 'it has children'."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.load_balancer.delete_load_balancer(ids["lb"], ignore_missing=False)
    assert_fault(err.value, 400, f"Validation failure: Cannot delete Load Balancer {ids['lb']} - it has children")
    assert elastx.load_balancer.get_load_balancer(ids["lb"]).provisioning_status == "ACTIVE"


def test_lb_delete_with_only_a_pool_is_400_has_children(elastx: Any) -> None:
    """O1: a pool alone (no listener) also counts as a child."""
    lb = elastx.load_balancer.create_load_balancer(name="p-only", vip_subnet_id=make_subnet(elastx).id)
    wait_active(elastx, lb.id)
    elastx.load_balancer.create_pool(loadbalancer_id=lb.id, protocol="TCP", lb_algorithm="ROUND_ROBIN")
    wait_active(elastx, lb.id)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.load_balancer.delete_load_balancer(lb.id)
    assert_fault(err.value, 400, f"Validation failure: Cannot delete Load Balancer {lb.id} - it has children")


def test_lb_delete_while_pending_update_is_409_invalid_state(sim: SimulatorServer, elastx: Any) -> None:
    """O2: an LB stuck in PENDING_UPDATE cannot be deleted, even with cascade (409 Invalid state)."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id, status="PENDING_UPDATE", stuck=True)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    assert_fault(err.value, 409, f"Invalid state PENDING_UPDATE of loadbalancer resource {ids['lb']}")
    assert conflicts(sim) == 1


def test_lb_second_delete_while_pending_delete_is_409_invalid_state(
        make_sim: Callable[..., SimulatorServer]) -> None:
    """O2: a second cascade delete while the first is in progress answers 409 Invalid state PENDING_DELETE."""
    sim = make_sim("empty", latency="fast", time_scale=1.0)  # the delete takes 2 s here
    elastx = sim.connect("elastx")
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id)
    elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    assert_fault(err.value, 409, f"Invalid state PENDING_DELETE of loadbalancer resource {ids['lb']}")


def test_lb_delete_while_pending_create_is_409_invalid_state(make_sim: Callable[..., SimulatorServer]) -> None:
    """O2: an LB still being built (PENDING_CREATE) cannot be deleted."""
    sim = make_sim("empty", latency="fast", time_scale=1.0)  # the create takes 3 s here
    elastx = sim.connect("elastx")
    lb = elastx.load_balancer.create_load_balancer(name="young", vip_subnet_id=make_subnet(elastx).id)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_load_balancer(lb.id)
    assert_fault(err.value, 409, f"Invalid state PENDING_CREATE of loadbalancer resource {lb.id}")


def test_child_delete_while_lb_not_active_is_409_lb_immutable(sim: SimulatorServer, elastx: Any) -> None:
    """O3: listener/pool/member/HM deletes on a non-ACTIVE LB answer 409 'Load Balancer ... is immutable'."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id, status="PENDING_UPDATE", stuck=True)
    message = f"Load Balancer {ids['lb']} is immutable and cannot be updated."
    lbc = elastx.load_balancer
    for delete in (lambda: lbc.delete_listener(ids["listener"]), lambda: lbc.delete_pool(ids["pool"])):
        with pytest.raises(exceptions.ConflictException) as err:
            delete()
        assert_fault(err.value, 409, message)


def test_child_delete_on_error_lb_is_409_lb_immutable(sim: SimulatorServer, elastx: Any) -> None:
    """O3: children of an LB in ERROR cannot be deleted one by one; cascade delete of the LB works."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id, status="ERROR")
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_listener(ids["listener"])
    assert_fault(err.value, 409, f"Load Balancer {ids['lb']} is immutable and cannot be updated.")
    elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    wait_gone(elastx, ids["lb"])


def test_second_child_delete_before_lb_settles_is_409_lb_immutable(
        make_sim: Callable[..., SimulatorServer]) -> None:
    """O3: deleting a child puts the LB in PENDING_UPDATE, so an immediate second child delete is refused."""
    sim = make_sim("empty", latency=SLOW_CHILDREN)
    elastx = sim.connect("elastx")
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id)
    elastx.load_balancer.delete_listener(ids["listener"])
    assert elastx.load_balancer.get_load_balancer(ids["lb"]).provisioning_status == "PENDING_UPDATE"
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_pool(ids["pool"])
    assert_fault(err.value, 409, f"Load Balancer {ids['lb']} is immutable and cannot be updated.")
    wait_active(elastx, ids["lb"])
    elastx.load_balancer.delete_pool(ids["pool"])


def test_member_delete_while_pool_not_active_is_409_pool_immutable(
        make_sim: Callable[..., SimulatorServer]) -> None:
    """O4: a member delete sets its pool PENDING_UPDATE; the next member/HM delete gets 409 'Pool ... immutable'."""
    sim = make_sim("empty", latency=SLOW_CHILDREN)
    elastx = sim.connect("elastx")
    subnet = make_subnet(elastx)
    ids = seed_lb(sim, "elastx", subnet.id)
    with sim.store.lock:
        from kubespray_cleanup.simulator import octavia

        second = octavia.create_member(sim.store, ids["pool"], "10.20.0.61", 30443, subnet_id=subnet.id)
    elastx.load_balancer.delete_member(ids["member"], ids["pool"])
    message = f"Pool {ids['pool']} is immutable and cannot be updated."
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_member(second["id"], ids["pool"])
    assert_fault(err.value, 409, message)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.load_balancer.delete_health_monitor(ids["hm"])
    assert_fault(err.value, 409, message)


def test_pool_delete_used_by_l7policy_is_409_pool_in_use(elastx: Any) -> None:
    """O5: a pool an L7 policy redirects to cannot be deleted (409 'in use by L7 policy')."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    lbc = elastx.load_balancer
    target = lbc.create_pool(loadbalancer_id=ids["lb"], protocol="TCP", lb_algorithm="ROUND_ROBIN", name="blue")
    wait_active(elastx, ids["lb"])
    policy = lbc.create_l7_policy(listener_id=ids["listener"], action="REDIRECT_TO_POOL", redirect_pool_id=target.id)
    wait_active(elastx, ids["lb"])
    with pytest.raises(exceptions.ConflictException) as err:
        lbc.delete_pool(target.id)
    assert_fault(err.value, 409, f"Pool {target.id} is in use by L7 policy {policy.id}")
    lbc.delete_l7_policy(policy.id)
    wait_active(elastx, ids["lb"])
    lbc.delete_pool(target.id)


def test_missing_object_is_404_not_found(elastx: Any) -> None:
    """O6: GET and DELETE of an unknown id answer 404 '<Resource> <id> not found.'."""
    rid = "0c1f5d0e-7d53-4c3f-9f52-7a9e8f4d2b11"
    for kind, name in (("load_balancer", "Load Balancer"), ("listener", "Listener"), ("pool", "Pool"),
                       ("health_monitor", "Health Monitor"), ("l7_policy", "L7 Policy")):
        getter = getattr(elastx.load_balancer, f"get_{kind}")
        deleter = getattr(elastx.load_balancer, f"delete_{kind}")
        for call in (lambda: getter(rid), lambda: deleter(rid, ignore_missing=False)):  # noqa: B023
            with pytest.raises(exceptions.NotFoundException) as err:
                call()
            assert_fault(err.value, 404, f"{name} {rid} not found.")


def test_missing_member_is_404_not_found(sim: SimulatorServer, elastx: Any) -> None:
    """O6: members answer 'Member <id> not found.'; an unknown pool in the URL 'Pool <id> not found.'."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id)
    rid = "0c1f5d0e-7d53-4c3f-9f52-7a9e8f4d2b11"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.load_balancer.delete_member(rid, ids["pool"], ignore_missing=False)
    assert_fault(err.value, 404, f"Member {rid} not found.")
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.load_balancer.get_member(ids["member"], rid)
    assert_fault(err.value, 404, f"Pool {rid} not found.")


def test_deleted_lb_is_404_and_absent_from_lists(elastx: Any) -> None:
    """O6: once the async delete finished, the LB answers 404 and is no longer listed."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    wait_gone(elastx, ids["lb"])
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.load_balancer.delete_load_balancer(ids["lb"], ignore_missing=False)
    assert_fault(err.value, 404, f"Load Balancer {ids['lb']} not found.")
    assert list(elastx.load_balancer.load_balancers()) == []
    for kind in ("listeners", "pools", "health_monitors"):
        assert list(getattr(elastx.load_balancer, kind)()) == []
