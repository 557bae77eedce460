"""The cluster the next apply job will create, read the way Kubespray's OpenStack module reads it: its variables
(``TF_VAR_*`` in the job's environment, a profile's ``cluster_shape:``, or a ``--shape`` YAML file) over the
module's defaults (contrib/terraform/openstack ``variables.tf``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.errors import ConfigError


@dataclass(frozen=True)
class Role:
    """One count variable of the module: how many servers of a kind it makes, and what each one carries."""

    variable: str
    name: str  # the server name after the cluster name: ``k8s-master`` -> ``C-k8s-master-N``
    floating_ip: bool
    flavor_var: str
    root_volume_var: str
    server_group: str | None  # the ``*_server_group_policy`` family it joins


ROLES = (
    Role("number_of_bastions", "bastion", True, "flavor_bastion", "bastion_root_volume_size_in_gb", None),
    Role("number_of_k8s_masters", "k8s-master", True, "flavor_k8s_master", "master_root_volume_size_in_gb", "master"),
    Role("number_of_k8s_masters_no_etcd", "k8s-master-ne", True, "flavor_k8s_master",
         "master_root_volume_size_in_gb", "master"),
    Role("number_of_k8s_masters_no_floating_ip", "k8s-master-nf", False, "flavor_k8s_master",
         "master_root_volume_size_in_gb", "master"),
    Role("number_of_k8s_masters_no_floating_ip_no_etcd", "k8s-master-ne-nf", False, "flavor_k8s_master",
         "master_root_volume_size_in_gb", "master"),
    Role("number_of_etcd", "etcd", False, "flavor_etcd", "etcd_root_volume_size_in_gb", "etcd"),
    Role("number_of_k8s_nodes", "k8s-node", True, "flavor_k8s_node", "node_root_volume_size_in_gb", "node"),
    Role("number_of_k8s_nodes_no_floating_ip", "k8s-node-nf", False, "flavor_k8s_node",
         "node_root_volume_size_in_gb", "node"),
    Role("number_of_gfs_nodes_no_floating_ip", "gfs-node-nf", False, "flavor_gfs_node",
         "gfs_root_volume_size_in_gb", None),
)

# variables.tf defaults the check needs (counts not listed default to 0).
MODULE_DEFAULTS: dict[str, Any] = {
    "number_of_bastions": 1, "number_of_k8s_masters": 2, "number_of_k8s_masters_no_etcd": 2, "number_of_etcd": 2,
    "number_of_k8s_masters_no_floating_ip": 2, "number_of_k8s_masters_no_floating_ip_no_etcd": 2,
    "number_of_k8s_nodes": 1, "number_of_k8s_nodes_no_floating_ip": 1, "number_of_gfs_nodes_no_floating_ip": 0,
    "gfs_volume_size_in_gb": 75, "network_name": "internal", "floatingip_pool": "external", "image": "ubuntu-14.04",
    "flavor_bastion": "3", "flavor_k8s_master": "3", "flavor_k8s_node": "3", "flavor_etcd": "3",
    "flavor_gfs_node": "3", "use_existing_network": False, "extra_sec_groups": False,
    "k8s_master_loadbalancer_enabled": False, "master_server_group_policy": "", "node_server_group_policy": "",
    "etcd_server_group_policy": "",
}
KNOWN = frozenset(MODULE_DEFAULTS) | {
    "cluster_name", "router_id", "external_net", "image_uuid", "image_gfs", "subnet_cidr", "k8s_masters", "k8s_nodes",
    "security_group_rules", *(r.root_volume_var for r in ROLES)}
_BOOLS = ("use_existing_network", "extra_sec_groups", "k8s_master_loadbalancer_enabled")
# Rules the module adds with its default allow-lists (IPv4 and IPv6: 14 in an elastx CI state), beyond the two
# egress rules Neutron gives every new group.
_MODULE_RULES = 14


@dataclass(frozen=True)
class Servers:
    """Servers of one role (or one entry of a ``k8s_masters``/``k8s_nodes`` map) the apply will create."""

    role: str
    count: int
    flavor: str
    floating_ip: bool
    root_volume_gb: int = 0
    server_group: str | None = None


@dataclass(frozen=True)
class Shape:
    """One cluster of the module, as far as quota and names go; ``sources`` says where the values came from."""

    variables: Mapping[str, Any]
    sources: tuple[str, ...] = ()
    servers: tuple[Servers, ...] = field(default=())

    def get(self, name: str) -> Any:
        return self.variables.get(name)

    @property
    def cluster_name(self) -> str | None:
        value = self.get("cluster_name")
        return str(value) if value not in (None, "") else None

    @property
    def router_id(self) -> str | None:
        return str(self.get("router_id")) if self.get("router_id") else None

    @property
    def load_balancer(self) -> bool:
        return bool(self.get("k8s_master_loadbalancer_enabled"))

    @property
    def makes_network(self) -> bool:
        return not self.get("use_existing_network")

    @property
    def server_groups(self) -> dict[str, int]:
        """Fixed-name server groups (``k8s-<family>-srvgrp``) the apply makes, with their member counts."""
        groups: dict[str, int] = {}
        for servers in self.servers:
            family = servers.server_group
            if family and self.get(f"{family}_server_group_policy"):
                groups[f"k8s-{family}-srvgrp"] = groups.get(f"k8s-{family}-srvgrp", 0) + servers.count
        return groups

    @property
    def security_groups(self) -> int:
        return 4 + (2 if self.get("extra_sec_groups") else 0)

    @property
    def security_group_rules(self) -> int:
        given = self.get("security_group_rules")
        return int(given) if given is not None else 2 * self.security_groups + _MODULE_RULES

    @property
    def volumes(self) -> list[int]:
        """Sizes in GB of every volume the apply creates: boot volumes and GlusterFS data volumes."""
        sizes = [s.root_volume_gb for s in self.servers for _ in range(s.count) if s.root_volume_gb > 0]
        gfs = next((s.count for s in self.servers if s.role == "gfs-node-nf"), 0)
        return sizes + [int(self.get("gfs_volume_size_in_gb") or 0)] * gfs

    def to_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "cluster_name": self.cluster_name,
                "network_name": self.get("network_name"), "router_id": self.router_id,
                "floatingip_pool": self.get("floatingip_pool"), "external_net": self.get("external_net"),
                "image": self.get("image_uuid") or self.get("image"), "subnet_cidr": self.get("subnet_cidr"),
                "servers": [{"role": s.role, "count": s.count, "flavor": s.flavor, "floating_ip": s.floating_ip,
                             "root_volume_gb": s.root_volume_gb} for s in self.servers if s.count],
                "load_balancer": self.load_balancer, "server_groups": self.server_groups,
                "security_groups": self.security_groups, "volumes_gb": self.volumes}


def from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The module's variables an apply job's environment sets (``TF_VAR_<name>``)."""
    return {key[len("TF_VAR_"):]: value for key, value in environ.items()
            if key.startswith("TF_VAR_") and key[len("TF_VAR_"):] in KNOWN}


def read_file(path: str) -> dict[str, Any]:
    """A ``--shape`` YAML file: a mapping of the module's variable names to values."""
    try:
        data: Any = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"shape file {path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"shape file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return checked(data, f"shape file {path}")


def checked(data: Any, where: str) -> dict[str, Any]:
    """A mapping of known variable names, or ConfigError naming the first unknown one."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of Kubespray variables (number_of_k8s_nodes: 2, ...)")
    unknown = sorted(str(k) for k in data if str(k).removeprefix("TF_VAR_") not in KNOWN)
    if unknown:
        raise ConfigError(f"{where}: unknown variable {unknown[0]!r}")
    return {str(k).removeprefix("TF_VAR_"): v for k, v in data.items()}


def build(layers: list[tuple[str, Mapping[str, Any]]]) -> Shape:
    """Merge ``(source, variables)`` layers over the module defaults (later layers win) into a Shape."""
    merged: dict[str, Any] = dict(MODULE_DEFAULTS)
    sources = ["module defaults"]
    for source, variables in layers:
        if variables:
            merged.update(variables)
            sources.append(source)
    for name in _BOOLS:
        merged[name] = _bool(merged.get(name), name)
    return Shape(variables=merged, sources=tuple(sources), servers=tuple(_servers(merged)))


def _int(value: Any, name: str) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ConfigError(f"cluster shape: {name}={value!r} is not a whole number") from None
    if number < 0:
        raise ConfigError(f"cluster shape: {name}={value!r} is negative")
    return number


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"cluster shape: {name}={value!r} is not true or false")


def _map(value: Any, name: str) -> dict[str, Any]:
    """``k8s_masters``/``k8s_nodes``: a mapping, or its JSON/HCL-ish text as TF_VAR_ gives it."""
    if isinstance(value, dict):
        return value
    text = str(value or "").strip()
    if not text:
        return {}
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        try:
            parsed = yaml.safe_load(text.replace(" = ", ": "))
        except yaml.YAMLError:
            parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(f"cluster shape: {name} is not a map of nodes")
    return parsed


def _servers(v: dict[str, Any]) -> list[Servers]:
    result = [Servers(role.name, _int(v.get(role.variable) or 0, role.variable), str(v.get(role.flavor_var)),
                      role.floating_ip, _int(v.get(role.root_volume_var) or 0, role.root_volume_var),
                      role.server_group) for role in ROLES]
    masters = _map(v.get("k8s_masters"), "k8s_masters")
    if masters and not any(_int(v.get(r.variable) or 0, r.variable) for r in ROLES if r.server_group == "master"):
        result += _map_servers(masters, "k8s", "master", v)  # only when every number_of_k8s_masters* is 0
    nodes = _map(v.get("k8s_nodes"), "k8s_nodes")
    if nodes and not _int(v.get("number_of_k8s_nodes") or 0, "") and \
            not _int(v.get("number_of_k8s_nodes_no_floating_ip") or 0, ""):
        result += _map_servers(nodes, "k8s-node", "node", v)
    return result


def _map_servers(entries: dict[str, Any], prefix: str, family: str, v: dict[str, Any]) -> list[Servers]:
    flavor_var = "flavor_k8s_master" if family == "master" else "flavor_k8s_node"
    out = []
    for key, spec in entries.items():
        spec = spec if isinstance(spec, dict) else {}
        out.append(Servers(f"{prefix}-{key}", 1, str(spec.get("flavor") or v.get(flavor_var)),
                           _bool(spec.get("floating_ip", True), f"{prefix}-{key}.floating_ip"),
                           _int(spec.get("root_volume_size_in_gb") or 0, f"{prefix}-{key}.root_volume_size_in_gb"),
                           family))
    return out
