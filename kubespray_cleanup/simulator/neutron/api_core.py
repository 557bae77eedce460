"""Neutron API handlers for networks, subnets and ports (L2 + IPAM) with the delete rules N1, N2, N8, N11."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, neutron_error
from kubespray_cleanup.simulator.neutron import quota
from kubespray_cleanup.simulator.neutron.model import (
    AUTO_DELETE_PORT_OWNERS,
    ROUTER_INTERFACE_OWNERS,
    SERVICE_PORT_OWNERS,
    create_network,
    create_port,
    create_subnet,
    remove_network,
    remove_port,
    remove_subnet,
    touch,
    update_port,
)
from kubespray_cleanup.simulator.neutron.query import (
    fetch,
    forbid_admin_only,
    list_handler,
    one,
    owner_for_create,
    post_handler,
    resource_body,
    show_handler,
    visible,
)
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

_COMMON = ("name", "description", "admin_state_up", "tags")
NETWORK_CREATE = frozenset((*_COMMON, "project_id", "tenant_id", "shared", "router:external", "mtu",
                            "port_security_enabled", "availability_zone_hints", "dns_domain", "qos_policy_id",
                            "provider:network_type", "provider:physical_network", "provider:segmentation_id",
                            "is_default", "segments"))
NETWORK_UPDATE = NETWORK_CREATE - {"project_id", "tenant_id", "availability_zone_hints"}
_NET_ADMIN_ONLY = ("router:external", "provider:network_type", "provider:physical_network",
                   "provider:segmentation_id", "is_default", "segments")
SUBNET_CREATE = frozenset(("name", "description", "tags", "project_id", "tenant_id", "network_id", "cidr",
                           "ip_version", "enable_dhcp", "gateway_ip", "allocation_pools", "dns_nameservers",
                           "host_routes", "ipv6_address_mode", "ipv6_ra_mode", "service_types", "segment_id",
                           "subnetpool_id", "use_default_subnetpool", "prefixlen", "dns_publish_fixed_ip"))
SUBNET_UPDATE = frozenset(("name", "description", "tags", "enable_dhcp", "gateway_ip", "allocation_pools",
                           "dns_nameservers", "host_routes", "service_types", "segment_id", "dns_publish_fixed_ip"))
PORT_UPDATE = frozenset((*_COMMON, "device_id", "device_owner", "fixed_ips", "security_groups",
                         "port_security_enabled", "allowed_address_pairs", "extra_dhcp_opts", "mac_address",
                         "binding:host_id", "binding:profile", "binding:vnic_type", "dns_name", "dns_domain",
                         "qos_policy_id", "propagate_uplink_status", "numa_affinity_policy", "hints"))
PORT_CREATE = PORT_UPDATE | {"network_id", "project_id", "tenant_id"}


def check_attrs(body: dict[str, Any], allowed: frozenset[str]) -> None:
    """Neutron's 400 for attributes the resource does not have."""
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        raise neutron_error(400, "HTTPBadRequest", f"Unrecognized attribute(s) '{', '.join(unknown)}'")


def _subset(body: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in skip}


# --- networks --------------------------------------------------------------------
def _create_network(ctx: Ctx, body: dict[str, Any]) -> Record:
    check_attrs(body, NETWORK_CREATE)
    forbid_admin_only(ctx, "create_network", body, _NET_ADMIN_ONLY)
    if body.get("shared"):
        forbid_admin_only(ctx, "create_network", body, ("shared",))
    pid = owner_for_create(ctx, body)
    quota.check(ctx.store, pid, "network")
    extra = _subset(body, ("name", "project_id", "tenant_id", "shared", "router:external", "mtu"))
    return create_network(ctx.store, pid, str(body.get("name", "")),
                          external=bool(body.get("router:external", False)),
                          shared=bool(body.get("shared", False)), mtu=int(body.get("mtu", 1450)), **extra)


def put_network(ctx: Ctx, network_id: str) -> Response:
    net = fetch(ctx, "networks", network_id, modify=True)
    body = resource_body(ctx, "networks")
    check_attrs(body, NETWORK_UPDATE)
    forbid_admin_only(ctx, "update_network", body, (*_NET_ADMIN_ONLY, "shared"))
    net.update(body)
    return one(ctx, "networks", touch(ctx.store, net))


def delete_network(ctx: Ctx, network_id: str) -> Response:
    fetch(ctx, "networks", network_id, delete=True)
    in_use = [p["id"] for p in ctx.store.iter("ports", network_id=network_id)
              if p["device_owner"] not in AUTO_DELETE_PORT_OWNERS]
    if in_use:
        raise neutron_error(409, "NetworkInUse",
                            f"Unable to complete operation on network {network_id}. There are one or more ports "
                            f"still in use on the network, id for these ports is: {','.join(in_use)}.")
    remove_network(ctx.store, network_id)
    return empty(204)


# --- subnets ---------------------------------------------------------------------
def _create_subnet(ctx: Ctx, body: dict[str, Any]) -> Record:
    check_attrs(body, SUBNET_CREATE)
    net_id = str(body.get("network_id", ""))
    net = ctx.store.get("networks", net_id)
    if net is None or not visible(ctx, "networks", net):
        raise neutron_error(404, "NetworkNotFound", f"Network {net_id} could not be found.")
    if not ctx.is_admin and net["project_id"] != ctx.project_id:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:create_subnet is disallowed by policy")
    block = _parse_cidr(body)
    for other in ctx.store.iter("subnets", network_id=net_id):
        if ipaddress.ip_network(other["cidr"]).overlaps(block):
            raise neutron_error(400, "InvalidInput", f"Invalid input for operation: Requested subnet with cidr: "
                                f"{block} for network: {net_id} overlaps with another subnet.")
    pid = owner_for_create(ctx, body) if (body.get("project_id") or body.get("tenant_id")) else net["project_id"]
    quota.check(ctx.store, pid, "subnet")
    extra = _subset(body, ("network_id", "cidr", "ip_version", "name", "project_id", "tenant_id", "enable_dhcp",
                           "gateway_ip", "prefixlen", "use_default_subnetpool"))
    gateway = body.get("gateway_ip", "")
    if gateway is None:
        extra["no_gateway"] = True
    return create_subnet(ctx.store, net_id, str(block), name=str(body.get("name", "")), project_id=pid,
                         enable_dhcp=bool(body.get("enable_dhcp", True)), gateway_ip=gateway or None, **extra)


def _parse_cidr(body: dict[str, Any]) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    cidr = body.get("cidr")
    if not cidr:
        raise neutron_error(400, "BadRequest", "Bad subnets request: a subnetpool must be specified in the "
                            "absence of a cidr.")
    try:
        block = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        raise neutron_error(400, "HTTPBadRequest", f"Invalid input for cidr. Reason: '{cidr}' is not a valid "
                            "IP subnet.") from None
    version = body.get("ip_version")
    if version is None:
        raise neutron_error(400, "HTTPBadRequest", "Failed to parse request. Required attribute 'ip_version' "
                            "not specified")
    if int(version) != block.version:
        raise neutron_error(400, "InvalidInput", f"Invalid input for operation: Cidr {cidr} does not match "
                            f"ip_version {version}.")
    return block


def put_subnet(ctx: Ctx, subnet_id: str) -> Response:
    subnet = fetch(ctx, "subnets", subnet_id, modify=True)
    body = resource_body(ctx, "subnets")
    check_attrs(body, SUBNET_UPDATE)
    subnet.update(body)
    return one(ctx, "subnets", touch(ctx.store, subnet))


def delete_subnet(ctx: Ctx, subnet_id: str) -> Response:
    subnet = fetch(ctx, "subnets", subnet_id, delete=True)
    slaac = subnet.get("ipv6_address_mode") in ("slaac", "dhcpv6-stateless")
    for port in ctx.store.iter("ports", network_id=subnet["network_id"]):
        if not any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
            continue
        router_port = port["device_owner"] in ROUTER_INTERFACE_OWNERS
        user_port = port["device_owner"] not in AUTO_DELETE_PORT_OWNERS and not slaac
        if router_port or user_port:
            raise neutron_error(409, "SubnetInUse", f"Unable to complete operation on subnet {subnet_id}: One or "
                                "more ports have an IP allocation from this subnet.")
    remove_subnet(ctx.store, subnet_id)
    return empty(204)


# --- ports -----------------------------------------------------------------------
def _create_port(ctx: Ctx, body: dict[str, Any]) -> Record:
    check_attrs(body, PORT_CREATE)
    forbid_admin_only(ctx, "create_port", body, ("binding:host_id", "binding:profile"))
    net_id = str(body.get("network_id", ""))
    net = ctx.store.get("networks", net_id)
    if net is None or not visible(ctx, "networks", net):
        raise neutron_error(404, "NetworkNotFound", f"Network {net_id} could not be found.")
    pid = owner_for_create(ctx, body)
    quota.check(ctx.store, pid, "port")
    sgs = _security_groups(ctx, body, pid)
    extra = _subset(body, ("network_id", "project_id", "tenant_id", "name", "fixed_ips", "security_groups",
                           "device_id", "device_owner"))
    return create_port(ctx.store, net_id, pid, name=str(body.get("name", "")), fixed_ips=body.get("fixed_ips"),
                       security_group_ids=sgs, device_id=str(body.get("device_id", "")),
                       device_owner=str(body.get("device_owner", "")), **extra)


def _security_groups(ctx: Ctx, body: dict[str, Any], project_id: str) -> list[str] | None:
    """Validated ``security_groups`` of a port body (None: let the model pick the default group)."""
    if body.get("port_security_enabled") is False:
        if body.get("security_groups"):
            raise neutron_error(400, "PortSecurityAndIPRequiredForSecurityGroups",
                                "Port security must be enabled and port must have an IP address in order to use "
                                "security groups.")
        return []
    if "security_groups" not in body:
        return None
    ids = [str(s) for s in body.get("security_groups") or []]
    for sg_id in ids:
        sg = ctx.store.get("security_groups", sg_id)
        if sg is None or not (ctx.is_admin or sg["project_id"] == project_id or sg.get("shared")):
            raise neutron_error(404, "SecurityGroupNotFound", f"Security group {sg_id} does not exist")
    return ids


def put_port(ctx: Ctx, port_id: str) -> Response:
    port = fetch(ctx, "ports", port_id, modify=True)
    body = resource_body(ctx, "ports")
    check_attrs(body, PORT_UPDATE)
    forbid_admin_only(ctx, "update_port", body, ("binding:host_id", "binding:profile"))
    if "security_groups" in body:
        body["security_groups"] = _security_groups(ctx, body, port["project_id"]) or []
    return one(ctx, "ports", update_port(ctx.store, port_id, **body))


def delete_port(ctx: Ctx, port_id: str) -> Response:
    port = fetch(ctx, "ports", port_id, delete=True)
    check_port_deletable(ctx, port)
    remove_port(ctx.store, port_id)
    return empty(204)


def check_port_deletable(ctx: Ctx, port: Record) -> None:
    """N8 (service ports whose router/FIP still exists) and N11 (trunk parent/subport)."""
    owner = port["device_owner"]
    if owner in SERVICE_PORT_OWNERS:
        table = "floating_ips" if owner == "network:floatingip" else "routers"
        if ctx.store.get(table, port["device_id"]) is not None:
            raise neutron_error(409, "ServicePortInUse", f"Port {port['id']} cannot be deleted directly via the "
                                f"port API: has device owner {owner}.")
    for trunk in ctx.store.iter("trunks"):
        if trunk["port_id"] == port["id"]:
            raise neutron_error(409, "PortInUseAsTrunkParent",
                                f"Port {port['id']} is currently a parent port for trunk {trunk['id']}.")
        if any(sp["port_id"] == port["id"] for sp in trunk.get("sub_ports") or []):
            raise neutron_error(409, "PortInUseAsSubPort",
                                f"Port {port['id']} is currently a subport for trunk {trunk['id']}.")


def register(routes: Routes) -> None:
    base = "/network/v2.0"
    for collection, create_one in (("networks", _create_network), ("subnets", _create_subnet),
                                   ("ports", _create_port)):
        routes.add("GET", f"{base}/{collection}", list_handler(collection))
        routes.add("POST", f"{base}/{collection}", post_handler(collection, create_one))
    routes.add("GET", f"{base}/networks/<network_id>", show_handler("networks"))
    routes.add("PUT", f"{base}/networks/<network_id>", put_network)
    routes.add("DELETE", f"{base}/networks/<network_id>", delete_network)
    routes.add("GET", f"{base}/subnets/<subnet_id>", show_handler("subnets"))
    routes.add("PUT", f"{base}/subnets/<subnet_id>", put_subnet)
    routes.add("DELETE", f"{base}/subnets/<subnet_id>", delete_subnet)
    routes.add("GET", f"{base}/ports/<port_id>", show_handler("ports"))
    routes.add("PUT", f"{base}/ports/<port_id>", put_port)
    routes.add("DELETE", f"{base}/ports/<port_id>", delete_port)
