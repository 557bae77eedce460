"""Octavia's load-balancer delete as the cleanup meets it, asserted identically on both targets.

On the realstack target these run only when Octavia runs (``--realstack-octavia`` / ``REALSTACK_OCTAVIA=1``):
its API and controller worker with the no-op amphora, compute and network drivers, so every status below
comes from Octavia's own API and flows. Two states cannot be reached through the API there, and are set in
Octavia's database instead (the API reads them from nowhere else): ``ERROR`` (a failed flow in a real cloud)
and a ``PENDING_UPDATE`` that lasts (a busy or dead worker). A ``PENDING_CREATE`` that lasts is real: the
``noop_driver`` provider never reports back. On the simulator the same states are seeded in its store.

Not checked here, because the no-op network driver makes no Neutron port: the VIP port Octavia creates
(``device_owner`` ``Octavia``) and its removal by the cascade.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from kubespray_cleanup.simulator import octavia
from kubespray_cleanup.simulator.octavia.model import LOAD_BALANCERS
from tests.conformance.conftest import Target
from tests.conformance.helpers import refusal

LBS = "/lbaas/loadbalancers"


@pytest.fixture(autouse=True)
def _octavia(target: Target) -> None:
    target.need_octavia()


def _subnet(conn: Any, cidr: str) -> Any:
    net = conn.network.create_network(name="cf-lb-net")
    return conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name="cf-lb-subnet")


def _wait_active(conn: Any, lb_id: str) -> Any:
    return conn.load_balancer.wait_for_load_balancer(lb_id, status="ACTIVE", failures=["ERROR"], interval=0.05,
                                                     wait=60)


def _active_lb(conn: Any, subnet: Any, children: bool) -> Any:
    """An ACTIVE load balancer; with ``children`` a listener whose default pool has one member."""
    lb = conn.load_balancer.create_load_balancer(name="cf-lb", vip_subnet_id=subnet.id)
    _wait_active(conn, lb.id)
    if children:
        listener = conn.load_balancer.create_listener(name="cf-l", loadbalancer_id=lb.id, protocol="TCP",
                                                      protocol_port=80)
        _wait_active(conn, lb.id)
        pool = conn.load_balancer.create_pool(name="cf-p", listener_id=listener.id, protocol="TCP",
                                              lb_algorithm="ROUND_ROBIN")
        _wait_active(conn, lb.id)
        conn.load_balancer.create_member(pool, address="10.40.0.50", protocol_port=30080, subnet_id=subnet.id)
        _wait_active(conn, lb.id)
    return conn.load_balancer.get_load_balancer(lb.id)


def _set_status(target: Target, lb_id: str, status: str) -> None:
    """Put a load balancer in ``status`` where the API cannot (see the module docstring); it stays there."""
    if target.sim is not None:
        with target.sim.store.lock:
            record = target.sim.store.get(LOAD_BALANCERS, lb_id)
            assert record is not None
            record["provisioning_status"] = status
            if status.startswith("PENDING_"):
                record["_stuck"] = True
            else:
                record.pop("_stuck", None)
        return
    assert target.octavia_database is not None, "stack.json names no Octavia database"
    with sqlite3.connect(target.octavia_database, timeout=30) as db:
        changed = db.execute("UPDATE load_balancer SET provisioning_status = ? WHERE id = ?", (status, lb_id))
        assert changed.rowcount == 1


def _fault(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"faultcode", "faultstring", "debuginfo"}, body
    assert body["debuginfo"] is None, body
    return body


def _delete(conn: Any, lb_id: str, cascade: bool) -> Any:
    return conn.load_balancer.delete(f"{LBS}/{lb_id}" + ("?cascade=true" if cascade else ""))


def _until_gone(conn: Any, lb_id: str, timeout: float = 60.0) -> list[str]:
    """Every distinct provisioning status seen until GET answers 404 (then ``"404"``), polled every 20 ms."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        response = conn.load_balancer.get(f"{LBS}/{lb_id}")
        state = "404" if response.status_code == 404 else response.json()["loadbalancer"]["provisioning_status"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == "404":
            assert _fault(response) == {"faultcode": "Client", "faultstring": f"Load Balancer {lb_id} not found.",
                                        "debuginfo": None}
            return seen
        assert time.monotonic() < deadline, seen
        time.sleep(0.02)


def _listed(conn: Any, lb_id: str) -> bool:
    return any(lb.id == lb_id for lb in conn.load_balancer.load_balancers())


def test_lb_on_a_subnet_is_pending_create_then_active(target: Target) -> None:
    """POST answers 201 with PENDING_CREATE (provider ``amphora``, the VIP on the subnet asked for); the load
    balancer becomes ACTIVE without anyone acting on it, and is listed."""
    conn = target.a
    subnet = _subnet(conn, "10.40.0.0/24")
    lb = conn.load_balancer.create_load_balancer(name="cf-lb", vip_subnet_id=subnet.id)
    assert (lb.provisioning_status, lb.provider, lb.vip_subnet_id) == ("PENDING_CREATE", "amphora", subnet.id)
    assert _wait_active(conn, lb.id).provisioning_status == "ACTIVE"
    assert _listed(conn, lb.id)
    assert _delete(conn, lb.id, cascade=True).status_code == 204
    _until_gone(conn, lb.id)


def test_lb_with_children_without_cascade_is_400_has_children(target: Target) -> None:
    """DELETE of an LB with a listener and pool, without cascade: 400 'it has children' (not a 409), the LB
    untouched and still ACTIVE."""
    conn = target.a
    lb = _active_lb(conn, _subnet(conn, "10.41.0.0/24"), children=True)
    assert len(lb.listeners) == 1 and len(lb.pools) == 1
    response = _delete(conn, lb.id, cascade=False)
    assert response.status_code == 400
    assert _fault(response) == {"faultcode": "Client", "debuginfo": None,
                                "faultstring": f"Validation failure: Cannot delete Load Balancer {lb.id} - it has "
                                               "children"}
    exc = refusal(lambda: conn.load_balancer.delete_load_balancer(lb.id), 400)
    assert exc.details == f"Validation failure: Cannot delete Load Balancer {lb.id} - it has children"
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == "ACTIVE"
    assert _delete(conn, lb.id, cascade=True).status_code == 204
    _until_gone(conn, lb.id)


def test_lb_still_pending_create_is_409_invalid_state(target: Target) -> None:
    """A load balancer whose provider never finished (PENDING_CREATE): DELETE, with or without cascade, is 409
    'Invalid state PENDING_CREATE of loadbalancer resource <id>'; it stays."""
    conn = target.a
    subnet = _subnet(conn, "10.42.0.0/24")
    if target.sim is not None:
        with target.sim.store.lock:
            record = octavia.create_load_balancer(target.sim.store, conn.current_project_id, "cf-young",
                                                  vip_subnet_id=subnet.id, provisioning_status="PENDING_CREATE")
            record["_stuck"] = True
        lb_id = str(record["id"])
    else:
        lb_id = conn.load_balancer.create_load_balancer(name="cf-young", vip_subnet_id=subnet.id,
                                                        provider="noop_driver").id
    for cascade in (False, True):
        response = _delete(conn, lb_id, cascade)
        assert (response.status_code, _fault(response)) == (409, {
            "faultcode": "Client", "faultstring": f"Invalid state PENDING_CREATE of loadbalancer resource {lb_id}",
            "debuginfo": None})
    assert conn.load_balancer.get_load_balancer(lb_id).provisioning_status == "PENDING_CREATE"
    assert _listed(conn, lb_id)


def test_children_are_checked_before_the_state(target: Target) -> None:
    """An LB in PENDING_UPDATE with children: without cascade the children answer first (400); with cascade
    the state does (409 'Invalid state PENDING_UPDATE ...'). Once it is in ERROR, cascade is accepted."""
    conn = target.a
    lb = _active_lb(conn, _subnet(conn, "10.43.0.0/24"), children=True)
    _set_status(target, lb.id, "PENDING_UPDATE")
    response = _delete(conn, lb.id, cascade=False)
    assert (response.status_code, _fault(response)["faultstring"]) == (
        400, f"Validation failure: Cannot delete Load Balancer {lb.id} - it has children")
    response = _delete(conn, lb.id, cascade=True)
    assert (response.status_code, _fault(response)["faultstring"]) == (
        409, f"Invalid state PENDING_UPDATE of loadbalancer resource {lb.id}")
    exc = refusal(lambda: conn.load_balancer.delete_load_balancer(lb.id, cascade=True), 409)
    assert exc.details == f"Invalid state PENDING_UPDATE of loadbalancer resource {lb.id}"
    _set_status(target, lb.id, "ERROR")
    assert _delete(conn, lb.id, cascade=True).status_code == 204
    _until_gone(conn, lb.id)


def test_cascade_delete_is_204_then_pending_delete_then_gone(target: Target) -> None:
    """DELETE ?cascade=true of an ACTIVE LB with a listener, pool and member: 204 with no body; the LB reads
    PENDING_DELETE (never anything else) until GET answers 404 'Load Balancer <id> not found.'; it leaves
    the list, and its listener and pool are gone with it."""
    conn = target.a
    lb = _active_lb(conn, _subnet(conn, "10.44.0.0/24"), children=True)
    listener_id, pool_id = lb.listeners[0]["id"], lb.pools[0]["id"]
    response = _delete(conn, lb.id, cascade=True)
    assert (response.status_code, response.content) == (204, b"")
    seen = _until_gone(conn, lb.id)
    assert seen[-1] == "404" and set(seen[:-1]) <= {"PENDING_DELETE"}, seen
    assert not _listed(conn, lb.id)
    assert conn.load_balancer.get(f"/lbaas/listeners/{listener_id}").status_code == 404
    assert conn.load_balancer.get(f"/lbaas/pools/{pool_id}").status_code == 404
    response = _delete(conn, lb.id, cascade=True)
    assert (response.status_code, _fault(response)["faultstring"]) == (404, f"Load Balancer {lb.id} not found.")


def test_lb_in_error_is_deletable(target: Target) -> None:
    """ERROR is deletable (DELETABLE_STATUSES = ACTIVE, ERROR): without children a plain DELETE is 204 and the
    LB goes; with children cascade is still needed (400 first), then 204 and gone."""
    conn = target.a
    subnet = _subnet(conn, "10.45.0.0/24")
    plain = _active_lb(conn, subnet, children=False)
    _set_status(target, plain.id, "ERROR")
    assert conn.load_balancer.get_load_balancer(plain.id).provisioning_status == "ERROR"
    assert _delete(conn, plain.id, cascade=False).status_code == 204
    assert set(_until_gone(conn, plain.id)[:-1]) <= {"PENDING_DELETE"}
    parent = _active_lb(conn, subnet, children=True)
    _set_status(target, parent.id, "ERROR")
    response = _delete(conn, parent.id, cascade=False)
    assert (response.status_code, _fault(response)["faultstring"]) == (
        400, f"Validation failure: Cannot delete Load Balancer {parent.id} - it has children")
    assert _delete(conn, parent.id, cascade=True).status_code == 204
    _until_gone(conn, parent.id)
    assert not _listed(conn, plain.id) and not _listed(conn, parent.id)
