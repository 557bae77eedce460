"""Nova's server delete as the cleanup meets it, asserted identically on both targets.

Servers boot from a volume (the realstack has no Glance) on the project's own network. On the realstack
target these run only when Nova runs (``--nova`` / ``REALSTACK_NOVA=1``); the skip says so.
"""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.conformance.conftest import Target
from tests.conformance.helpers import wait_gone, wait_status

FLAVOR = "cf.tiny"


@pytest.fixture(autouse=True)
def _nova(target: Target) -> None:
    target.need_nova()


def _flavor(target: Target) -> Any:
    found = next((f for f in target.admin.compute.flavors() if f.name == FLAVOR), None)
    if found is not None:
        return found
    if target.sim is not None:
        return next(iter(target.a.compute.flavors()))
    return target.admin.compute.create_flavor(name=FLAVOR, ram=64, vcpus=1, disk=0)


def _network(conn: Any, cidr: str) -> Any:
    net = conn.network.create_network(name="cf-net")
    conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name="cf-subnet")
    return net


def _volume(conn: Any, name: str, bootable: bool = False) -> Any:
    vol = conn.block_storage.create_volume(size=1, name=name)
    vol = wait_status(lambda: conn.block_storage.get_volume(vol.id), "available")
    if bootable:
        conn.block_storage.set_volume_bootable_status(vol, True)
    return vol


def _boot(target: Target, networks: list[dict[str, str]], root: Any) -> Any:
    conn = target.a
    bdm = [{"boot_index": 0, "uuid": root.id, "source_type": "volume", "destination_type": "volume",
            "delete_on_termination": False}]
    server = conn.compute.create_server(name="cf-vm", flavor_id=_flavor(target).id, networks=networks,
                                        block_device_mapping=bdm)
    return conn.compute.wait_for_server(server, interval=0.1, wait=120)


def _server_or_none(conn: Any, server_id: str) -> Any:
    try:
        return conn.compute.get_server(server_id)
    except sdk_exc.NotFoundException:
        return None


def _port_or_none(conn: Any, port_id: str) -> Any:
    try:
        return conn.network.get_port(port_id)
    except sdk_exc.NotFoundException:
        return None


def test_server_delete_is_asynchronous_and_takes_the_ports_nova_made(target: Target) -> None:
    """DELETE answers 204 while the server may still be listed, deleting (``task_state`` deleting, never a
    DELETED status); once it is gone, so is the port Nova created for it on the network."""
    conn = target.a
    net = _network(conn, "10.31.0.0/24")
    server = _boot(target, [{"uuid": net.id}], _volume(conn, "cf-root", bootable=True))
    ports = list(conn.network.ports(device_id=server.id))
    assert [p.device_owner for p in ports] == [f"compute:{server.availability_zone}"], ports
    response = conn.compute.delete(f"/servers/{server.id}")
    assert response.status_code == 204 and not response.content
    seen = _server_or_none(conn, server.id)
    assert seen is None or (seen.task_state == "deleting" and seen.status != "DELETED"), seen
    wait_gone(lambda: _server_or_none(conn, server.id), timeout=120)
    wait_gone(lambda: _port_or_none(conn, ports[0].id), timeout=60)


def test_pre_created_port_survives_its_server_unbound(target: Target) -> None:
    """A port handed to Nova is bound to the server's host while it runs; after the server is gone the port
    is still there, with ``device_id``, ``device_owner`` and ``binding:host_id`` emptied (Neutron's DOWN)."""
    conn = target.a
    net = _network(conn, "10.32.0.0/24")
    port = conn.network.create_port(network_id=net.id, name="cf-port")
    server = _boot(target, [{"port": port.id}], _volume(conn, "cf-root", bootable=True))
    bound = target.admin.network.get_port(port.id)
    assert (bound.device_id, bound.device_owner) == (server.id, f"compute:{server.availability_zone}")
    assert bound.binding_host_id == server.hypervisor_hostname or bound.binding_host_id, bound
    conn.compute.delete_server(server)
    wait_gone(lambda: _server_or_none(conn, server.id), timeout=120)
    left = target.admin.network.get_port(port.id)
    assert (left.device_id, left.device_owner, left.binding_host_id) == ("", "", ""), left
    assert left.status == "DOWN", left.status
    conn.network.delete_port(port)


def test_volumes_of_a_deleted_server_are_detached(target: Target) -> None:
    """The root volume (``delete_on_termination`` false) and an attached data volume are ``in-use`` while the
    server runs and ``available`` with no attachments once it is gone."""
    conn = target.a
    net = _network(conn, "10.33.0.0/24")
    root = _volume(conn, "cf-root", bootable=True)
    server = _boot(target, [{"uuid": net.id}], root)
    data = _volume(conn, "cf-data")
    conn.compute.create_volume_attachment(server, volume_id=data.id)
    for vol in (root, data):
        attached = wait_status(lambda vol=vol: conn.block_storage.get_volume(vol.id), "in-use", timeout=120)
        assert [a["server_id"] for a in attached.attachments] == [server.id], attached.attachments
    conn.compute.delete_server(server)
    wait_gone(lambda: _server_or_none(conn, server.id), timeout=120)
    for vol in (root, data):
        left = wait_status(lambda vol=vol: conn.block_storage.get_volume(vol.id), "available", timeout=120)
        assert left.attachments == [], left.attachments
        conn.block_storage.delete_volume(left)
