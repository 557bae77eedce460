"""Helpers shared by the Octavia simulator tests (no tests here): networks, load balancer builders, faults."""

from __future__ import annotations

import time
from typing import Any

from kubespray_cleanup.simulator import octavia
from kubespray_cleanup.simulator.server import SimulatorServer

POLICY_FORBIDDEN = "Policy does not allow this request to be performed."


def project_id(sim: SimulatorServer, name: str) -> str:
    project = sim.store.project_by_name(name)
    assert project is not None
    return project.id


def make_subnet(conn: Any, cidr: str = "10.20.0.0/24", name: str = "lb") -> Any:
    """A tenant network with one IPv4 subnet, made through the Neutron API."""
    net = conn.network.create_network(name=f"{name}-net")
    return conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name=f"{name}-subnet")


def wait_active(conn: Any, lb_id: str) -> Any:
    return conn.load_balancer.wait_for_load_balancer(lb_id, interval=0.005, wait=15)


def build_lb(conn: Any, subnet_id: str, name: str = "lb") -> dict[str, str]:
    """LB -> listener -> pool (default pool) -> member -> health monitor, all through the API."""
    lb = conn.load_balancer.create_load_balancer(name=name, vip_subnet_id=subnet_id)
    wait_active(conn, lb.id)
    listener = conn.load_balancer.create_listener(name=f"{name}-l", loadbalancer_id=lb.id, protocol="TCP",
                                                  protocol_port=80)
    wait_active(conn, lb.id)
    pool = conn.load_balancer.create_pool(name=f"{name}-p", listener_id=listener.id, protocol="TCP",
                                          lb_algorithm="ROUND_ROBIN")
    wait_active(conn, lb.id)
    member = conn.load_balancer.create_member(pool, address="10.20.0.50", protocol_port=30080, subnet_id=subnet_id)
    wait_active(conn, lb.id)
    hm = conn.load_balancer.create_health_monitor(pool_id=pool.id, type="TCP", delay=5, timeout=3, max_retries=3)
    wait_active(conn, lb.id)
    return {"lb": lb.id, "listener": listener.id, "pool": pool.id, "member": member.id, "hm": hm.id,
            "vip_port": lb.vip_port_id}


def seed_lb(sim: SimulatorServer, project: str, subnet_id: str, status: str = "ACTIVE", stuck: bool = False,
            with_children: bool = True) -> dict[str, str]:
    """An LB built by the model functions (as scenario seeding does), optionally stuck or in ERROR."""
    store = sim.store
    with store.lock:
        lb = octavia.create_load_balancer(store, project_id(sim, project), "seeded", vip_subnet_id=subnet_id,
                                          provisioning_status=status)
        ids = {"lb": lb["id"], "vip_port": lb["vip_port_id"]}
        if with_children:
            listener = octavia.create_listener(store, lb["id"], "seeded-l", protocol_port=443)
            pool = octavia.create_pool(store, lb["id"], "seeded-p", listener_id=listener["id"])
            member = octavia.create_member(store, pool["id"], "10.20.0.60", 30443, subnet_id=subnet_id)
            hm = octavia.create_health_monitor(store, pool["id"])
            ids.update(listener=listener["id"], pool=pool["id"], member=member["id"], hm=hm["id"])
        if stuck:
            lb["_stuck"] = True
    return ids


def wait_gone(conn: Any, lb_id: str) -> None:
    """Poll until the LB answers 404 (its asynchronous delete finished)."""
    assert observe(conn, lb_id, "GONE")[-1] == "GONE"


def fault_body(exc: Any) -> dict[str, Any]:
    body: dict[str, Any] = exc.response.json()
    return body


def assert_fault(exc: Any, status: int, message: str) -> None:
    """The SDK exception carries Octavia's WSME fault body with exactly ``message``."""
    assert exc.status_code == status
    assert exc.details == message
    assert fault_body(exc) == {"faultcode": "Client", "faultstring": message, "debuginfo": None}


def observe(conn: Any, lb_id: str, until: str, timeout: float = 10.0) -> list[str]:
    """Distinct provisioning statuses seen while polling an LB until ``until`` (or 404 -> 'GONE')."""
    from openstack import exceptions

    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = conn.load_balancer.get_load_balancer(lb_id).provisioning_status
        except exceptions.NotFoundException:
            status = "GONE"
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == until:
            return seen
        time.sleep(0.005)
    raise AssertionError(f"LB {lb_id} never reached {until}: {seen}")
