"""Nova server listing, microversions and sub-resources (volume attachments, interfaces, limits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.server import SimulatorServer
from tests.simulator.compute_helpers import boot, make_network


def test_server_list_pages_with_servers_links(elastx: Any) -> None:
    """limit/marker pagination: a full page carries servers_links; the SDK follows it to the end."""
    net, _ = make_network(elastx)
    ids = {boot(elastx, f"p{i}", [{"uuid": net.id}]).id for i in range(5)}
    first = elastx.compute.get("/servers/detail?limit=2").json()
    assert len(first["servers"]) == 2 and first["servers_links"][0]["rel"] == "next"
    assert "marker=" + first["servers"][-1]["id"] in first["servers_links"][0]["href"]
    assert {s.id for s in elastx.compute.servers(limit=2)} == ids
    bad = elastx.compute.get("/servers?marker=nope")
    assert (bad.status_code, bad.json()["badRequest"]["message"]) == (400, "marker [nope] not found")


def test_server_list_filters_name_regex_and_status(elastx: Any, admin: Any) -> None:
    """name is a regular expression; status filters on the mapped vm_state."""
    net, _ = make_network(elastx)
    a = boot(elastx, "kube-master-1", [{"uuid": net.id}])
    b = boot(elastx, "kube-node-1", [{"uuid": net.id}])
    assert [s.id for s in elastx.compute.servers(name="^kube-m")] == [a.id]
    admin.compute.reset_server_state(b.id, "error")
    assert [s.id for s in elastx.compute.servers(status="ERROR")] == [b.id]
    bad = elastx.compute.get("/servers?status=NOPE", microversion="2.38")
    assert (bad.status_code, bad.json()["badRequest"]["message"]) == (400, "Invalid status value")


def test_microversion_is_echoed_and_shapes_the_flavor(elastx: Any) -> None:
    """The negotiated version is echoed; the embedded flavor dict appears from 2.47."""
    net, _ = make_network(elastx)
    server = boot(elastx, "mv", [{"uuid": net.id}])
    old = elastx.compute.get(f"/servers/{server.id}", microversion="2.46")
    new = elastx.compute.get(f"/servers/{server.id}", microversion="2.47")
    assert old.headers["OpenStack-API-Version"] == "compute 2.46"
    assert old.headers["X-OpenStack-Nova-API-Version"] == "2.46"
    assert set(old.json()["server"]["flavor"]) == {"id", "links"}
    assert new.json()["server"]["flavor"]["original_name"] == "v1-standard-2"
    too_new = elastx.compute.get("/servers", microversion="2.97")
    assert too_new.status_code == 406
    assert too_new.json()["computeFault"]["message"] == ("Version 2.97 is not supported by the API. Minimum is "
                                                         "2.1 and maximum is 2.96.")


def test_volume_attachment_create_list_and_async_detach(make_sim: Callable[..., SimulatorServer]) -> None:
    """os-volume_attachments updates Cinder; DELETE -> 202, volume 'detaching' then 'available'."""
    conn = make_sim("empty", latency="fast", time_scale=4).connect("elastx")
    net, _ = make_network(conn)
    server = boot(conn, "vm", [{"uuid": net.id}])
    vol = conn.block_storage.wait_for_status(conn.block_storage.create_volume(size=1), "available",
                                             interval=0.02, wait=10)
    attachment = conn.compute.create_volume_attachment(server, vol)
    assert attachment.device == "/dev/vdb"
    listed = list(conn.compute.volume_attachments(server))
    cinder_side = conn.block_storage.get_volume(vol.id).attachments
    assert [a.volume_id for a in listed] == [vol.id]
    assert listed[0].attachment_id == cinder_side[0]["attachment_id"]
    assert cinder_side[0]["server_id"] == server.id and cinder_side[0]["device"] == "/dev/vdb"
    conn.compute.delete_volume_attachment(server, vol)
    detaching = conn.block_storage.get_volume(vol.id)
    assert detaching.status == "detaching"
    conn.block_storage.wait_for_status(detaching, "available", interval=0.02, wait=10)
    assert list(conn.compute.volume_attachments(server)) == []


def test_volume_attachment_of_volume_in_use_is_400(elastx: Any) -> None:
    """Attaching a volume that is not available is refused with 400 (Cinder's reserve check)."""
    net, _ = make_network(elastx)
    a = boot(elastx, "a", [{"uuid": net.id}])
    b = boot(elastx, "b", [{"uuid": net.id}])
    vol = elastx.block_storage.wait_for_status(elastx.block_storage.create_volume(size=1), "available",
                                               interval=0.02, wait=10)
    elastx.compute.create_volume_attachment(a, vol)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.compute.create_volume_attachment(b, vol)
    assert "status must be available or downloading to reserve, but the current status is in-use" in str(
        err.value.details)


def test_detach_root_volume_is_400(elastx: Any) -> None:
    """DELETE os-volume_attachments of the boot volume -> 400 "Cannot detach a root device volume"."""
    net, _ = make_network(elastx)
    image = next(iter(elastx.image.images()))
    server = boot(elastx, "bfv", [{"uuid": net.id}], block_device_mapping=[
        {"boot_index": 0, "uuid": image.id, "source_type": "image", "destination_type": "volume",
         "volume_size": 2}])
    root = server.attached_volumes[0]["id"]
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.compute.delete_volume_attachment(server, root, ignore_missing=False)
    assert err.value.details == "Cannot detach a root device volume"


def test_server_interfaces_list_bound_ports(elastx: Any) -> None:
    """os-interface lists the ports whose device_id is the server."""
    net, _ = make_network(elastx)
    server = boot(elastx, "vm", [{"uuid": net.id}])
    interfaces = list(elastx.compute.server_interfaces(server))
    ports = list(elastx.network.ports(device_id=server.id))
    assert [i.port_id for i in interfaces] == [p.id for p in ports]
    assert interfaces[0].net_id == net.id and interfaces[0].fixed_ips == ports[0].fixed_ips


def test_limits_and_quota_sets_count_servers(elastx: Any) -> None:
    """GET /limits and os-quota-sets report absolute quotas and usage."""
    net, _ = make_network(elastx)
    boot(elastx, "vm", [{"uuid": net.id}])
    absolute = elastx.compute.get_limits().absolute
    assert (absolute.instances, absolute.instances_used, absolute.total_cores_used) == (10, 1, 2)
    quota = elastx.compute.get_quota_set(elastx.current_project_id, usage=True)
    assert quota.instances == 10 and quota.usage["instances"] == 1
    with pytest.raises(exceptions.ForbiddenException):
        elastx.compute.get_quota_set("someone-else")


def test_server_list_changes_since_filters_on_updated(elastx: Any) -> None:
    """changes-since keeps servers updated at or after the given time."""
    net, _ = make_network(elastx)
    server = boot(elastx, "vm", [{"uuid": net.id}])
    assert [s.id for s in elastx.compute.servers(changes_since="2000-01-01T00:00:00Z")] == [server.id]
    assert list(elastx.compute.servers(changes_since="2999-01-01T00:00:00Z")) == []


def test_server_create_on_a_bound_port_is_409_port_in_use(elastx: Any) -> None:
    """A pre-created port already bound to a server cannot be given to another one."""
    net, _ = make_network(elastx)
    port = elastx.network.create_port(network_id=net.id)
    boot(elastx, "first", [{"port": port.id}])
    with pytest.raises(exceptions.ConflictException) as err:
        boot(elastx, "second", [{"port": port.id}])
    assert err.value.details == f"Port {port.id} is still in use."
