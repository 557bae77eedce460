"""What one more cluster of a shape takes from each quota, in the services' own quota names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespray_cleanup.check.shape import Shape

COMPUTE, NETWORK, VOLUME, LOAD_BALANCER = "compute", "network", "volume", "load-balancer"
SERVICE_TYPES = {COMPUTE: "compute", NETWORK: "network", VOLUME: "block-storage", LOAD_BALANCER: "load-balancer"}
SERVICE_NAMES = {COMPUTE: "Nova", NETWORK: "Neutron", VOLUME: "Cinder", LOAD_BALANCER: "Octavia"}

# Human words for quota names, used in messages and tables.
LABELS = {
    "instances": "instances", "cores": "cores", "ram": "RAM (MB)", "key_pairs": "keypairs",
    "server_groups": "server groups", "server_group_members": "server group members",
    "network": "networks", "subnet": "subnets", "port": "ports", "router": "routers", "floatingip": "floating IPs",
    "security_group": "security groups", "security_group_rule": "security group rules",
    "volumes": "volumes", "gigabytes": "volume GB", "snapshots": "snapshots",
    "load_balancer": "load balancers", "listener": "listeners", "pool": "pools", "health_monitor": "health monitors",
    "member": "pool members",
}


@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int


def find_flavor(flavors: Mapping[str, Flavor], wanted: str) -> Flavor | None:
    """A flavor by id or by name, as the module's ``flavor_*`` variables give it."""
    return flavors.get(wanted) or next((f for f in flavors.values() if f.name == wanted), None)


def needs(shape: Shape, flavors: Mapping[str, Flavor]) -> dict[tuple[str, str], int]:
    """``(service, quota name) -> amount`` for one cluster; services the shape does not use are left out.
    Cores and RAM count only servers whose flavor exists (a missing flavor is a finding of its own)."""
    servers = sum(s.count for s in shape.servers)
    found = [(s, find_flavor(flavors, s.flavor)) for s in shape.servers if s.count]
    need: dict[tuple[str, str], int] = {
        (COMPUTE, "instances"): servers,
        (COMPUTE, "cores"): sum(s.count * f.vcpus for s, f in found if f is not None),
        (COMPUTE, "ram"): sum(s.count * f.ram for s, f in found if f is not None),
        (COMPUTE, "key_pairs"): 1,
        (NETWORK, "port"): servers + 1 + (1 if shape.makes_network else 0) + (1 if shape.load_balancer else 0),
        (NETWORK, "floatingip"): sum(s.count for s in shape.servers if s.floating_ip),
        (NETWORK, "security_group"): shape.security_groups,
        (NETWORK, "security_group_rule"): shape.security_group_rules,
    }
    groups = shape.server_groups
    if groups:
        need[(COMPUTE, "server_groups")] = len(groups)
        need[(COMPUTE, "server_group_members")] = max(groups.values())
    if shape.makes_network:
        need[(NETWORK, "network")] = 1
        need[(NETWORK, "subnet")] = 1
    if not shape.router_id:
        need[(NETWORK, "router")] = 1
    volumes = shape.volumes
    if volumes:
        need[(VOLUME, "volumes")] = len(volumes)
        need[(VOLUME, "gigabytes")] = sum(volumes)
    if shape.load_balancer:
        for name in ("load_balancer", "listener", "pool", "health_monitor"):
            need[(LOAD_BALANCER, name)] = 1
    return {k: v for k, v in need.items() if v > 0}


def services(shape: Shape) -> list[str]:
    """The services (our keys) the shape needs, in check order."""
    used = [COMPUTE, NETWORK]
    if shape.volumes:
        used.append(VOLUME)
    if shape.load_balancer:
        used.append(LOAD_BALANCER)
    return used


def flavor_of(attrs: Mapping[str, Any], flavors: Mapping[str, Flavor]) -> tuple[int, int]:
    """(vcpus, ram) of a listed server: the embedded flavor (microversion 2.47+) or the one its id names."""
    embedded = attrs.get("flavor") or {}
    if isinstance(embedded, Mapping) and embedded.get("vcpus") is not None:
        return int(embedded.get("vcpus") or 0), int(embedded.get("ram") or 0)
    known = flavors.get(str(embedded.get("id") if isinstance(embedded, Mapping) else embedded))
    return (known.vcpus, known.ram) if known else (0, 0)
