"""Which CI job made each resource, and the rule that says so: the ownership half of planning.

An owner comes from the resource's name (the profile's owner patterns), from the state that holds it,
or from a relation to resources whose owner is known: a subnet by its network, a network by its
subnets, a port by its server or network, a server by its ports, a security group by the ports that
carry it, a volume by the server it is attached to or by the cluster the Cinder CSI driver wrote into
its metadata, a server group by its members, a keypair by the servers that boot with it. A relation
attributes only when every related owner agrees: two candidates mean no owner, and no owner means keep.

Server groups are named ``k8s-master-srvgrp`` by every job and have no creation time: one without
members and in no state cannot be attributed to a job here; ``windows`` decides whether it is leaked by the
creation windows of the jobs GitLab lists as live.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import networkx as nx

from kubespray_cleanup.config import Profile
from kubespray_cleanup.kinds.base import Index
from kubespray_cleanup.model import Kind, Resource, node_key
from kubespray_cleanup.sources.terraform_state import StateFile

NAME, RELATION = "name", "relation"
CSI_CLUSTER = "cinder.csi.openstack.org/cluster"  # volume metadata the Cinder CSI driver sets (--cluster)
_BARE_JOB = re.compile(r"^\d{4,12}$")
UNATTRIBUTABLE_GROUP = ("server group without a job in its name, without members and in no state: "
                        "which job made it cannot be proven")

# Kinds whose owner can come from a relation, in an order where each finds its neighbours' owners first.
_ORDER = (Kind.SUBNET, Kind.NETWORK, Kind.PORT, Kind.TRUNK, Kind.SERVER, Kind.SECURITY_GROUP, Kind.ROUTER_INTERFACE,
          Kind.LOAD_BALANCER, Kind.FLOATING_IP, Kind.VOLUME, Kind.SNAPSHOT, Kind.SERVER_GROUP, Kind.KEYPAIR)

Candidates = Iterator[tuple[str | None, str]]  # (node key of a related resource, the relation's name)


@dataclass
class Ownership:
    """Node key -> owner, and node key -> the rule that found it (``name``, ``relation <field>``)."""

    owners: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    unattributable: dict[str, str] = field(default_factory=dict)  # node key -> why no owner can be proven

    def set(self, key: str, owner: str, rule: str) -> None:
        self.owners[key] = owner
        self.rules[key] = rule


def attribute(idx: Index, graph: nx.DiGraph, profile: Profile,
              state_owner: dict[str, tuple[StateFile, str | None]]) -> Ownership:
    """Owners by name or state first, then by relation, kind by kind in ``_ORDER``."""
    found = Ownership()
    for res in idx:
        owner = profile.owner_of_name(res.kind, res.name)
        if owner:
            found.set(res.key, owner, NAME)
        elif res.key in state_owner and state_owner[res.key][1]:
            found.set(res.key, str(state_owner[res.key][1]), "state")
    finder = _Relations(idx, graph, profile)
    for kind in _ORDER:
        for res in idx.by_kind[kind]:
            if res.key in found.owners:
                continue
            owner, rule = finder.owner(res, found.owners)
            if owner:
                found.set(res.key, owner, f"{RELATION} {rule}")
            elif kind is Kind.SERVER_GROUP and not res.attrs.get("members") and res.key not in state_owner:
                found.unattributable[res.key] = UNATTRIBUTABLE_GROUP
    return found


class _Relations:
    def __init__(self, idx: Index, graph: nx.DiGraph, profile: Profile) -> None:
        self.idx, self.graph, self.profile = idx, graph, profile
        self.ports_by_group: dict[str, list[Resource]] = defaultdict(list)
        self.subnets_by_network: dict[str, list[Resource]] = defaultdict(list)
        self.servers_by_keypair: dict[str, list[Resource]] = defaultdict(list)
        for port in idx.by_kind[Kind.PORT]:
            for group in port.attrs.get("security_groups") or ():
                self.ports_by_group[str(group)].append(port)
        for subnet in idx.by_kind[Kind.SUBNET]:
            self.subnets_by_network[str(subnet.attrs.get("network_id"))].append(subnet)
        for server in idx.by_kind[Kind.SERVER]:
            if server.attrs.get("key_name"):
                self.servers_by_keypair[str(server.attrs["key_name"])].append(server)

    def shared(self, res: Resource) -> bool:
        """Objects that belong to the project, never to a job, whatever uses them: Neutron's ``default`` security
        group, external and shared networks and their subnets."""
        if res.kind is Kind.SECURITY_GROUP:
            return res.name == "default"
        if res.kind is Kind.SUBNET:
            network = self.idx.get(Kind.NETWORK, str(res.attrs.get("network_id") or ""))
            return network is not None and self.shared(network)
        if res.kind is Kind.NETWORK:
            return bool(res.attrs.get("router:external") or res.attrs.get("shared")) or \
                res.name in self.profile.external_networks or res.id in self.profile.external_networks
        return False

    def owner(self, res: Resource, owners: dict[str, str]) -> tuple[str | None, str]:
        """The one owner every related resource with an owner agrees on, and the relations that gave it."""
        if self.shared(res):
            return None, ""
        if res.kind is Kind.SECURITY_GROUP and not ports_agree(self.ports_by_group.get(res.id, []), owners):
            return None, ""
        votes: dict[str, list[str]] = {}
        found = [(self._csi_cluster(res), f"volume.metadata[{CSI_CLUSTER}]")]
        found += [(owners.get(key) if key else None, rule) for key, rule in self._candidates(res)]
        for owner, rule in found:
            if owner:
                votes.setdefault(owner, [])
                if rule not in votes[owner]:
                    votes[owner].append(rule)
        if len(votes) != 1:
            return None, ""
        owner, rules = votes.popitem()
        return owner, ", ".join(rules)

    def _csi_cluster(self, res: Resource) -> str | None:
        """An owner the resource states itself without a name: the cluster Cinder CSI tagged a volume with."""
        metadata = res.attrs.get("metadata") if res.kind is Kind.VOLUME else None
        cluster = str(metadata.get(CSI_CLUSTER) or "") if isinstance(metadata, dict) else ""
        if _BARE_JOB.match(cluster):
            return cluster
        return self.profile.owner_of_name(Kind.VOLUME, cluster) if cluster else None

    def _candidates(self, res: Resource) -> Candidates:
        attrs, kind = res.attrs, res.kind
        if kind is Kind.SUBNET:
            yield node_key(Kind.NETWORK, str(attrs.get("network_id"))), "subnet.network_id"
        elif kind is Kind.NETWORK:
            for subnet in self.subnets_by_network.get(res.id, ()):
                yield subnet.key, "network.subnets"
        elif kind is Kind.PORT:
            device = str(attrs.get("device_id") or "")
            yield (node_key(Kind.SERVER, device) if device else None), "port.device_id"
            yield node_key(Kind.NETWORK, str(attrs.get("network_id"))), "port.network_id"
        elif kind is Kind.SERVER:
            for port in self.idx.ports_by_device.get(res.id, ()):
                yield port.key, "server.ports"
                yield node_key(Kind.NETWORK, str(port.attrs.get("network_id"))), "server.ports.network_id"
                for fixed in port.attrs.get("fixed_ips") or ():
                    if isinstance(fixed, dict) and fixed.get("subnet_id"):
                        yield node_key(Kind.SUBNET, str(fixed["subnet_id"])), "server.ports.subnet_id"
        elif kind is Kind.TRUNK:  # a trunk belongs to whoever owns its parent port
            yield node_key(Kind.PORT, str(attrs.get("port_id"))), "trunk.port_id"
        elif kind is Kind.ROUTER_INTERFACE:
            for subnet_id in attrs.get("subnet_ids") or ():
                yield node_key(Kind.SUBNET, str(subnet_id)), "router_interface.subnet_id"
        elif kind is Kind.FLOATING_IP:
            port_id = attrs.get("port_id")
            lb = self.idx.load_balancers_by_vip_port.get(str(port_id)) if port_id else None
            yield (node_key(Kind.PORT, str(port_id)) if port_id else None), "floating_ip.port_id"
            yield (lb.key if lb else None), "floating_ip.load_balancer_vip"
        elif kind is Kind.LOAD_BALANCER:
            yield node_key(Kind.SUBNET, str(attrs.get("vip_subnet_id"))), "load_balancer.vip_subnet_id"
            yield node_key(Kind.NETWORK, str(attrs.get("vip_network_id"))), "load_balancer.vip_network_id"
        elif kind is Kind.KEYPAIR:
            for server in self.servers_by_keypair.get(res.name, ()):
                yield server.key, "server.key_name"
        elif kind is Kind.SECURITY_GROUP:
            for port in self.ports_by_group.get(res.id, ()):
                yield port.key, "security_group.ports"
        else:  # volumes, snapshots, server groups: whatever they are tied to in the graph
            for other in (*self.graph.predecessors(res.key), *self.graph.successors(res.key)):
                data = self.graph.get_edge_data(res.key, other) or self.graph.get_edge_data(other, res.key) or {}
                yield other, str(data.get("reason") or "graph")


def ports_agree(ports: list[Resource], owners: dict[str, str]) -> bool:
    """A security group belongs to the job whose ports carry it only when every carrying port has that owner:
    a port of another job, or of nobody, makes the group nobody's (kept)."""
    found = {owners.get(p.key) for p in ports}
    return len(found) == 1 and None not in found
