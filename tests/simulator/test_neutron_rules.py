"""Neutron L3 delete rules N3-N8 (openstack-dependencies.md §3 and §10), driven through openstacksdk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from kubespray_cleanup.simulator import neutron


def neutron_fault(exc: sdk_exc.HttpException) -> dict[str, Any]:
    """The ``NeutronError`` object of an SDK exception's response body."""
    assert exc.response is not None
    body: dict[str, Any] = exc.response.json()["NeutronError"]
    return body


def expect(call: Callable[[], Any], exc_type: type[sdk_exc.HttpException], status: int, err_type: str,
           message: str) -> None:
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.status_code == status
    fault = neutron_fault(info.value)
    assert fault["type"] == err_type
    assert fault["message"] == message
    assert info.value.details == message


def external_network(conn: Any) -> Any:
    return next(conn.network.networks(is_router_external=True))


def topology(conn: Any, cidr: str = "10.10.0.0/24") -> dict[str, Any]:
    """Network + subnet + router (gateway on the external net) + interface, all built through the API."""
    ext = external_network(conn)
    net = conn.network.create_network(name="net")
    subnet = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name="subnet")
    router = conn.network.create_router(name="router", external_gateway_info={"network_id": ext.id})
    iface = conn.network.add_interface_to_router(router, subnet=subnet.id)
    return {"ext": ext, "net": net, "subnet": subnet, "router": router, "iface_port_id": iface["port_id"]}


def test_router_delete_with_interfaces_is_409_router_in_use(elastx: Any) -> None:
    """N3: attached interface ports block router delete; ids joined with ', ' and no trailing period."""
    topo = topology(elastx)
    net2 = elastx.network.create_network(name="net2")
    sub2 = elastx.network.create_subnet(network_id=net2.id, cidr="10.11.0.0/24", ip_version=4)
    second = elastx.network.add_interface_to_router(topo["router"], subnet=sub2.id)["port_id"]
    rid = topo["router"].id
    expect(lambda: elastx.network.delete_router(rid), sdk_exc.ConflictException, 409, "RouterInUse",
           f"Router {rid} has ports still attached: {topo['iface_port_id']}, {second}")


def test_router_gateway_clear_with_fip_is_409_gateway_in_use_by_floating_ip(elastx: Any) -> None:
    """N4: clearing the gateway while a FIP is routed through the router."""
    topo = topology(elastx)
    port = elastx.network.create_port(network_id=topo["net"].id)
    elastx.network.create_ip(floating_network_id=topo["ext"].id, port_id=port.id)
    rid = topo["router"].id
    expect(lambda: elastx.network.update_router(rid, external_gateway_info={}), sdk_exc.ConflictException, 409,
           "RouterExternalGatewayInUseByFloatingIp",
           f"Gateway cannot be updated for router {rid}, since a gateway to external network {topo['ext'].id} is "
           "required by one or more floating IPs.")


def test_router_delete_with_fip_and_no_interface_is_409_gateway_in_use(sim: Any, elastx: Any) -> None:
    """N4: router DELETE checks FIPs after interfaces (interface port vanished behind Neutron's back)."""
    topo = topology(elastx)
    port = elastx.network.create_port(network_id=topo["net"].id)
    elastx.network.create_ip(floating_network_id=topo["ext"].id, port_id=port.id)
    with sim.store.lock:
        neutron.remove_port(sim.store, topo["iface_port_id"])
    rid = topo["router"].id
    expect(lambda: elastx.network.delete_router(rid), sdk_exc.ConflictException, 409,
           "RouterExternalGatewayInUseByFloatingIp",
           f"Gateway cannot be updated for router {rid}, since a gateway to external network {topo['ext'].id} is "
           "required by one or more floating IPs.")


def test_remove_router_interface_with_fip_is_409_in_use_by_floating_ip(elastx: Any) -> None:
    """N5: a FIP behind the interface blocks its removal."""
    topo = topology(elastx)
    port = elastx.network.create_port(network_id=topo["net"].id)
    elastx.network.create_ip(floating_network_id=topo["ext"].id, port_id=port.id)
    rid, sid = topo["router"].id, topo["subnet"].id
    expect(lambda: elastx.network.remove_interface_from_router(rid, subnet=sid), sdk_exc.ConflictException,
           409, "RouterInterfaceInUseByFloatingIP",
           f"Router interface for subnet {sid} on router {rid} cannot be deleted, as it is required by one or more "
           "floating IPs.")


def test_remove_router_interface_with_route_nexthop_is_409_in_use_by_route(elastx: Any) -> None:
    """N6: an extra route whose nexthop lies in the subnet blocks interface removal (by port id too)."""
    topo = topology(elastx)
    rid, sid = topo["router"].id, topo["subnet"].id
    elastx.network.add_extra_routes_to_router(
        rid, body={"router": {"routes": [{"destination": "10.233.64.0/24", "nexthop": "10.10.0.50"}]}})
    message = (f"Router interface for subnet {sid} on router {rid} cannot be deleted, as it is required by one or "
               "more routes.")
    expect(lambda: elastx.network.remove_interface_from_router(rid, subnet=sid), sdk_exc.ConflictException,
           409, "RouterInterfaceInUseByRoute", message)
    expect(lambda: elastx.network.remove_interface_from_router(rid, port=topo["iface_port_id"]),
           sdk_exc.ConflictException, 409, "RouterInterfaceInUseByRoute", message)


def test_remove_router_interface_unknown_subnet_is_404_not_found_for_subnet(elastx: Any) -> None:
    """N7: no interface on that subnet (no trailing period)."""
    topo = topology(elastx)
    other = elastx.network.create_network(name="x")
    sub = elastx.network.create_subnet(network_id=other.id, cidr="10.99.0.0/24", ip_version=4)
    rid = topo["router"].id
    expect(lambda: elastx.network.remove_interface_from_router(rid, subnet=sub.id), sdk_exc.NotFoundException,
           404, "RouterInterfaceNotFoundForSubnet", f"Router {rid} has no interface on subnet {sub.id}")


def test_remove_router_interface_unknown_port_is_404_router_interface_not_found(elastx: Any) -> None:
    """N7: port is not an interface of this router."""
    topo = topology(elastx)
    port = elastx.network.create_port(network_id=topo["net"].id)
    rid = topo["router"].id
    expect(lambda: elastx.network.remove_interface_from_router(rid, port=port.id), sdk_exc.NotFoundException,
           404, "RouterInterfaceNotFound", f"Router {rid} does not have an interface with id {port.id}")


def test_port_delete_router_interface_is_409_service_port_in_use(elastx: Any) -> None:
    """N8: router interface ports go through remove_router_interface."""
    pid = topology(elastx)["iface_port_id"]
    expect(lambda: elastx.network.delete_port(pid), sdk_exc.ConflictException, 409, "ServicePortInUse",
           f"Port {pid} cannot be deleted directly via the port API: has device owner network:router_interface.")


def test_port_delete_router_gateway_is_409_service_port_in_use(elastx: Any, admin: Any) -> None:
    """N8: the router gateway port (admin-visible, project '') cannot be deleted directly."""
    topo = topology(elastx)
    gw = next(admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway"))
    assert gw.project_id == ""
    expect(lambda: admin.network.delete_port(gw.id), sdk_exc.ConflictException, 409, "ServicePortInUse",
           f"Port {gw.id} cannot be deleted directly via the port API: has device owner network:router_gateway.")


def test_port_delete_floatingip_port_is_409_service_port_in_use(elastx: Any, admin: Any) -> None:
    """N8: a FIP's internal port goes away with the FIP only."""
    fip = elastx.network.create_ip(floating_network_id=external_network(elastx).id)
    fport = next(admin.network.ports(device_id=fip.id))
    assert fport.device_owner == "network:floatingip"
    expect(lambda: admin.network.delete_port(fport.id), sdk_exc.ConflictException, 409, "ServicePortInUse",
           f"Port {fport.id} cannot be deleted directly via the port API: has device owner network:floatingip.")


def test_port_delete_service_port_of_vanished_router_is_allowed(sim: Any, elastx: Any) -> None:
    """N8 exception: once the owning router no longer exists the interface port can be deleted."""
    topo = topology(elastx)
    with sim.store.lock:
        sim.store.remove("routers", topo["router"].id)
    elastx.network.delete_port(topo["iface_port_id"])
    with pytest.raises(sdk_exc.NotFoundException):
        elastx.network.get_port(topo["iface_port_id"])
