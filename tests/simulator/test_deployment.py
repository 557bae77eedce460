"""Operator settings real clouds differ by (simulator ``Deployment``), driven through openstacksdk: Nova's soft
delete, Nova's lag in releasing ports and volumes, DVR/HA router ports, trunk rules, absent extensions/services."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.deployment import Deployment
from kubespray_cleanup.simulator.latency import LatencyProfile
from kubespray_cleanup.simulator.server import SimulatorServer
from tests.simulator.compute_helpers import boot, make_network

Factory = Callable[..., SimulatorServer]


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _status(conn: Any, server_id: str) -> str | None:
    server = conn.compute.find_server(server_id, ignore_missing=True)
    return None if server is None else str(server.status)


def _server_with_port_and_volume(conn: Any) -> tuple[Any, Any, Any]:
    net, _ = make_network(conn)
    port = conn.network.create_port(network_id=net.id, name="pre")
    server = boot(conn, "vm", [{"port": port.id}])
    volume = conn.block_storage.create_volume(size=1, name="data")
    conn.block_storage.wait_for_status(volume, "available", interval=0.02, wait=10)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    return server, port, volume


def test_reclaim_interval_soft_deletes_and_keeps_ports_and_volumes(make_sim: Factory) -> None:
    """reclaim_instance_interval > 0: DELETE -> SOFT_DELETED, still listed, port bound, volume in-use; a second
    DELETE changes nothing; forceDelete removes it and releases both."""
    sim = make_sim("empty", latency="fast", time_scale=1000.0,
                   deployment=Deployment(reclaim_instance_interval=3600))
    conn = sim.connect("elastx")
    server, port, volume = _server_with_port_and_volume(conn)
    conn.compute.delete_server(server)
    _wait(lambda: _status(conn, server.id) == "SOFT_DELETED")
    assert server.id in {s.id for s in conn.compute.servers()}
    assert conn.network.get_port(port.id).device_id == server.id
    assert conn.block_storage.get_volume(volume.id).status == "in-use"
    conn.compute.delete_server(server)
    assert _status(conn, server.id) == "SOFT_DELETED"
    conn.compute.delete_server(server, force=True)
    _wait(lambda: conn.network.get_port(port.id).device_id == "")
    assert _status(conn, server.id) is None
    _wait(lambda: conn.block_storage.get_volume(volume.id).status == "available")


def test_restore_brings_back_only_a_soft_deleted_server(make_sim: Factory) -> None:
    """``restore``: SOFT_DELETED -> ACTIVE; on an ACTIVE server 409 "Cannot 'restore' instance ..."."""
    sim = make_sim("empty", latency="fast", time_scale=1000.0, deployment=Deployment(reclaim_instance_interval=60))
    conn = sim.connect("elastx")
    net, _ = make_network(conn)
    server = boot(conn, "vm", [{"uuid": net.id}])
    with pytest.raises(exceptions.ConflictException, match="Cannot 'restore' instance"):
        exceptions.raise_from_response(conn.compute.post(f"/servers/{server.id}/action", json={"restore": None}))
    conn.compute.delete_server(server)
    _wait(lambda: _status(conn, server.id) == "SOFT_DELETED")
    exceptions.raise_from_response(conn.compute.post(f"/servers/{server.id}/action", json={"restore": None}))
    assert _status(conn, server.id) == "ACTIVE"


def test_soft_deleted_server_is_reclaimed_after_the_interval(make_sim: Factory) -> None:
    """Nova's reclaim task deletes a server still soft-deleted once the interval passed (ports then released)."""
    sim = make_sim("empty", latency="fast", time_scale=1000.0, deployment=Deployment(reclaim_instance_interval=5))
    conn = sim.connect("elastx")
    net, _ = make_network(conn)
    port = conn.network.create_port(network_id=net.id, name="pre")
    server = boot(conn, "vm", [{"port": port.id}])
    conn.compute.delete_server(server)
    _wait(lambda: _status(conn, server.id) is None)
    _wait(lambda: conn.network.get_port(port.id).device_id == "")


def test_ports_and_volumes_are_released_a_moment_after_the_server_is_gone(make_sim: Factory) -> None:
    """Nova's lag (``server.release``): the server 404s while its port is still bound and its volume in-use."""
    lag = LatencyProfile("lag", operations={"server.release": 1e6})
    sim = make_sim("empty", latency=lag)
    conn = sim.connect("elastx")
    server, port, volume = _server_with_port_and_volume(conn)
    conn.compute.delete_server(server)
    _wait(lambda: _status(conn, server.id) is None)
    assert conn.network.get_port(port.id).device_id == server.id
    assert conn.block_storage.get_volume(volume.id).status == "in-use"
    assert sim.store.pending_events() == 1


def _router_on_subnet(conn: Any) -> tuple[Any, Any, str]:
    ext = next(conn.network.networks(is_router_external=True))
    _net, subnet = make_network(conn)
    router = conn.network.create_router(name="r", external_gateway_info={"network_id": ext.id})
    port_id = conn.network.add_interface_to_router(router, subnet=subnet.id)["port_id"]
    return router, subnet, str(port_id)


def test_dvr_router_interface_and_snat_ports_go_with_the_interface(make_sim: Factory) -> None:
    """router_distributed: interface owner ``network:router_interface_distributed`` plus a SNAT port on the
    subnet; both refuse port DELETE (409 ServicePortInUse) and both go with remove_router_interface."""
    sim = make_sim("empty", deployment=Deployment(router_distributed=True))
    conn = sim.connect("elastx")
    router, subnet, port_id = _router_on_subnet(conn)
    owners = {p.device_owner: p.id for p in conn.network.ports(device_id=router.id)}
    assert owners["network:router_interface_distributed"] == port_id
    snat = owners["network:router_centralized_snat"]
    for pid in (port_id, snat):
        with pytest.raises(exceptions.ConflictException, match="cannot be deleted directly via the port API"):
            conn.network.delete_port(pid)
    conn.network.remove_interface_from_router(router, subnet=subnet.id)
    assert [p.device_owner for p in conn.network.ports(network_id=subnet.network_id)] == ["network:dhcp"]


def test_ha_router_interface_owner_and_hidden_ha_ports(make_sim: Factory) -> None:
    """l3_ha: interface owner ``network:ha_router_replicated_interface``; the ``network:router_ha_interface``
    ports sit on a hidden HA network with no project, invisible to the project and gone with the router."""
    sim = make_sim("empty", deployment=Deployment(l3_ha=True))
    conn, admin = sim.connect("elastx"), sim.connect("admin")
    router, subnet, _port_id = _router_on_subnet(conn)
    assert [p.device_owner for p in conn.network.ports(device_id=router.id)] == [
        "network:ha_router_replicated_interface"]
    assert len(list(admin.network.ports(device_id=router.id, device_owner="network:router_ha_interface"))) == 2
    conn.network.remove_interface_from_router(router, subnet=subnet.id)
    conn.network.delete_router(router)
    assert not list(admin.network.ports(device_id=router.id))


def _trunk(conn: Any, bind: bool) -> tuple[Any, Any, Any]:
    net, _ = make_network(conn)
    parent = conn.network.create_port(network_id=net.id, name="parent")
    sub = conn.network.create_port(network_id=net.id, name="sub")
    trunk = conn.network.create_trunk(name="t", port_id=parent.id,
                                      sub_ports=[{"port_id": sub.id, "segmentation_type": "vlan",
                                                  "segmentation_id": 100}])
    if bind:
        boot(conn, "vm", [{"port": parent.id}])
    return trunk, parent, sub


def test_trunk_parent_refuses_delete_and_trunk_delete_detaches_subports(elastx: Any) -> None:
    """N11: DELETE parent -> 409 PortInUseAsTrunkParent (exact text); the trunk deletes, its subport survives
    unbound (device_owner/device_id cleared), and then the parent deletes."""
    trunk, parent, sub = _trunk(elastx, bind=False)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.network.delete_port(parent.id)
    assert err.value.details == f"Port {parent.id} is currently a parent port for trunk {trunk.id}."
    assert elastx.network.get_port(sub.id).device_owner == "trunk:subport"
    elastx.network.delete_trunk(trunk)
    survivor = elastx.network.get_port(sub.id)
    assert (survivor.device_owner, survivor.device_id) == ("", "")
    elastx.network.delete_port(parent.id)


def test_trunk_with_a_bound_parent_or_disabled_refuses_delete(make_sim: Factory) -> None:
    """ML2/OVS: 409 TrunkInUse while the parent is bound to a server; 409 TrunkDisabled when disabled. OVN
    (``trunk_untrunks_bound_ports``) deletes the bound trunk."""
    sim = make_sim("empty", latency="fast", time_scale=1000.0)
    conn = sim.connect("elastx")
    trunk, _, _ = _trunk(conn, bind=True)
    with pytest.raises(exceptions.ConflictException) as err:
        conn.network.delete_trunk(trunk)
    assert err.value.details == f"Trunk {trunk.id} is currently in use."
    sim.store.deployment.trunk_untrunks_bound_ports = True
    conn.network.update_trunk(trunk, is_admin_state_up=False)
    with pytest.raises(exceptions.ConflictException) as err:
        conn.network.delete_trunk(trunk)
    assert err.value.details == f"Trunk {trunk.id} is currently disabled."
    conn.network.update_trunk(trunk, is_admin_state_up=True)
    conn.network.delete_trunk(trunk)


def test_cloud_without_trunk_extension_or_octavia(make_sim: Factory) -> None:
    """absent_extensions/absent_services: no ``trunk`` in /v2.0/extensions and /v2.0/trunks 404; no
    load-balancer in the catalog."""
    sim = make_sim("empty", deployment=Deployment(absent_extensions=frozenset({"trunk"}),
                                                  absent_services=frozenset({"load-balancer"})))
    conn = sim.connect("elastx")
    aliases = {e["alias"] for e in conn.network.get("/extensions").json()["extensions"]}
    assert "trunk" not in aliases and "router" in aliases
    assert conn.network.get("/trunks").status_code == 404
    assert not conn.has_service("load-balancer") and conn.has_service("network")


def test_scenario_deployment_rejects_unknown_settings() -> None:
    """A scenario's ``deployment:`` mapping names the unknown key."""
    with pytest.raises(ValueError, match="unknown deployment setting 'reclaim'"):
        Deployment.from_mapping({"reclaim": 1})
