"""Neutron API surface: discovery, record shapes, filters, pagination, isolation, default SGs and quotas."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from openstack import exceptions as sdk_exc

from kubespray_cleanup.simulator import neutron

_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _raw(conn: Any, path: str) -> requests.Response:
    """A GET on the network endpoint through the SDK's authenticated session."""
    response: requests.Response = conn.network.get(path)
    return response


def test_version_discovery_lists_v2_like_neutron(sim: Any) -> None:
    """GET /network answers Neutron's unauthenticated versions document."""
    body = requests.get(f"{sim.url}/network", timeout=5).json()
    assert body["versions"][0]["id"] == "v2.0" and body["versions"][0]["status"] == "CURRENT"
    assert body["versions"][0]["links"][0]["href"] == f"{sim.url}/network/v2.0/"


def test_resources_and_extensions_are_listed(elastx: Any) -> None:
    """GET /v2.0 lists collections; /extensions holds the aliases the SDK and tools check."""
    collections = {r["collection"] for r in _raw(elastx, "/").json()["resources"]}
    assert {"networks", "subnets", "ports", "routers", "floatingips", "security-groups"} <= collections
    aliases = {e.alias for e in elastx.network.extensions()}
    assert {"router", "external-net", "security-group", "quotas", "standard-attr-timestamp", "standard-attr-tag",
            "extraroute", "extraroute-atomic", "port-security", "dns-integration", "trunk"} <= aliases
    assert elastx.network.find_extension("router", ignore_missing=False).alias == "router"


def test_records_carry_project_timestamps_and_revisions(elastx: Any) -> None:
    """Records have tenant_id == project_id, second-precision Z timestamps, and revision bumps on update."""
    net = elastx.network.create_network(name="shape")
    raw = _raw(elastx, f"/networks/{net.id}").json()["network"]
    assert raw["tenant_id"] == raw["project_id"] == elastx.current_project_id
    assert _TS.match(raw["created_at"]) and _TS.match(raw["updated_at"])
    assert raw["revision_number"] == 0 and raw["tags"] == [] and raw["status"] == "ACTIVE"
    assert "provider:network_type" not in raw  # admin-only attribute
    updated = elastx.network.update_network(net, name="renamed")
    assert updated.name == "renamed" and updated.revision_number == 1


def test_port_shape_and_ip_allocation(elastx: Any) -> None:
    """Subnet gateway .1, DHCP port .2, next port .3 with the project's default SG and no admin binding keys."""
    net = elastx.network.create_network(name="n")
    subnet = elastx.network.create_subnet(network_id=net.id, cidr="10.80.0.0/24", ip_version=4)
    assert subnet.gateway_ip == "10.80.0.1"
    assert subnet.allocation_pools == [{"start": "10.80.0.2", "end": "10.80.0.254"}]
    dhcp = next(elastx.network.ports(device_owner="network:dhcp", network_id=net.id))
    assert dhcp.fixed_ips[0]["ip_address"] == "10.80.0.2" and dhcp.device_id.endswith(f"-{net.id}")
    assert dhcp.security_group_ids == []
    port = elastx.network.create_port(network_id=net.id)
    default = next(elastx.network.security_groups(name="default"))
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.80.0.3"}]
    assert port.security_group_ids == [default.id] and port.status == "DOWN"
    raw = _raw(elastx, f"/ports/{port.id}").json()["port"]
    assert "binding:host_id" not in raw and raw["binding:vnic_type"] == "normal"


def test_list_pagination_returns_every_record(elastx: Any) -> None:
    """limit/marker with networks_links: the SDK's paginated listing sees every network once."""
    made = {elastx.network.create_network(name=f"page-{i}").id for i in range(7)}
    first = _raw(elastx, "/networks?limit=3").json()
    assert len(first["networks"]) == 3 and first["networks_links"][0]["rel"] == "next"
    listed = [n.id for n in elastx.network.networks(limit=3, paginated=True)]
    assert len(listed) == len(set(listed))
    assert made <= set(listed)
    assert [n.id for n in elastx.network.networks(limit=3)] == listed


def test_server_side_filters(elastx: Any) -> None:
    """Equality, multi-value OR, fixed_ips, security_groups, router:external and tag filters."""
    net = elastx.network.create_network(name="flt")
    s1 = elastx.network.create_subnet(network_id=net.id, cidr="10.81.0.0/24", ip_version=4)
    sg = elastx.network.create_security_group(name="extra")
    a = elastx.network.create_port(network_id=net.id, name="a", security_group_ids=[sg.id])
    b = elastx.network.create_port(network_id=net.id, name="b", device_owner="compute:nova", device_id="vm-1")
    elastx.network.set_tags(a, ["k8s", "ci"])
    assert ids(elastx.network.ports(name="a")) == {a.id}
    assert _port_ids(elastx, "name=a&name=b") == {a.id, b.id}
    assert ids(elastx.network.ports(device_id="vm-1")) == {b.id}
    assert ids(elastx.network.ports(security_groups=[sg.id])) == {a.id}
    assert ids(elastx.network.ports(fixed_ips=[f"subnet_id={s1.id}"], device_owner="")) == {a.id}
    assert ids(elastx.network.ports(tags=["k8s"])) == {a.id}
    assert ids(elastx.network.ports(any_tags=["nope", "ci"])) == {a.id}
    assert a.id not in ids(elastx.network.ports(network_id=net.id, not_tags=["k8s"]))
    assert [n.name for n in elastx.network.networks(is_router_external=True)] == ["public"]
    assert net.id in ids(elastx.network.networks(project_id=elastx.current_project_id))


def ids(rows: Any) -> set[str]:
    return {str(r.id) for r in rows}


def _port_ids(conn: Any, query: str) -> set[str]:
    """Ids from a raw query string (repeated keys mean OR)."""
    return {str(p["id"]) for p in _raw(conn, f"/ports?{query}").json()["ports"]}


def test_unknown_filter_is_400(elastx: Any) -> None:
    """Filter validation: an attribute the resource lacks is rejected."""
    response = _raw(elastx, "/networks?bogus=1")
    assert response.status_code == 400
    assert response.json()["NeutronError"]["message"] == "bogus is invalid attribute for filtering"


def test_cross_project_isolation_and_admin_sees_all(elastx: Any, other: Any, admin: Any) -> None:
    """Projects never see each other's resources; admin lists across projects."""
    mine = elastx.network.create_network(name="mine")
    theirs = other.network.create_network(name="theirs")
    sg = other.network.create_security_group(name="their-sg")
    elastx_ids = {n.id for n in elastx.network.networks()}
    assert mine.id in elastx_ids and theirs.id not in elastx_ids
    assert sg.id not in {g.id for g in elastx.network.security_groups()}
    with pytest.raises(sdk_exc.NotFoundException):
        elastx.network.delete_security_group(sg.id, ignore_missing=False)
    admin_ids = {n.id for n in admin.network.networks()}
    assert {mine.id, theirs.id} <= admin_ids
    assert sg.id in {g.id for g in admin.network.security_groups()}


def test_each_project_has_one_default_security_group(elastx: Any, other: Any) -> None:
    """Every project lists exactly one default SG with Neutron's four default rules."""
    for conn in (elastx, other):
        groups = list(conn.network.security_groups(name="default"))
        assert len(groups) == 1
        sg = groups[0]
        assert sg.project_id == conn.current_project_id
        rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in sg.security_group_rules}
        assert rules == {("ingress", "IPv4", sg.id), ("ingress", "IPv6", sg.id),
                         ("egress", "IPv4", None), ("egress", "IPv6", None)}


def test_new_security_group_has_two_egress_rules_and_duplicates_conflict(elastx: Any) -> None:
    """Created SGs carry the two default egress rules; duplicate rules answer 409 SecurityGroupRuleExists."""
    sg = elastx.network.create_security_group(name="web", description="web tier")
    assert sorted((r["direction"], r["ethertype"]) for r in sg.security_group_rules) == [
        ("egress", "IPv4"), ("egress", "IPv6")]
    rule = elastx.network.create_security_group_rule(security_group_id=sg.id, direction="ingress", protocol="tcp",
                                                     port_range_min=80, port_range_max=80)
    with pytest.raises(sdk_exc.ConflictException) as info:
        elastx.network.create_security_group_rule(security_group_id=sg.id, direction="ingress", protocol="tcp",
                                                  port_range_min=80, port_range_max=80)
    assert info.value.details == f"Security group rule already exists. Rule id is {rule.id}."


def test_quotas_are_readable(elastx: Any, other: Any) -> None:
    """get_quota answers Neutron's defaults; details count usage; a foreign project's quota is forbidden."""
    quota = elastx.network.get_quota(elastx.current_project_id)
    assert (quota.networks, quota.ports, quota.security_groups) == (100, 500, 10)
    elastx.network.create_network(name="q")
    details = elastx.network.get_quota(elastx.current_project_id, details=True)
    assert details.networks == {"limit": 100, "used": 1, "reserved": 0}
    with pytest.raises(sdk_exc.ForbiddenException):
        elastx.network.get_quota(other.current_project_id)


def test_over_quota_create_is_409(sim: Any, elastx: Any) -> None:
    """A project at its network limit gets 409 OverQuota."""
    sim.store.quotas[elastx.current_project_id]["network"] = {"network": 1}
    elastx.network.create_network(name="one")
    with pytest.raises(sdk_exc.ConflictException) as info:
        elastx.network.create_network(name="two")
    assert info.value.details == "Quota exceeded for resources: ['network']."


def test_tags_roundtrip(elastx: Any) -> None:
    """set_tags / add_tag / remove_tag on a network."""
    net = elastx.network.create_network(name="tagged")
    elastx.network.set_tags(net, ["a", "b"])
    net = elastx.network.get_network(net.id)
    assert sorted(net.tags) == ["a", "b"]
    net.add_tag(elastx.network, "c")
    net.remove_tag(elastx.network, "a")
    assert sorted(elastx.network.get_network(net.id).tags) == ["b", "c"]


def test_seeded_topology_matches_api_built_one(sim: Any, elastx: Any, admin: Any) -> None:
    """Model functions used by scenarios give the same side effects (DHCP, gateway, FIP ports) as the API."""
    pid = elastx.current_project_id
    ext_id = next(elastx.network.networks(is_router_external=True)).id
    with sim.store.lock:
        net = neutron.create_network(sim.store, pid, "seeded")
        subnet = neutron.create_subnet(sim.store, net["id"], "10.90.0.0/24", name="seeded-subnet")
        router = neutron.create_router(sim.store, pid, "seeded-router", external_network_id=ext_id)
        neutron.add_router_interface(sim.store, router["id"], subnet_id=subnet["id"])
        port = neutron.create_port(sim.store, net["id"], pid, name="node", device_owner="compute:nova")
        fip = neutron.create_floating_ip(sim.store, pid, ext_id, port_id=port["id"])
    owners = sorted(p.device_owner for p in elastx.network.ports(network_id=net["id"]))
    assert owners == ["compute:nova", "network:dhcp", "network:router_interface"]
    assert elastx.network.get_ip(fip["id"]).router_id == router["id"]
    assert len(list(admin.network.ports(device_id=router["id"], device_owner="network:router_gateway"))) == 1
    with pytest.raises(sdk_exc.ConflictException):
        elastx.network.delete_router(router["id"])
