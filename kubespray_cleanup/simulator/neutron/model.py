"""Neutron core model (networks, subnets, ports, IPAM, security groups) shared by the API and seeding."""

from __future__ import annotations

import functools
import ipaddress
import random
from datetime import datetime
from typing import Any

from kubespray_cleanup.simulator.http import neutron_error
from kubespray_cleanup.simulator.store import Record, Store, iso

# Ports Neutron deletes by itself with their network (neutron-lib AUTO_DELETE_PORT_OWNERS).
AUTO_DELETE_PORT_OWNERS = ("network:dhcp", "network:distributed", "network:floatingip_agent_gateway")
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")
# Owners whose ports can only go through the router/FIP API (l3_db prevent_l3_port_deletion; the DVR mixin adds
# its interface and SNAT ports).
SERVICE_PORT_OWNERS = ("network:router_interface", "network:ha_router_replicated_interface",
                       "network:router_gateway", "network:floatingip", "network:router_interface_distributed",
                       "network:router_centralized_snat")
DHCP_AGENT_ID = "5e6e1000-cc69-5105-aea1-c4ec7d91fc7e"
DEFAULT_SG_DESCRIPTION = "Default security group"
_ADMIN_ONLY_PORT_KEYS = ("binding:host_id", "binding:profile", "binding:vif_details", "binding:vif_type")


def stamp(store: Store, created_at: datetime | None = None) -> dict[str, Any]:
    """Timestamps, revision and tags every Neutron standard-attr resource carries."""
    when = iso(created_at or store.utcnow())
    return {"created_at": when, "updated_at": when, "revision_number": 0, "tags": []}


def touch(store: Store, record: Record) -> Record:
    """Bump ``revision_number`` and ``updated_at`` like any Neutron update."""
    record["revision_number"] = int(record.get("revision_number", 0)) + 1
    record["updated_at"] = iso(store.utcnow())
    store.reindex(record)  # an update may have moved e.g. a port's device_id or a FIP's port_id
    return record


def _owner(project_id: str) -> dict[str, str]:
    return {"tenant_id": project_id, "project_id": project_id}


def new_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))


# --- networks -----------------------------------------------------------------------
def create_network(store: Store, project_id: str, name: str, *, external: bool = False, shared: bool = False,
                   network_id: str | None = None, created_at: datetime | None = None, mtu: int = 1450,
                   **fields: Any) -> Record:
    net: Record = {
        "id": network_id or store.new_id(), "name": name, **_owner(project_id),
        "admin_state_up": True, "status": "ACTIVE", "subnets": [], "shared": shared,
        "router:external": external, "mtu": mtu, "port_security_enabled": True,
        "availability_zone_hints": [], "availability_zones": ["nova"], "ipv4_address_scope": None,
        "ipv6_address_scope": None, "l2_adjacency": True, "dns_domain": "", "qos_policy_id": None,
        "description": "", "provider:network_type": "flat" if external else "geneve",
        "provider:physical_network": "public" if external else None,
        "provider:segmentation_id": None if external else random.randint(1, 65000),
        **stamp(store, created_at),
    }
    if external:
        net["is_default"] = False
    net.update(fields)
    if project_id:
        ensure_default_security_group(store, project_id)
    return store.put("networks", net)


def remove_network(store: Store, network_id: str) -> None:
    """Delete a network with Neutron's cascade: auto-owned ports, then every subnet."""
    for port in list(store.iter("ports", network_id=network_id)):
        remove_port(store, port["id"])
    for subnet in list(store.iter("subnets", network_id=network_id)):
        store.remove("subnets", subnet["id"])
    store.remove("networks", network_id)


# --- subnets and IPAM -------------------------------------------------------------------
def _pool(cidr: ipaddress.IPv4Network | ipaddress.IPv6Network,
          gateway: str | None) -> list[dict[str, str]]:
    """Neutron's default allocation pools: the whole CIDR minus network, broadcast (v4) and gateway."""
    if cidr.num_addresses <= 2:
        return []
    first = int(cidr.network_address) + 1
    last = int(cidr.broadcast_address) - (1 if cidr.version == 4 else 0)
    ranges = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        ranges = [r for r in ((first, gw - 1), (gw + 1, last)) if r[0] <= r[1]] if first <= gw <= last else ranges
    return [{"start": _addr(cidr, a), "end": _addr(cidr, b)} for a, b in ranges]


@functools.lru_cache(maxsize=8192)
def cidr_block(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``ipaddress.ip_network(cidr)`` of a stored subnet's CIDR, parsed once (the objects are immutable)."""
    return ipaddress.ip_network(cidr)


def _addr(cidr: ipaddress.IPv4Network | ipaddress.IPv6Network, value: int) -> str:
    if cidr.version == 4:  # what str(IPv4Address(value)) gives, ten times faster
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


def create_subnet(store: Store, network_id: str, cidr: str, *, name: str = "", project_id: str | None = None,
                  enable_dhcp: bool = True, gateway_ip: str | None = None, subnet_id: str | None = None,
                  created_at: datetime | None = None, **fields: Any) -> Record:
    net = store.get("networks", network_id)
    if net is None:
        raise neutron_error(404, "NetworkNotFound", f"Network {network_id} could not be found.")
    owner = net["project_id"] if project_id is None else project_id
    block = ipaddress.ip_network(cidr, strict=False)
    no_gateway = fields.pop("no_gateway", False)
    gateway = None if no_gateway else (gateway_ip or str(block.network_address + 1))
    subnet: Record = {
        "id": subnet_id or store.new_id(), "name": name, "network_id": network_id, **_owner(owner),
        "ip_version": block.version, "cidr": str(block), "gateway_ip": gateway,
        "allocation_pools": _pool(block, gateway), "dns_nameservers": [], "host_routes": [],
        "enable_dhcp": enable_dhcp, "ipv6_address_mode": None, "ipv6_ra_mode": None, "subnetpool_id": None,
        "service_types": [], "dns_publish_fixed_ip": False, "description": "", **stamp(store, created_at),
    }
    subnet.update(fields)
    store.put("subnets", subnet)
    if subnet["id"] not in net["subnets"]:
        net["subnets"] = [*net["subnets"], subnet["id"]]
        touch(store, net)
    if enable_dhcp:
        _attach_dhcp(store, net, subnet, created_at)
    return subnet


def _attach_dhcp(store: Store, net: Record, subnet: Record, created_at: datetime | None) -> None:
    """Give the network's DHCP port an address on ``subnet`` (creating the port on first use)."""
    dhcp = next(store.iter("ports", network_id=net["id"], device_owner="network:dhcp"), None)
    if dhcp is None:
        create_port(store, net["id"], net["project_id"], device_owner="network:dhcp",
                    device_id=f"dhcp{DHCP_AGENT_ID}-{net['id']}", fixed_ips=[{"subnet_id": subnet["id"]}],
                    created_at=created_at, status="ACTIVE", port_security_enabled=False)
        return
    dhcp["fixed_ips"] = [*dhcp["fixed_ips"], {"subnet_id": subnet["id"],
                                              "ip_address": allocate_ip(store, subnet)}]
    _refresh_dns(dhcp)
    touch(store, dhcp)


def remove_subnet(store: Store, subnet_id: str) -> None:
    """Delete a subnet, stripping the allocations auto-owned ports hold on it."""
    subnet = store.remove("subnets", subnet_id)
    if subnet is None:
        return
    for port in list(store.iter("ports", network_id=subnet["network_id"])):
        kept = [ip for ip in port["fixed_ips"] if ip["subnet_id"] != subnet_id]
        if len(kept) != len(port["fixed_ips"]):
            port["fixed_ips"] = kept
            _refresh_dns(port)
            touch(store, port)
    net = store.get("networks", subnet["network_id"])
    if net is not None:
        net["subnets"] = [s for s in net["subnets"] if s != subnet_id]
        touch(store, net)


def held_ips(store: Store, subnet: Record) -> set[str]:
    """Addresses of ``subnet`` allocated to ports."""
    return {ip["ip_address"] for port in store.iter("ports", network_id=subnet["network_id"])
            for ip in port["fixed_ips"] if ip["subnet_id"] == subnet["id"]}


def used_ips(store: Store, subnet: Record) -> set[str]:
    """Addresses automatic allocation must skip: those held by ports plus the gateway."""
    used = held_ips(store, subnet)
    if subnet.get("gateway_ip"):
        used.add(subnet["gateway_ip"])
    return used


def allocate_ip(store: Store, subnet: Record) -> str:
    """The lowest free address of the subnet's allocation pools (409 IpAddressGenerationFailure if full)."""
    used = used_ips(store, subnet)
    block = cidr_block(subnet["cidr"])
    for pool in subnet["allocation_pools"]:
        for value in range(int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"])) + 1):
            addr = _addr(block, value)
            if addr not in used:
                return addr
    raise neutron_error(409, "IpAddressGenerationFailure",
                        f"No more IP addresses available on network {subnet['network_id']}.")


def subnet_of(store: Store, ip: str, network_id: str) -> Record | None:
    addr = ipaddress.ip_address(ip)
    for subnet in store.iter("subnets", network_id=network_id):
        block = cidr_block(subnet["cidr"])
        if addr.version == block.version and addr in block:
            return subnet
    return None


def _resolve_fixed_ips(store: Store, network_id: str, wanted: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    if wanted is None:
        subnets = sorted(store.iter("subnets", network_id=network_id), key=lambda s: (s["ip_version"], s["id"]))
        v4 = [s for s in subnets if s["ip_version"] == 4][:1]
        v6 = [s for s in subnets if s["ip_version"] == 6][:1]
        return [{"subnet_id": s["id"], "ip_address": allocate_ip(store, s)} for s in v4 + v6]
    result: list[dict[str, str]] = []
    for spec in wanted:
        subnet = _subnet_for_spec(store, network_id, spec)
        ip = spec.get("ip_address")
        if ip:
            if ip in {r["ip_address"] for r in result} or ip in held_ips(store, subnet):
                raise neutron_error(409, "IpAddressAlreadyAllocated",
                                    f"IP address {ip} already allocated in subnet {subnet['id']}")
        else:
            ip = allocate_ip(store, subnet)
        result.append({"subnet_id": subnet["id"], "ip_address": str(ip)})
    return result


def _subnet_for_spec(store: Store, network_id: str, spec: dict[str, Any]) -> Record:
    if spec.get("subnet_id"):
        subnet = store.get("subnets", str(spec["subnet_id"]))
        if subnet is None:
            raise neutron_error(404, "SubnetNotFound", f"Subnet {spec['subnet_id']} could not be found.")
        if subnet["network_id"] != network_id:
            raise neutron_error(400, "InvalidInput", f"Invalid input for operation: Failed to create port on "
                                f"network {network_id}, because fixed_ips included invalid subnet "
                                f"{subnet['id']}.")
        return subnet
    found = subnet_of(store, str(spec.get("ip_address", "")), network_id) if spec.get("ip_address") else None
    if found is None:
        raise neutron_error(400, "InvalidInput", "Invalid input for operation: IP address "
                            f"{spec.get('ip_address')} is not a valid IP for any of the subnets on the "
                            "specified network.")
    return found


def _refresh_dns(port: Record) -> None:
    port["dns_assignment"] = [
        {"ip_address": ip["ip_address"], "hostname": "host-" + ip["ip_address"].replace(".", "-").replace(":", "-"),
         "fqdn": "host-" + ip["ip_address"].replace(".", "-").replace(":", "-") + ".openstacklocal."}
        for ip in port["fixed_ips"]
    ]


# --- ports -----------------------------------------------------------------------
def _port_status(device_owner: str) -> str:
    return "ACTIVE" if device_owner.startswith(("compute:", "network:")) else "DOWN"


def create_port(store: Store, network_id: str, project_id: str, *, name: str = "",
                fixed_ips: list[dict[str, Any]] | None = None, security_group_ids: list[str] | None = None,
                device_id: str = "", device_owner: str = "", port_id: str | None = None,
                created_at: datetime | None = None, **fields: Any) -> Record:
    if store.get("networks", network_id) is None:
        raise neutron_error(404, "NetworkNotFound", f"Network {network_id} could not be found.")
    if security_group_ids is None:
        if (device_owner == "" or device_owner.startswith("compute:")) and project_id:
            security_group_ids = [ensure_default_security_group(store, project_id)["id"]]
        else:
            security_group_ids = []
    port: Record = {
        "id": port_id or store.new_id(), "name": name, "network_id": network_id, **_owner(project_id),
        "mac_address": new_mac(), "admin_state_up": True, "status": _port_status(device_owner),
        "device_owner": device_owner, "device_id": device_id,
        "fixed_ips": _resolve_fixed_ips(store, network_id, fixed_ips), "allowed_address_pairs": [],
        "extra_dhcp_opts": [], "security_groups": list(security_group_ids),
        "port_security_enabled": True,
        "binding:vnic_type": "normal", "binding:host_id": "", "binding:profile": {},
        "binding:vif_details": {}, "binding:vif_type": "unbound", "dns_name": "", "qos_policy_id": None,
        "qos_network_policy_id": None, "propagate_uplink_status": False, "description": "",
        **stamp(store, created_at),
    }
    port.update(fields)
    _bind(port)
    _refresh_dns(port)
    return store.put("ports", port)


def _bind(port: Record) -> None:
    """Ports with a device are bound (the fake host ``sim-compute``); others are unbound."""
    bound = bool(port["device_owner"]) and port["device_owner"] != "network:floatingip"
    port["binding:host_id"] = "sim-compute" if bound else ""
    port["binding:vif_type"] = "ovs" if bound else "unbound"
    port["binding:vif_details"] = {"port_filter": True} if bound else {}


def update_port(store: Store, port_id: str, **fields: Any) -> Record:
    port = store.get("ports", port_id)
    if port is None:
        raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
    if "fixed_ips" in fields and fields["fixed_ips"] is not None:
        old = {(ip["subnet_id"], ip["ip_address"]) for ip in port["fixed_ips"]}
        wanted = [ip for ip in fields["fixed_ips"] if (ip.get("subnet_id"), ip.get("ip_address")) not in old]
        kept = [ip for ip in port["fixed_ips"]
                if any(w.get("subnet_id") == ip["subnet_id"] and w.get("ip_address") == ip["ip_address"]
                       for w in fields["fixed_ips"])]
        fields["fixed_ips"] = kept + _resolve_fixed_ips(store, port["network_id"], wanted)
    if "security_group_ids" in fields:
        fields["security_groups"] = fields.pop("security_group_ids")
    if fields.get("security_groups") is None and "security_groups" in fields:
        fields["security_groups"] = []
    port.update(fields)
    if "device_owner" in fields:
        port["status"] = _port_status(port["device_owner"])
        _bind(port)
    _refresh_dns(port)
    return touch(store, port)


def remove_port(store: Store, port_id: str) -> None:
    """Delete a port without checks; associated floating IPs are disassociated like Neutron does."""
    port = store.remove("ports", port_id)
    if port is None:
        return
    for fip in store.iter("floating_ips", port_id=port_id):
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        touch(store, fip)


def public_port(port: Record, is_admin: bool) -> Record:
    """Port as the caller sees it: ``binding:host_id`` & co. are admin-only."""
    if is_admin:
        return port
    return {k: v for k, v in port.items() if k not in _ADMIN_ONLY_PORT_KEYS}


# --- security groups --------------------------------------------------------------------
def _sg_record(store: Store, project_id: str, name: str, description: str, sg_id: str | None,
               created_at: datetime | None) -> Record:
    return {"id": sg_id or store.new_id(), "name": name, "description": description, **_owner(project_id),
            "stateful": True, "shared": False, **stamp(store, created_at)}


def default_security_group(store: Store, project_id: str) -> Record | None:
    return next(store.iter("security_groups", project_id=project_id, name="default"), None)


def ensure_default_security_group(store: Store, project_id: str) -> Record:
    """The project's ``default`` group, created with Neutron's four default rules when missing."""
    existing = default_security_group(store, project_id)
    if existing is not None:
        return existing
    sg = store.put("security_groups", _sg_record(store, project_id, "default", DEFAULT_SG_DESCRIPTION, None, None))
    for ethertype in ("IPv4", "IPv6"):
        create_security_group_rule(store, sg["id"], direction="ingress", ethertype=ethertype,
                                   remote_group_id=sg["id"])
        create_security_group_rule(store, sg["id"], direction="egress", ethertype=ethertype)
    sg["revision_number"] = 1
    return sg


def create_security_group(store: Store, project_id: str, name: str, *, description: str = "",
                          sg_id: str | None = None, created_at: datetime | None = None) -> Record:
    if name == "default" and default_security_group(store, project_id) is not None:
        raise neutron_error(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
    if name != "default":
        ensure_default_security_group(store, project_id)
    sg = store.put("security_groups", _sg_record(store, project_id, name, description, sg_id, created_at))
    for ethertype in ("IPv4", "IPv6"):
        create_security_group_rule(store, sg["id"], direction="egress", ethertype=ethertype)
    sg["revision_number"] = 1
    return sg


def create_security_group_rule(store: Store, security_group_id: str, *, direction: str = "ingress",
                               ethertype: str = "IPv4", protocol: str | None = None,
                               port_range_min: int | None = None, port_range_max: int | None = None,
                               remote_ip_prefix: str | None = None, remote_group_id: str | None = None,
                               rule_id: str | None = None, description: str | None = None,
                               created_at: datetime | None = None) -> Record:
    sg = store.get("security_groups", security_group_id)
    if sg is None:
        raise neutron_error(404, "SecurityGroupNotFound", f"Security group {security_group_id} does not exist")
    rule: Record = {
        "id": rule_id or store.new_id(), **_owner(sg["project_id"]), "security_group_id": security_group_id,
        "direction": direction, "ethertype": ethertype, "protocol": protocol, "port_range_min": port_range_min,
        "port_range_max": port_range_max, "remote_ip_prefix": remote_ip_prefix,
        "remote_group_id": remote_group_id, "remote_address_group_id": None, "description": description,
        **stamp(store, created_at),
    }
    return store.put("security_group_rules", rule)


def remove_security_group(store: Store, sg_id: str) -> None:
    """Delete a group, its rules, and every rule elsewhere whose ``remote_group_id`` is this group."""
    doomed = list(store.iter("security_group_rules", security_group_id=sg_id))
    doomed += [r for r in store.iter("security_group_rules", remote_group_id=sg_id) if r["security_group_id"] != sg_id]
    for rule in doomed:
        store.remove("security_group_rules", rule["id"])
        owner = store.get("security_groups", rule["security_group_id"])
        if owner is not None and rule["security_group_id"] != sg_id:
            touch(store, owner)
    store.remove("security_groups", sg_id)


def render_security_group(store: Store, sg: Record) -> Record:
    """The group with its rules embedded, as Neutron returns it."""
    rules = sorted(store.iter("security_group_rules", security_group_id=sg["id"]), key=lambda r: r["id"])
    return {**sg, "security_group_rules": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rules]}
