"""Neutron's delete rules, cascades and error bodies, asserted identically on the simulator and real Neutron.

Each refusal is checked for status, ``NeutronError`` type and exact message (``detail`` empty), the
way real Neutron 29 answers (``shared/realstack-reference/delete_order_results.json`` holds the
probe these started from).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conformance.conftest import Target
from tests.conformance.helpers import id_list, neutron_error, topology

MISSING = "5b3f4a0e-0000-4000-8000-00000000dead"


def _fip_topology(target: Target) -> tuple[dict[str, Any], Any, Any, Any]:
    """topology() + a user port on the subnet + a floating IP on that port."""
    ext = target.external_network()
    topo = topology(target.a, ext)
    port = target.a.network.create_port(network_id=topo["net"].id, name="cf-port")
    fip = target.a.network.create_ip(floating_network_id=ext.id, port_id=port.id)
    return topo, ext, port, fip


# --- N1/N2: networks and subnets -----------------------------------------------------------------------
def test_network_in_use_lists_every_port_id(target: Target) -> None:
    """NetworkInUse: 409, the ids of the ports still on the network, comma-joined without spaces."""
    topo = topology(target.a, target.external_network())
    port = target.a.network.create_port(network_id=topo["net"].id, name="cf-port")
    net_id = topo["net"].id
    prefix = (f"Unable to complete operation on network {net_id}. There are one or more ports still in use on the "
              "network, id for these ports is: ")
    message = neutron_error(lambda: target.a.network.delete_network(net_id), 409, "NetworkInUse",
                            re.compile(re.escape(prefix) + r".*\."))
    assert sorted(id_list(message, prefix, ",", ".")) == sorted([topo["iface_port_id"], port.id])


def test_subnet_in_use_by_a_user_port(target: Target) -> None:
    """SubnetInUse: a user port with an IP on the subnet blocks its delete."""
    net = target.a.network.create_network(name="cf-net")
    subnet = target.a.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    target.a.network.create_port(network_id=net.id)
    neutron_error(lambda: target.a.network.delete_subnet(subnet), 409, "SubnetInUse",
                  f"Unable to complete operation on subnet {subnet.id}: One or more ports have an IP allocation "
                  "from this subnet.")


def test_subnet_in_use_by_a_router_interface(target: Target) -> None:
    """SubnetInUse: a router interface on the subnet blocks its delete."""
    topo = topology(target.a, target.external_network())
    sid = topo["subnet"].id
    neutron_error(lambda: target.a.network.delete_subnet(sid), 409, "SubnetInUse",
                  f"Unable to complete operation on subnet {sid}: One or more ports have an IP allocation from "
                  "this subnet.")


def test_network_delete_takes_its_subnets_with_it(target: Target) -> None:
    """A network with subnets and no user ports deletes (204) and its subnets go with it."""
    net = target.a.network.create_network(name="cf-net")
    subnet = target.a.network.create_subnet(network_id=net.id, cidr="10.21.0.0/24", ip_version=4)
    target.a.network.delete_network(net, ignore_missing=False)
    assert target.a.network.find_subnet(subnet.id, ignore_missing=True) is None


# --- N3-N8: routers and their ports --------------------------------------------------------------------
def test_router_in_use_lists_attached_ports(target: Target) -> None:
    """RouterInUse: "has ports still attached: " + interface port ids joined with ", ", no final period."""
    ext = target.external_network()
    topo = topology(target.a, ext)
    net2 = target.a.network.create_network(name="cf-net2")
    sub2 = target.a.network.create_subnet(network_id=net2.id, cidr="10.11.0.0/24", ip_version=4)
    second = target.a.network.add_interface_to_router(topo["router"], subnet=sub2.id)["port_id"]
    rid = topo["router"].id
    prefix = f"Router {rid} has ports still attached: "
    message = neutron_error(lambda: target.a.network.delete_router(rid), 409, "RouterInUse",
                            re.compile(re.escape(prefix) + ".*"))
    assert sorted(id_list(message, prefix, ", ", "")) == sorted([topo["iface_port_id"], second])


def test_router_with_interface_and_fip_answers_router_in_use_first(target: Target) -> None:
    """Router DELETE checks interfaces before floating IPs."""
    topo, _, _, _ = _fip_topology(target)
    rid = topo["router"].id
    neutron_error(lambda: target.a.network.delete_router(rid), 409, "RouterInUse",
                  f"Router {rid} has ports still attached: {topo['iface_port_id']}")


def test_remove_router_interface_in_use_by_floating_ip(target: Target) -> None:
    """RouterInterfaceInUseByFloatingIP: a FIP behind the interface blocks its removal."""
    topo, _, _, _ = _fip_topology(target)
    rid, sid = topo["router"].id, topo["subnet"].id
    neutron_error(lambda: target.a.network.remove_interface_from_router(rid, subnet=sid), 409,
                  "RouterInterfaceInUseByFloatingIP",
                  f"Router interface for subnet {sid} on router {rid} cannot be deleted, as it is required by one "
                  "or more floating IPs.")


def test_router_gateway_clear_in_use_by_floating_ip(target: Target) -> None:
    """RouterExternalGatewayInUseByFloatingIp: clearing the gateway while a FIP is routed through it."""
    topo, ext, _, _ = _fip_topology(target)
    rid = topo["router"].id
    neutron_error(lambda: target.a.network.update_router(rid, external_gateway_info={}), 409,
                  "RouterExternalGatewayInUseByFloatingIp",
                  f"Gateway cannot be updated for router {rid}, since a gateway to external network {ext.id} is "
                  "required by one or more floating IPs.")


def test_remove_router_interface_in_use_by_route(target: Target) -> None:
    """RouterInterfaceInUseByRoute: an extra route's nexthop in the subnet blocks removal (by subnet or port)."""
    topo = topology(target.a, target.external_network())
    rid, sid = topo["router"].id, topo["subnet"].id
    target.a.network.add_extra_routes_to_router(
        rid, body={"router": {"routes": [{"destination": "10.233.64.0/24", "nexthop": "10.10.0.50"}]}})
    message = (f"Router interface for subnet {sid} on router {rid} cannot be deleted, as it is required by one or "
               "more routes.")
    neutron_error(lambda: target.a.network.remove_interface_from_router(rid, subnet=sid), 409,
                  "RouterInterfaceInUseByRoute", message)
    neutron_error(lambda: target.a.network.remove_interface_from_router(rid, port=topo["iface_port_id"]), 409,
                  "RouterInterfaceInUseByRoute", message)


def test_remove_router_interface_on_a_subnet_without_one_is_404(target: Target) -> None:
    """RouterInterfaceNotFoundForSubnet (no final period)."""
    topo = topology(target.a, target.external_network())
    net = target.a.network.create_network(name="cf-x")
    sub = target.a.network.create_subnet(network_id=net.id, cidr="10.99.0.0/24", ip_version=4)
    rid = topo["router"].id
    neutron_error(lambda: target.a.network.remove_interface_from_router(rid, subnet=sub.id), 404,
                  "RouterInterfaceNotFoundForSubnet", f"Router {rid} has no interface on subnet {sub.id}")


def test_remove_router_interface_with_a_foreign_port_is_404(target: Target) -> None:
    """RouterInterfaceNotFound: the port is not an interface of this router."""
    topo = topology(target.a, target.external_network())
    port = target.a.network.create_port(network_id=topo["net"].id)
    rid = topo["router"].id
    neutron_error(lambda: target.a.network.remove_interface_from_router(rid, port=port.id), 404,
                  "RouterInterfaceNotFound", f"Router {rid} does not have an interface with id {port.id}")


def test_router_interface_port_cannot_be_deleted_directly(target: Target) -> None:
    """ServicePortInUse for network:router_interface."""
    pid = topology(target.a, target.external_network())["iface_port_id"]
    neutron_error(lambda: target.a.network.delete_port(pid), 409, "ServicePortInUse",
                  f"Port {pid} cannot be deleted directly via the port API: has device owner "
                  "network:router_interface.")


def test_router_gateway_port_cannot_be_deleted_directly(target: Target) -> None:
    """ServicePortInUse for network:router_gateway (a port only admin sees, with an empty project)."""
    topo = topology(target.a, target.external_network())
    gw = next(target.admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway"))
    assert gw.project_id == ""
    assert list(target.a.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway")) == []
    neutron_error(lambda: target.admin.network.delete_port(gw.id), 409, "ServicePortInUse",
                  f"Port {gw.id} cannot be deleted directly via the port API: has device owner "
                  "network:router_gateway.")


def test_floating_ip_port_cannot_be_deleted_directly(target: Target) -> None:
    """ServicePortInUse for network:floatingip: the FIP's own port goes away with the FIP only."""
    fip = target.a.network.create_ip(floating_network_id=target.external_network().id)
    fport = next(target.admin.network.ports(device_id=fip.id))
    assert (fport.device_owner, fport.project_id) == ("network:floatingip", "")
    neutron_error(lambda: target.admin.network.delete_port(fport.id), 409, "ServicePortInUse",
                  f"Port {fport.id} cannot be deleted directly via the port API: has device owner "
                  "network:floatingip.")
    target.a.network.delete_ip(fip, ignore_missing=False)
    assert target.admin.network.find_port(fport.id, ignore_missing=True) is None


def test_external_network_and_subnet_with_gateway_and_fip_are_in_use(target: Target) -> None:
    """Admin deleting the external network or its subnet meets NetworkInUse/SubnetInUse (gateway + FIP ports)."""
    topo, ext, _, fip = _fip_topology(target)
    gw = next(target.admin.network.ports(device_id=topo["router"].id, device_owner="network:router_gateway"))
    fport = next(target.admin.network.ports(device_id=fip.id))
    prefix = (f"Unable to complete operation on network {ext.id}. There are one or more ports still in use on the "
              "network, id for these ports is: ")
    message = neutron_error(lambda: target.admin.network.delete_network(ext.id), 409, "NetworkInUse",
                            re.compile(re.escape(prefix) + r".*\."))
    assert {gw.id, fport.id} <= set(id_list(message, prefix, ",", "."))
    ext_subnet = ext.subnet_ids[0]
    neutron_error(lambda: target.admin.network.delete_subnet(ext_subnet), 409, "SubnetInUse",
                  f"Unable to complete operation on subnet {ext_subnet}: One or more ports have an IP allocation "
                  "from this subnet.")


# --- cascades the cleanup relies on --------------------------------------------------------------------
def test_right_order_teardown_is_all_2xx(target: Target) -> None:
    """FIP, port, interface, gateway, router, subnet, network: every step succeeds, nothing is left."""
    topo, _, port, fip = _fip_topology(target)
    net = target.a.network
    net.delete_ip(fip, ignore_missing=False)
    net.delete_port(port, ignore_missing=False)
    net.remove_interface_from_router(topo["router"], subnet=topo["subnet"].id)
    assert net.find_port(topo["iface_port_id"], ignore_missing=True) is None
    net.update_router(topo["router"], external_gateway_info={})
    assert list(target.admin.network.ports(device_id=topo["router"].id)) == []
    net.delete_router(topo["router"], ignore_missing=False)
    net.delete_subnet(topo["subnet"], ignore_missing=False)
    net.delete_network(topo["net"], ignore_missing=False)
    assert net.find_network(topo["net"].id, ignore_missing=True) is None


def test_port_delete_disassociates_its_floating_ip(target: Target) -> None:
    """Deleting a port leaves its FIP allocated but unassociated."""
    _, _, port, fip = _fip_topology(target)
    target.a.network.delete_port(port, ignore_missing=False)
    after = target.a.network.get_ip(fip.id)
    assert (after.port_id, after.fixed_ip_address) == (None, None)


def test_router_delete_removes_its_gateway_port(target: Target) -> None:
    """A router with only a gateway deletes (204) and takes the gateway port with it."""
    router = target.a.network.create_router(name="cf-gw-only",
                                            external_gateway_info={"network_id": target.external_network().id})
    gw = next(target.admin.network.ports(device_id=router.id, device_owner="network:router_gateway"))
    target.a.network.delete_router(router, ignore_missing=False)
    assert target.admin.network.find_port(gw.id, ignore_missing=True) is None


# --- N9/N10: security groups ---------------------------------------------------------------------------
def test_security_group_in_use_by_a_port(target: Target) -> None:
    """SecurityGroupInUse: a port bound to the group blocks its deletion."""
    sg = target.a.network.create_security_group(name="cf-sg")
    net = target.a.network.create_network(name="cf-net")
    target.a.network.create_subnet(network_id=net.id, cidr="10.30.0.0/24", ip_version=4)
    target.a.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    neutron_error(lambda: target.a.network.delete_security_group(sg), 409, "SecurityGroupInUse",
                  f"Security Group {sg.id} in use.")


def test_default_security_group_cannot_be_removed_by_a_member(target: Target) -> None:
    """SecurityGroupCannotRemoveDefault for the project's own member (project B never has ports here)."""
    conn = target.b
    default = next(conn.network.security_groups(name="default", project_id=conn.current_project_id))
    neutron_error(lambda: conn.network.delete_security_group(default), 409, "SecurityGroupCannotRemoveDefault",
                  "Insufficient rights for removing default security group.")


def test_default_security_group_in_use_answers_in_use_before_cannot_remove_default(target: Target) -> None:
    """Neutron checks port bindings before the name: a used default group answers SecurityGroupInUse."""
    net = target.a.network.create_network(name="cf-net")
    target.a.network.create_subnet(network_id=net.id, cidr="10.31.0.0/24", ip_version=4)
    port = target.a.network.create_port(network_id=net.id)
    default = next(target.a.network.security_groups(name="default", project_id=target.a.current_project_id))
    assert port.security_group_ids == [default.id]
    neutron_error(lambda: target.a.network.delete_security_group(default), 409, "SecurityGroupInUse",
                  f"Security Group {default.id} in use.")


def test_remote_group_reference_does_not_block_and_its_rule_cascades(target: Target) -> None:
    """A group referenced only by another group's rule deletes with 204, and the referencing rule goes too."""
    net = target.a.network
    referenced = net.create_security_group(name="cf-referenced")
    holder = net.create_security_group(name="cf-holder")
    rule = net.create_security_group_rule(security_group_id=holder.id, direction="ingress", ethertype="IPv4",
                                          protocol="tcp", port_range_min=22, port_range_max=22,
                                          remote_group_id=referenced.id)
    response = net.delete(f"/security-groups/{referenced.id}")
    assert response.status_code == 204
    assert net.find_security_group_rule(rule.id, ignore_missing=True) is None
    assert rule.id not in {r["id"] for r in net.get_security_group(holder.id).security_group_rules}
    assert net.delete(f"/security-groups/{holder.id}").status_code == 204


def test_each_project_has_exactly_one_default_group_with_four_rules(target: Target) -> None:
    """Every project gets its own ``default`` group: 2 ingress (remote group self) + 2 egress rules."""
    defaults = {}
    for conn in (target.a, target.b):
        groups = list(conn.network.security_groups(name="default", project_id=conn.current_project_id))
        assert len(groups) == 1
        defaults[conn.current_project_id] = groups[0]
        rules = groups[0].security_group_rules
        assert sorted((r["direction"], r["ethertype"]) for r in rules) == [
            ("egress", "IPv4"), ("egress", "IPv6"), ("ingress", "IPv4"), ("ingress", "IPv6")]
        assert {r["remote_group_id"] for r in rules if r["direction"] == "ingress"} == {groups[0].id}
    assert len({g.id for g in defaults.values()}) == 2


def test_new_security_group_has_two_egress_rules(target: Target) -> None:
    sg = target.a.network.create_security_group(name="cf-fresh")
    assert sorted((r["direction"], r["ethertype"]) for r in sg.security_group_rules) == [
        ("egress", "IPv4"), ("egress", "IPv6")]


def test_a_group_named_default_cannot_be_created(target: Target) -> None:
    """SecurityGroupDefaultAlreadyExists (409)."""
    neutron_error(lambda: target.a.network.create_security_group(name="default"), 409,
                  "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")


# --- isolation and 404s --------------------------------------------------------------------------------
def test_another_projects_network_is_invisible_and_answers_not_found(target: Target) -> None:
    """Project B sees neither A's network in lists nor by id (404 NetworkNotFound, as if missing); admin sees it."""
    net = target.a.network.create_network(name="cf-private")
    message = f"Network {net.id} could not be found."
    neutron_error(lambda: target.b.network.get_network(net.id), 404, "NetworkNotFound", message)
    neutron_error(lambda: target.b.network.delete_network(net.id, ignore_missing=False), 404, "NetworkNotFound",
                  message)
    assert net.id not in {n.id for n in target.b.network.networks()}
    assert net.id in {n.id for n in target.admin.network.networks(project_id=target.a.current_project_id)}
    assert target.a.network.get_network(net.id).id == net.id


def test_another_projects_security_group_and_port_are_not_found(target: Target) -> None:
    sg = target.a.network.create_security_group(name="cf-private-sg")
    net = target.a.network.create_network(name="cf-private")
    port = target.a.network.create_port(network_id=net.id)
    neutron_error(lambda: target.b.network.delete_security_group(sg.id, ignore_missing=False), 404,
                  "SecurityGroupNotFound", f"Security group {sg.id} does not exist")
    neutron_error(lambda: target.b.network.delete_port(port.id, ignore_missing=False), 404, "PortNotFound",
                  f"Port {port.id} could not be found.")


def test_a_member_deleting_the_visible_external_network_is_403_by_policy(target: Target) -> None:
    """Policy: members see the external network; its DELETE is refused 403 PolicyNotAuthorized (not hidden)."""
    ext = target.external_network()
    neutron_error(lambda: target.a.network.delete_network(ext.id, ignore_missing=False), 403, "PolicyNotAuthorized",
                  "rule:delete_network is disallowed by policy")


@pytest.mark.parametrize(("getter", "deleter", "err_type", "template"), [
    ("get_network", "delete_network", "NetworkNotFound", "Network {id} could not be found."),
    ("get_subnet", "delete_subnet", "SubnetNotFound", "Subnet {id} could not be found."),
    ("get_port", "delete_port", "PortNotFound", "Port {id} could not be found."),
    ("get_router", "delete_router", "RouterNotFound", "Router {id} could not be found"),
    ("get_ip", "delete_ip", "FloatingIPNotFound", "Floating IP {id} could not be found"),
    ("get_security_group", "delete_security_group", "SecurityGroupNotFound", "Security group {id} does not exist"),
    ("get_security_group_rule", "delete_security_group_rule", "SecurityGroupRuleNotFound",
     "Security group rule {id} does not exist"),
])
def test_missing_resource_is_404_with_its_not_found_type(target: Target, getter: str, deleter: str, err_type: str,
                                                         template: str) -> None:
    """GET and DELETE of a missing id: 404 with the resource's NotFound type and exact text."""
    message = template.format(id=MISSING)
    net = target.a.network
    neutron_error(lambda: getattr(net, getter)(MISSING), 404, err_type, message)
    neutron_error(lambda: getattr(net, deleter)(MISSING, ignore_missing=False), 404, err_type, message)
    getattr(net, deleter)(MISSING, ignore_missing=True)
