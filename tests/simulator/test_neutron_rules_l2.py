"""Neutron L2, security-group, trunk and 404 rules (N1, N2, N9-N12) driven through openstacksdk."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.simulator.test_neutron_rules import expect, external_network, topology


def test_network_delete_with_user_port_is_409_network_in_use(elastx: Any) -> None:
    """N1: non-auto ports block network delete; all their ids are listed comma-joined without spaces."""
    topo = topology(elastx)
    port = elastx.network.create_port(network_id=topo["net"].id, name="p")
    net_id = topo["net"].id
    expect(lambda: elastx.network.delete_network(net_id), sdk_exc.ConflictException, 409, "NetworkInUse",
           f"Unable to complete operation on network {net_id}. There are one or more ports still in use on the "
           f"network, id for these ports is: {topo['iface_port_id']},{port.id}.")


def test_subnet_delete_with_user_port_is_409_subnet_in_use(elastx: Any) -> None:
    """N2: a user port with an IP on the subnet blocks subnet delete."""
    net = elastx.network.create_network(name="net")
    subnet = elastx.network.create_subnet(network_id=net.id, cidr="10.20.0.0/24", ip_version=4)
    elastx.network.create_port(network_id=net.id)
    expect(lambda: elastx.network.delete_subnet(subnet), sdk_exc.ConflictException, 409, "SubnetInUse",
           f"Unable to complete operation on subnet {subnet.id}: One or more ports have an IP allocation from this "
           "subnet.")


def test_subnet_delete_with_router_interface_is_409_subnet_in_use(elastx: Any) -> None:
    """N2: a router interface on the subnet blocks subnet delete."""
    topo = topology(elastx)
    sid = topo["subnet"].id
    expect(lambda: elastx.network.delete_subnet(sid), sdk_exc.ConflictException, 409, "SubnetInUse",
           f"Unable to complete operation on subnet {sid}: One or more ports have an IP allocation from this "
           "subnet.")


def test_slaac_subnet_delete_strips_user_port_allocations(elastx: Any) -> None:
    """N2 exception: IPv6 SLAAC allocations of user ports do not block; they are removed with the subnet."""
    net = elastx.network.create_network(name="v6")
    v4 = elastx.network.create_subnet(network_id=net.id, cidr="10.21.0.0/24", ip_version=4)
    v6 = elastx.network.create_subnet(network_id=net.id, cidr="fd00:21::/64", ip_version=6,
                                      ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    port = elastx.network.create_port(network_id=net.id)
    assert {ip["subnet_id"] for ip in port.fixed_ips} == {v4.id, v6.id}
    elastx.network.delete_subnet(v6)
    assert [ip["subnet_id"] for ip in elastx.network.get_port(port.id).fixed_ips] == [v4.id]


def test_security_group_delete_in_use_is_409_security_group_in_use(elastx: Any) -> None:
    """N9: a port bound to the group blocks its deletion."""
    sg = elastx.network.create_security_group(name="k8s")
    net = elastx.network.create_network(name="n")
    elastx.network.create_subnet(network_id=net.id, cidr="10.30.0.0/24", ip_version=4)
    elastx.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    expect(lambda: elastx.network.delete_security_group(sg), sdk_exc.ConflictException, 409, "SecurityGroupInUse",
           f"Security Group {sg.id} in use.")


def test_default_security_group_delete_by_member_is_409_cannot_remove_default(elastx: Any) -> None:
    """N10: members cannot delete their project's default group."""
    default = next(elastx.network.security_groups(name="default"))
    expect(lambda: elastx.network.delete_security_group(default), sdk_exc.ConflictException, 409,
           "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")


def test_default_security_group_delete_by_admin_is_allowed_and_recreated(elastx: Any, admin: Any) -> None:
    """N10 exception: admin may delete a default group; the project's next SG list recreates it."""
    default = next(elastx.network.security_groups(name="default"))
    admin.network.delete_security_group(default)
    with pytest.raises(sdk_exc.NotFoundException):
        admin.network.get_security_group(default.id)
    again = list(elastx.network.security_groups(name="default"))
    assert len(again) == 1 and again[0].id != default.id
    assert len(again[0].security_group_rules) == 4


def _trunk_ports(conn: Any) -> tuple[Any, Any, Any]:
    net = conn.network.create_network(name="n")
    conn.network.create_subnet(network_id=net.id, cidr="10.40.0.0/24", ip_version=4)
    parent = conn.network.create_port(network_id=net.id, name="parent")
    child = conn.network.create_port(network_id=net.id, name="child")
    trunk = conn.network.create_trunk(port_id=parent.id, name="t", sub_ports=[
        {"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 100}])
    return parent, child, trunk


def test_port_delete_trunk_parent_is_409_port_in_use_as_trunk_parent(elastx: Any) -> None:
    """N11: a trunk's parent port cannot be deleted."""
    parent, _, trunk = _trunk_ports(elastx)
    expect(lambda: elastx.network.delete_port(parent), sdk_exc.ConflictException, 409, "PortInUseAsTrunkParent",
           f"Port {parent.id} is currently a parent port for trunk {trunk.id}.")


def test_port_delete_trunk_subport_is_409_port_in_use_as_subport(elastx: Any) -> None:
    """N11: a trunk's subport cannot be deleted; deleting the trunk frees both ports."""
    parent, child, trunk = _trunk_ports(elastx)
    expect(lambda: elastx.network.delete_port(child), sdk_exc.ConflictException, 409, "PortInUseAsSubPort",
           f"Port {child.id} is currently a subport for trunk {trunk.id}.")
    elastx.network.delete_trunk(trunk)
    elastx.network.delete_port(child)
    elastx.network.delete_port(parent)


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
def test_missing_resource_is_404_with_neutron_not_found_type(elastx: Any, getter: str, deleter: str, err_type: str,
                                                             template: str) -> None:
    """N12: GET and DELETE of a missing id answer 404 with the resource's NotFound type and exact text."""
    rid = "5b3f4a0e-0000-4000-8000-00000000dead"
    message = template.format(id=rid)
    expect(lambda: getattr(elastx.network, getter)(rid), sdk_exc.NotFoundException, 404, err_type, message)
    expect(lambda: getattr(elastx.network, deleter)(rid, ignore_missing=False), sdk_exc.NotFoundException, 404,
           err_type, message)
    getattr(elastx.network, deleter)(rid, ignore_missing=True)


def test_creating_a_group_named_default_is_409_default_already_exists(elastx: Any) -> None:
    """Users cannot create another group named ``default`` (any case)."""
    expect(lambda: elastx.network.create_security_group(name="Default"), sdk_exc.ConflictException, 409,
           "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")


def test_foreign_resource_get_and_delete_is_404_not_found(elastx: Any, other: Any) -> None:
    """Isolation: another project's network answers exactly like a missing one."""
    net = elastx.network.create_network(name="private")
    message = f"Network {net.id} could not be found."
    expect(lambda: other.network.get_network(net.id), sdk_exc.NotFoundException, 404, "NetworkNotFound", message)
    expect(lambda: other.network.delete_network(net.id, ignore_missing=False), sdk_exc.NotFoundException, 404,
           "NetworkNotFound", message)
    assert elastx.network.get_network(net.id).id == net.id


def test_visible_but_foreign_delete_is_403_policy_not_authorized(elastx: Any) -> None:
    """Policy: a member may see the external network; deleting it is 403, as real Neutron 29 answers."""
    ext = external_network(elastx)
    expect(lambda: elastx.network.delete_network(ext.id, ignore_missing=False), sdk_exc.ForbiddenException, 403,
           "PolicyNotAuthorized", "rule:delete_network is disallowed by policy")
