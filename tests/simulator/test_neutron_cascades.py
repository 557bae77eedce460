"""Neutron side effects of deletes and detaches (openstack-dependencies.md §3 and §10 cascades)."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exc


def _ext(conn: Any) -> Any:
    return next(conn.network.networks(is_router_external=True))


def _gone(call: Any, rid: str) -> bool:
    try:
        call(rid)
    except sdk_exc.NotFoundException:
        return True
    return False


def _routed_port(conn: Any) -> dict[str, Any]:
    ext = _ext(conn)
    net = conn.network.create_network(name="net")
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.50.0.0/24", ip_version=4)
    router = conn.network.create_router(name="r", external_gateway_info={"network_id": ext.id})
    iface = conn.network.add_interface_to_router(router, subnet=subnet.id)
    port = conn.network.create_port(network_id=net.id, name="vm")
    return {"ext": ext, "net": net, "subnet": subnet, "router": router, "iface": iface["port_id"], "port": port}


def test_network_delete_removes_dhcp_port_and_subnets(elastx: Any) -> None:
    """Network delete takes its auto-owned ports and every subnet with it."""
    net = elastx.network.create_network(name="n")
    s1 = elastx.network.create_subnet(network_id=net.id, cidr="10.60.0.0/24", ip_version=4)
    s2 = elastx.network.create_subnet(network_id=net.id, cidr="fd00:60::/64", ip_version=6)
    dhcp = list(elastx.network.ports(network_id=net.id))
    assert [p.device_owner for p in dhcp] == ["network:dhcp"]
    assert {ip["subnet_id"] for ip in dhcp[0].fixed_ips} == {s1.id, s2.id}
    elastx.network.delete_network(net)
    assert list(elastx.network.ports(network_id=net.id)) == []
    assert list(elastx.network.subnets(network_id=net.id)) == []
    assert _gone(elastx.network.get_subnet, s1.id) and _gone(elastx.network.get_subnet, s2.id)


def test_subnet_delete_strips_dhcp_allocation(elastx: Any) -> None:
    """Deleting one subnet removes only that subnet's IP from the DHCP port and from network.subnets."""
    net = elastx.network.create_network(name="n")
    s1 = elastx.network.create_subnet(network_id=net.id, cidr="10.61.0.0/24", ip_version=4)
    s2 = elastx.network.create_subnet(network_id=net.id, cidr="10.62.0.0/24", ip_version=4)
    elastx.network.delete_subnet(s1)
    dhcp = next(elastx.network.ports(network_id=net.id, device_owner="network:dhcp"))
    assert [ip["subnet_id"] for ip in dhcp.fixed_ips] == [s2.id]
    assert elastx.network.get_network(net.id).subnet_ids == [s2.id]


def test_security_group_delete_removes_rules_and_remote_group_references(elastx: Any) -> None:
    """SG delete removes its own rules and every rule elsewhere whose remote_group_id is the deleted group."""
    target = elastx.network.create_security_group(name="target")
    holder = elastx.network.create_security_group(name="holder")
    own = elastx.network.create_security_group_rule(security_group_id=target.id, direction="ingress",
                                                    protocol="tcp", port_range_min=22, port_range_max=22)
    ref = elastx.network.create_security_group_rule(security_group_id=holder.id, direction="ingress",
                                                    remote_group_id=target.id)
    kept = elastx.network.create_security_group_rule(security_group_id=holder.id, direction="ingress",
                                                     protocol="tcp", port_range_min=443, port_range_max=443)
    elastx.network.delete_security_group(target)
    assert _gone(elastx.network.get_security_group_rule, own.id)
    assert _gone(elastx.network.get_security_group_rule, ref.id)
    rules = {r["id"] for r in elastx.network.get_security_group(holder.id).security_group_rules}
    assert kept.id in rules and ref.id not in rules
    assert len(rules) == 3  # two default egress rules + the kept one


def test_port_delete_disassociates_floating_ip(elastx: Any) -> None:
    """Port delete leaves its FIP behind, disassociated and DOWN."""
    topo = _routed_port(elastx)
    fip = elastx.network.create_ip(floating_network_id=topo["ext"].id, port_id=topo["port"].id)
    assert fip.status == "ACTIVE" and fip.router_id == topo["router"].id
    elastx.network.delete_port(topo["port"])
    after = elastx.network.get_ip(fip.id)
    assert (after.port_id, after.fixed_ip_address, after.router_id, after.status) == (None, None, None, "DOWN")


def test_floating_ip_disassociate_with_port_id_null(elastx: Any) -> None:
    """PUT port_id null disassociates the FIP, after which the interface can be removed."""
    topo = _routed_port(elastx)
    fip = elastx.network.create_ip(floating_network_id=topo["ext"].id, port_id=topo["port"].id)
    after = elastx.network.update_ip(fip, port_id=None)
    assert (after.port_id, after.fixed_ip_address, after.router_id, after.status) == (None, None, None, "DOWN")
    elastx.network.remove_interface_from_router(topo["router"], subnet=topo["subnet"].id)


def test_floating_ip_delete_removes_its_internal_port(elastx: Any, admin: Any) -> None:
    """FIP delete removes the network:floatingip port (project '' and hidden from the member)."""
    fip = elastx.network.create_ip(floating_network_id=_ext(elastx).id)
    fport = next(admin.network.ports(device_id=fip.id))
    assert (fport.device_owner, fport.project_id) == ("network:floatingip", "")
    assert list(elastx.network.ports(device_id=fip.id)) == []
    elastx.network.delete_ip(fip)
    assert _gone(admin.network.get_port, fport.id)


def test_remove_router_interface_deletes_interface_port(elastx: Any) -> None:
    """remove_router_interface (by subnet or by port) deletes the interface port."""
    topo = _routed_port(elastx)
    body = elastx.network.remove_interface_from_router(topo["router"], subnet=topo["subnet"].id)
    assert body["port_id"] == topo["iface"] and body["subnet_id"] == topo["subnet"].id
    assert _gone(elastx.network.get_port, topo["iface"])
    again = elastx.network.add_interface_to_router(topo["router"], subnet=topo["subnet"].id)
    elastx.network.remove_interface_from_router(topo["router"], port=again["port_id"])
    assert _gone(elastx.network.get_port, again["port_id"])


def test_router_delete_removes_gateway_port(elastx: Any, admin: Any) -> None:
    """Router delete (after interfaces are gone) removes its gateway port."""
    topo = _routed_port(elastx)
    gw = next(admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway"))
    elastx.network.remove_interface_from_router(topo["router"], subnet=topo["subnet"].id)
    elastx.network.delete_router(topo["router"])
    assert _gone(admin.network.get_port, gw.id)
    assert list(admin.network.ports(device_id=topo["router"].id)) == []


def test_router_gateway_clear_removes_gateway_port(elastx: Any, admin: Any) -> None:
    """Clearing external_gateway_info deletes the router_gateway port."""
    topo = _routed_port(elastx)
    router = elastx.network.update_router(topo["router"], external_gateway_info={})
    assert router.external_gateway_info is None
    assert list(admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway")) == []


def test_router_extra_routes_remove_unblocks_interface(elastx: Any) -> None:
    """remove_extraroutes drops the route so the interface can go; update_router(routes=[]) works too."""
    topo = _routed_port(elastx)
    route = {"destination": "10.233.64.0/24", "nexthop": "10.50.0.10"}
    router = elastx.network.add_extra_routes_to_router(topo["router"], body={"router": {"routes": [route]}})
    assert router.routes == [route]
    router = elastx.network.remove_extra_routes_from_router(topo["router"], body={"router": {"routes": [route]}})
    assert router.routes == []
    elastx.network.update_router(topo["router"], routes=[route])
    elastx.network.update_router(topo["router"], routes=[])
    elastx.network.remove_interface_from_router(topo["router"], subnet=topo["subnet"].id)


def test_extra_route_with_unconnected_nexthop_is_400_invalid_routes(elastx: Any) -> None:
    """Routes need a nexthop inside a subnet attached to the router."""
    topo = _routed_port(elastx)
    with pytest.raises(sdk_exc.BadRequestException) as info:
        elastx.network.update_router(topo["router"], routes=[{"destination": "0.0.0.0/0", "nexthop": "192.0.2.1"}])
    assert info.value.response is not None
    assert info.value.response.json()["NeutronError"]["type"] == "InvalidRoutes"


def test_network_owner_sees_and_deletes_foreign_port_on_its_network(elastx: Any, other: Any, admin: Any) -> None:
    """Policy: the network owner lists and deletes another project's port on its network."""
    net = elastx.network.create_network(name="n")
    elastx.network.create_subnet(network_id=net.id, cidr="10.70.0.0/24", ip_version=4)
    other_project = other.current_project_id
    foreign = admin.network.create_port(network_id=net.id, project_id=other_project, name="vrrp")
    assert foreign.project_id == other_project
    seen = {p.id for p in elastx.network.ports(network_id=net.id)}
    assert foreign.id in seen
    assert other.network.get_port(foreign.id).id == foreign.id
    elastx.network.delete_port(foreign)
    assert _gone(admin.network.get_port, foreign.id)


def test_router_gateway_port_is_hidden_from_members(elastx: Any, admin: Any) -> None:
    """Gateway ports carry project '' and only admins list them."""
    topo = _routed_port(elastx)
    member_owners = {p.device_owner for p in elastx.network.ports()}
    assert "network:router_gateway" not in member_owners
    gw = list(admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway"))
    assert len(gw) == 1 and gw[0].project_id == ""
    info = elastx.network.get_router(topo["router"].id).external_gateway_info
    assert info["network_id"] == topo["ext"].id
    assert info["external_fixed_ips"][0]["ip_address"] == gw[0].fixed_ips[0]["ip_address"]
