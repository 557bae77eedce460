"""Octavia side effects: cascade deletes, VIP port handling, floating IPs, and the asynchronous status sequences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.server import SimulatorServer
from tests.simulator.test_octavia_support import build_lb, make_subnet, observe, seed_lb, wait_active, wait_gone


def _external_network_id(conn: Any) -> str:
    return str(next(iter(conn.network.networks(is_router_external=True))).id)


def test_lb_cascade_delete_removes_children_and_octavia_vip_port(elastx: Any) -> None:
    """Cascade removes listeners, pools, members, HMs and the VIP port Octavia created for the LB."""
    subnet = make_subnet(elastx)
    ids = build_lb(elastx, subnet.id)
    port = elastx.network.get_port(ids["vip_port"])
    assert (port.name, port.device_owner, port.device_id) == (f"octavia-lb-{ids['lb']}", "Octavia",
                                                              f"lb-{ids['lb']}")
    elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    wait_gone(elastx, ids["lb"])
    lbc = elastx.load_balancer
    assert list(lbc.listeners()) == [] and list(lbc.pools()) == [] and list(lbc.health_monitors()) == []
    for call in (lambda: lbc.get_listener(ids["listener"]), lambda: lbc.get_health_monitor(ids["hm"])):
        with pytest.raises(exceptions.NotFoundException):
            call()
    with pytest.raises(exceptions.NotFoundException):
        elastx.network.get_port(ids["vip_port"])
    elastx.network.delete_subnet(subnet.id)  # nothing of the LB blocks the subnet any more


def test_lb_cascade_delete_disassociates_and_keeps_vip_floating_ip(elastx: Any) -> None:
    """A floating IP on the VIP port survives the LB delete, disassociated (port_id and fixed IP cleared)."""
    subnet = make_subnet(elastx)
    router = elastx.network.create_router(name="r", external_gateway_info={"network_id": _external_network_id(elastx)})
    elastx.network.add_interface_to_router(router, subnet=subnet.id)
    ids = build_lb(elastx, subnet.id)
    fip = elastx.network.create_ip(floating_network_id=_external_network_id(elastx), port_id=ids["vip_port"])
    assert elastx.network.get_ip(fip.id).port_id == ids["vip_port"]
    elastx.load_balancer.delete_load_balancer(ids["lb"], cascade=True)
    wait_gone(elastx, ids["lb"])
    kept = elastx.network.get_ip(fip.id)
    assert (kept.port_id, kept.fixed_ip_address, kept.router_id) == (None, None, None)


def test_lb_delete_keeps_user_supplied_vip_port(elastx: Any) -> None:
    """A VIP port the user passed in (vip_port_id) is left in place when the LB goes."""
    subnet = make_subnet(elastx)
    port = elastx.network.create_port(network_id=subnet.network_id, name="my-vip")
    lb = elastx.load_balancer.create_load_balancer(name="byo-port", vip_port_id=port.id)
    assert (lb.vip_port_id, lb.vip_subnet_id, lb.vip_address) == (port.id, subnet.id,
                                                                  port.fixed_ips[0]["ip_address"])
    wait_active(elastx, lb.id)
    elastx.load_balancer.delete_load_balancer(lb.id)
    wait_gone(elastx, lb.id)
    assert elastx.network.get_port(port.id).name == "my-vip"


def test_vip_security_group_stays_in_use_until_lb_is_gone(elastx: Any) -> None:
    """vip_sg_ids are bound to the VIP port: the SG is in use (Neutron 409) until the LB delete finished."""
    subnet = make_subnet(elastx)
    sg = elastx.network.create_security_group(name="vip-sg")
    lb = elastx.load_balancer.create_load_balancer(name="sg", vip_subnet_id=subnet.id, vip_sg_ids=[sg.id])
    assert lb.vip_sg_ids == [sg.id]
    assert elastx.network.get_port(lb.vip_port_id).security_group_ids == [sg.id]
    wait_active(elastx, lb.id)
    with pytest.raises(exceptions.ConflictException):
        elastx.network.delete_security_group(sg.id)
    elastx.load_balancer.delete_load_balancer(lb.id)
    wait_gone(elastx, lb.id)
    elastx.network.delete_security_group(sg.id)


def test_pool_delete_cascades_members_and_health_monitor(elastx: Any) -> None:
    """Deleting a pool takes its members and health monitor with it and clears the listener's default pool."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    elastx.load_balancer.delete_pool(ids["pool"])
    wait_active(elastx, ids["lb"])
    lbc = elastx.load_balancer
    with pytest.raises(exceptions.NotFoundException):
        lbc.get_health_monitor(ids["hm"])
    assert list(lbc.health_monitors()) == []
    assert lbc.get_listener(ids["listener"]).default_pool_id is None
    assert lbc.get_load_balancer(ids["lb"]).pools == []


def test_listener_delete_keeps_its_default_pool(elastx: Any) -> None:
    """A listener delete leaves its default pool on the LB (the LB still has children)."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    elastx.load_balancer.delete_listener(ids["listener"])
    lb = wait_active(elastx, ids["lb"])
    assert (lb.listeners, lb.pools) == ([], [{"id": ids["pool"]}])
    assert elastx.load_balancer.get_pool(ids["pool"]).listeners == []
    with pytest.raises(exceptions.BadRequestException):
        elastx.load_balancer.delete_load_balancer(ids["lb"])


def test_lb_create_then_delete_status_sequence(make_sim: Callable[..., SimulatorServer]) -> None:
    """Create is PENDING_CREATE -> ACTIVE; delete answers 204 then PENDING_DELETE -> 404."""
    sim = make_sim("empty", latency="fast", time_scale=5)  # create 0.6 s, delete 0.4 s
    elastx = sim.connect("elastx")
    lb = elastx.load_balancer.create_load_balancer(name="seq", vip_subnet_id=make_subnet(elastx).id)
    assert (lb.provisioning_status, lb.operating_status) == ("PENDING_CREATE", "OFFLINE")
    assert observe(elastx, lb.id, "ACTIVE") == ["PENDING_CREATE", "ACTIVE"]
    assert elastx.load_balancer.get_load_balancer(lb.id).operating_status == "ONLINE"
    elastx.load_balancer.delete_load_balancer(lb.id)
    assert observe(elastx, lb.id, "GONE") == ["PENDING_DELETE", "GONE"]


def test_child_delete_status_sequence(make_sim: Callable[..., SimulatorServer]) -> None:
    """A child delete marks the child PENDING_DELETE and the LB PENDING_UPDATE, then the LB is ACTIVE again."""
    sim = make_sim("empty", latency="fast", time_scale=1)  # a child operation takes 0.3 s
    elastx = sim.connect("elastx")
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id)
    elastx.load_balancer.delete_health_monitor(ids["hm"])
    assert elastx.load_balancer.get_health_monitor(ids["hm"]).provisioning_status == "PENDING_DELETE"
    assert elastx.load_balancer.get_pool(ids["pool"]).provisioning_status == "PENDING_UPDATE"
    assert observe(elastx, ids["lb"], "ACTIVE") == ["PENDING_UPDATE", "ACTIVE"]
    assert elastx.load_balancer.get_pool(ids["pool"]).provisioning_status == "ACTIVE"
    with pytest.raises(exceptions.NotFoundException):
        elastx.load_balancer.get_health_monitor(ids["hm"])


def test_child_create_status_sequence(make_sim: Callable[..., SimulatorServer]) -> None:
    """A listener create is PENDING_CREATE with the LB PENDING_UPDATE, then both ACTIVE."""
    sim = make_sim("empty", latency="fast", time_scale=1)  # a child operation takes 0.3 s
    elastx = sim.connect("elastx")
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id, with_children=False)
    listener = elastx.load_balancer.create_listener(loadbalancer_id=ids["lb"], protocol="HTTP", protocol_port=8080)
    assert listener.provisioning_status == "PENDING_CREATE"
    assert observe(elastx, ids["lb"], "ACTIVE") == ["PENDING_UPDATE", "ACTIVE"]
    got = elastx.load_balancer.get_listener(listener.id)
    assert (got.provisioning_status, got.operating_status, got.load_balancers) == ("ACTIVE", "ONLINE",
                                                                                  [{"id": ids["lb"]}])


def test_stuck_lb_stays_pending_update(sim: SimulatorServer, elastx: Any) -> None:
    """A seeded LB marked stuck never leaves PENDING_UPDATE, whatever time passes."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id, status="PENDING_UPDATE", stuck=True)
    for _ in range(3):
        assert elastx.load_balancer.get_load_balancer(ids["lb"]).provisioning_status == "PENDING_UPDATE"
