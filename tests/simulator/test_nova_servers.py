"""Nova servers in the simulator, driven through openstacksdk: rules V1/V2, async delete and its cascades."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.server import SimulatorServer
from tests.simulator.compute_helpers import boot, make_network


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _gone(conn: Any, server_id: str) -> bool:
    return conn.compute.find_server(server_id, ignore_missing=True) is None


def test_compute_discovery_advertises_microversions_2_1_to_2_96(elastx: Any) -> None:
    """Keystoneauth discovery finds Nova v2.1 with its microversion range."""
    data = elastx.compute.get_endpoint_data()
    assert (data.min_microversion, data.max_microversion) == ((2, 1), (2, 96))


def test_server_create_builds_then_active_with_ports_addresses_and_sg_names(elastx: Any) -> None:
    """POST /servers answers 202 in BUILD; ACTIVE shows addresses and SG names resolved from ports."""
    net, _ = make_network(elastx)
    sg = elastx.network.create_security_group(name="web")
    port = elastx.network.create_port(network_id=net.id, security_group_ids=[sg.id], name="pre")
    server = boot(elastx, "vm1", [{"uuid": net.id}, {"port": port.id}])
    assert server.status == "ACTIVE" and server.task_state is None and server.vm_state == "active"
    assert sorted(g["name"] for g in server.security_groups) == ["default", "web"]
    assert [a["OS-EXT-IPS:type"] for a in server.addresses["net"]] == ["fixed", "fixed"]
    ports = {p.id: p for p in elastx.network.ports(device_id=server.id)}
    assert set(ports) >= {port.id} and len(ports) == 2
    assert all(p.device_owner == "compute:nova" for p in ports.values())
    assert server.flavor.original_name and server.availability_zone == "nova"


def test_server_delete_locked_by_non_admin_is_409_instance_locked(elastx: Any, admin: Any) -> None:
    """V1: DELETE of a locked server by a non-admin -> 409 conflictingRequest "Instance {uuid} is locked"."""
    net, _ = make_network(elastx)
    server = boot(elastx, "locked", [{"uuid": net.id}])
    elastx.compute.lock_server(server)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.compute.delete_server(server, ignore_missing=False)
    assert err.value.status_code == 409
    assert err.value.details == f"Instance {server.id} is locked"
    assert err.value.response.json() == {"conflictingRequest": {"code": 409,
                                                                "message": f"Instance {server.id} is locked"}}
    admin.compute.delete_server(server.id)  # the lock does not stop an admin
    _wait(lambda: _gone(elastx, server.id))


def test_server_missing_is_404_instance_not_found(elastx: Any) -> None:
    """V2: GET/DELETE of an unknown server -> 404 itemNotFound "Instance {uuid} could not be found."."""
    missing = "0d4e0f7a-6f0c-4d8e-9d87-6f3d1f1e2a11"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.delete_server(missing, ignore_missing=False)
    assert err.value.status_code == 404
    assert err.value.response.json() == {"itemNotFound": {"code": 404,
                                                          "message": f"Instance {missing} could not be found."}}
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.get_server(missing)
    assert err.value.details == f"Instance {missing} could not be found."


def test_server_of_another_project_is_404(elastx: Any, other: Any) -> None:
    """Isolation: another project's server id answers Nova's 404 on GET and DELETE."""
    net, _ = make_network(elastx)
    server = boot(elastx, "mine", [{"uuid": net.id}])
    with pytest.raises(exceptions.NotFoundException) as err:
        other.compute.delete_server(server.id, ignore_missing=False)
    assert err.value.details == f"Instance {server.id} could not be found."
    assert [s.id for s in other.compute.servers()] == []


def test_server_delete_is_async_task_state_deleting_then_404(make_sim: Callable[..., SimulatorServer]) -> None:
    """DELETE -> 204; task_state 'deleting' while status keeps ACTIVE; then 404."""
    conn = make_sim("empty", latency="fast", time_scale=4).connect("elastx")
    net, _ = make_network(conn)
    server = boot(conn, "slow", [{"uuid": net.id}])
    conn.compute.delete_server(server)
    during = conn.compute.get_server(server.id)
    assert (during.status, during.task_state) == ("ACTIVE", "deleting")
    conn.compute.delete_server(server)  # a second DELETE while deleting is accepted and ignored
    conn.compute.wait_for_delete(during, interval=0.02, wait=10)
    assert _gone(conn, server.id)


def test_server_delete_removes_nova_ports_and_unbinds_precreated_ports(elastx: Any) -> None:
    """Nova-made ports are deleted; pre-created ports survive unbound and still block subnet/network delete."""
    net, subnet = make_network(elastx)
    pre = elastx.network.create_port(network_id=net.id, name="pre")
    server = boot(elastx, "vm", [{"uuid": net.id}, {"port": pre.id}])
    made = [p.id for p in elastx.network.ports(device_id=server.id) if p.id != pre.id]
    elastx.compute.delete_server(server)
    elastx.compute.wait_for_delete(server, interval=0.02, wait=10)
    assert elastx.network.find_port(made[0], ignore_missing=True) is None
    kept = elastx.network.get_port(pre.id)
    assert (kept.device_id, kept.device_owner, kept.binding_host_id or "") == ("", "", "")
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.network.delete_subnet(subnet, ignore_missing=False)
    assert err.value.details == (f"Unable to complete operation on subnet {subnet.id}: One or more ports have an "
                                 "IP allocation from this subnet.")
    with pytest.raises(exceptions.ConflictException):
        elastx.network.delete_network(net, ignore_missing=False)


def test_server_delete_detaches_volumes_and_deletes_delete_on_termination_ones(elastx: Any) -> None:
    """Attached volumes become available; a delete_on_termination boot volume is deleted."""
    net, _ = make_network(elastx)
    image = next(iter(elastx.image.images()))
    bdm = [{"boot_index": 0, "uuid": image.id, "source_type": "image", "destination_type": "volume",
            "volume_size": 3, "delete_on_termination": True}]
    server = boot(elastx, "bfv", [{"uuid": net.id}], block_device_mapping=bdm)
    data = elastx.block_storage.create_volume(size=1, name="data")
    elastx.block_storage.wait_for_status(data, "available", interval=0.02, wait=10)
    elastx.compute.create_volume_attachment(server, data)
    server = elastx.compute.get_server(server.id)
    attached = {v["id"]: v["delete_on_termination"] for v in server.attached_volumes}
    boot_id = next(vid for vid, dot in attached.items() if dot)
    assert attached[data.id] is False and elastx.block_storage.get_volume(boot_id).status == "in-use"
    elastx.compute.delete_server(server)
    elastx.compute.wait_for_delete(server, interval=0.02, wait=10)
    after = elastx.block_storage.get_volume(data.id)
    assert (after.status, after.attachments) == ("available", [])
    _wait(lambda: elastx.block_storage.find_volume(boot_id, ignore_missing=True) is None)


def test_server_delete_drops_server_group_membership(elastx: Any) -> None:
    """Deleted servers stop being listed as server-group members; members never block anything."""
    net, _ = make_network(elastx)
    group = elastx.compute.create_server_group(name="grp", policy="anti-affinity")
    server = boot(elastx, "member", [{"uuid": net.id}], scheduler_hints={"group": group.id})
    assert elastx.compute.get_server_group(group.id).member_ids == [server.id]
    elastx.compute.delete_server(server)
    elastx.compute.wait_for_delete(server, interval=0.02, wait=10)
    assert elastx.compute.get_server_group(group.id).member_ids == []


def test_stuck_server_delete_never_finishes_until_admin_force_delete(sim: SimulatorServer, elastx: Any,
                                                                     admin: Any) -> None:
    """``_stuck_delete``: task_state stays 'deleting'; only an admin forceDelete removes the server."""
    net, _ = make_network(elastx)
    server = boot(elastx, "stuck", [{"uuid": net.id}])
    with sim.store.lock:
        sim.store.get("servers", server.id)["_stuck_delete"] = True
    elastx.compute.delete_server(server)
    time.sleep(0.05)
    elastx.compute.delete_server(server, force=True)  # 202, but the compute host never answers
    assert elastx.compute.get_server(server.id).task_state == "deleting"
    admin.compute.delete_server(server.id, force=True)
    assert _gone(elastx, server.id)


def test_error_server_is_deleted_normally(elastx: Any, admin: Any) -> None:
    """A server reset to ERROR (os-resetState, admin) deletes like any other."""
    net, _ = make_network(elastx)
    server = boot(elastx, "broken", [{"uuid": net.id}])
    admin.compute.reset_server_state(server.id, "error")
    assert elastx.compute.get_server(server.id).status == "ERROR"
    elastx.compute.delete_server(server)
    elastx.compute.wait_for_delete(server, interval=0.02, wait=10)


def test_reset_state_by_non_admin_is_403(elastx: Any) -> None:
    """os-resetState is admin-only: 403 forbidden with the policy name."""
    net, _ = make_network(elastx)
    server = boot(elastx, "vm", [{"uuid": net.id}])
    with pytest.raises(exceptions.ForbiddenException) as err:
        elastx.compute.reset_server_state(server, "error")
    assert err.value.details == "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed."


def test_force_delete_removes_server_at_once(make_sim: Callable[..., SimulatorServer]) -> None:
    """forceDelete (202) skips the asynchronous delete: the next GET is already 404; its port follows a moment
    later (``server.release``, Nova's lag)."""
    conn = make_sim("empty", latency="fast", time_scale=1).connect("elastx")
    net, _ = make_network(conn)
    server = conn.compute.create_server(name="f", flavor_id=next(iter(conn.compute.flavors())).id,
                                        image_id=next(iter(conn.image.images())).id, networks=[{"uuid": net.id}])
    conn.compute.delete_server(server, force=True)
    assert _gone(conn, server.id)
    _wait(lambda: [p.device_owner for p in conn.network.ports(network_id=net.id)] == ["network:dhcp"])


def test_non_admin_all_tenants_is_403_and_admin_lists_every_project(elastx: Any, other: Any, admin: Any) -> None:
    """all_tenants: 403 for a project user; admin sees every project only when asking for it."""
    net, _ = make_network(elastx)
    mine = boot(elastx, "a", [{"uuid": net.id}])
    net2, _ = make_network(other, "net2")
    theirs = boot(other, "b", [{"uuid": net2.id}])
    with pytest.raises(exceptions.ForbiddenException) as err:
        list(elastx.compute.servers(all_projects=True))
    assert err.value.details == "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."
    assert [s.id for s in admin.compute.servers()] == []
    assert {s.id for s in admin.compute.servers(all_projects=True)} == {mine.id, theirs.id}
    assert [s.id for s in admin.compute.servers(all_projects=True, project_id=other.current_project_id)] == [
        theirs.id]
