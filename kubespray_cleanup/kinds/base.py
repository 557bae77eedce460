"""What every kind module provides: listing, relations, protection and the delete action."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from kubespray_cleanup.kinds.http import delete_at, list_rows
from kubespray_cleanup.model import Kind, Resource, node_key

ROUTER_INTERFACE_OWNERS = frozenset({
    "network:router_interface",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
})
# Ports Neutron removes with their network, or that belong to a service object; never deleted directly.
AUTO_PORT_OWNERS = frozenset({"network:dhcp", "network:distributed", "network:floatingip_agent_gateway"})
SERVICE_PORT_OWNERS = frozenset({"network:router_gateway", "network:floatingip", "network:router_centralized_snat",
                                 "network:router_ha_interface", "Octavia", "ovn-lb:vip", "ovn-lb-hm:distributed",
                                 "neutron:LOADBALANCERV2"})


REMOTE_GROUP_REASON = "rule.remote_group_id"
# Status ``live_ids`` gives an object that left its listing but still holds others (Nova's lag).
RELEASING = "releasing"
# Edges no service enforces, there so that a kept port keeps what serves it (its FIP, its subnet's interface).
PORT_FIP_REASON = "floating_ip.port_id"
PORT_INTERFACE_REASON = "port.subnet.router_interface"
KEEP_ONLY_REASONS = frozenset({PORT_FIP_REASON, PORT_INTERFACE_REASON})


@dataclass(frozen=True)
class Relation:
    """``before`` must be gone before ``after`` is deleted; ``reason`` names the field it came from."""

    before: str
    after: str
    reason: str


def parse_time(value: Any) -> datetime | None:
    """API timestamps (``2026-11-25T09:42:01Z``, with microseconds, or naive) as aware UTC datetimes."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Index:
    """Lookups over one inventory that relation finders need (ports by device, subnets by id ...)."""

    def __init__(self, resources: Iterable[Resource]) -> None:
        self.by_key: dict[str, Resource] = {}
        self.by_kind: dict[Kind, list[Resource]] = defaultdict(list)
        self.ports_by_device: dict[str, list[Resource]] = defaultdict(list)
        self.keypairs_by_name: dict[str, Resource] = {}
        self.security_groups_by_name: dict[str, list[Resource]] = defaultdict(list)
        self.interfaces: dict[tuple[str, str], list[Resource]] = defaultdict(list)  # (router, subnet) -> ports
        self.load_balancers_by_vip_port: dict[str, Resource] = {}
        self.floating_ips_by_port: dict[str, list[Resource]] = defaultdict(list)
        self.interfaces_by_subnet: dict[str, list[Resource]] = defaultdict(list)
        self._subnet_networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Resource]] | None = None
        for res in resources:
            self.add(res)

    def add(self, res: Resource) -> None:
        self.by_key[res.key] = res
        self.by_kind[res.kind].append(res)
        if res.kind in (Kind.PORT, Kind.ROUTER_INTERFACE):
            device = str(res.attrs.get("device_id") or "")
            if device:
                self.ports_by_device[device].append(res)
            if res.kind is Kind.ROUTER_INTERFACE:
                for subnet_id in res.attrs.get("subnet_ids") or ():
                    self.interfaces[(device, str(subnet_id))].append(res)
                    self.interfaces_by_subnet[str(subnet_id)].append(res)
        elif res.kind is Kind.SUBNET:
            self._subnet_networks = None
        elif res.kind is Kind.FLOATING_IP and res.attrs.get("port_id"):
            self.floating_ips_by_port[str(res.attrs["port_id"])].append(res)
        elif res.kind is Kind.LOAD_BALANCER and res.attrs.get("vip_port_id"):
            self.load_balancers_by_vip_port[str(res.attrs["vip_port_id"])] = res
        elif res.kind is Kind.KEYPAIR:
            self.keypairs_by_name[res.name] = res
        elif res.kind is Kind.SECURITY_GROUP:
            self.security_groups_by_name[res.name].append(res)

    def get(self, kind: Kind, rid: str | None) -> Resource | None:
        if not rid:
            return None
        return self.by_key.get(node_key(kind, str(rid)))

    def has(self, kind: Kind, rid: str | None) -> bool:
        return self.get(kind, rid) is not None

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)

    def subnet_containing(self, address: str | None) -> list[Resource]:
        if not address:
            return []
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return []
        if self._subnet_networks is None:
            self._subnet_networks = []
            for subnet in self.by_kind[Kind.SUBNET]:
                try:
                    self._subnet_networks.append((ipaddress.ip_network(str(subnet.attrs.get("cidr")), strict=False),
                                                  subnet))
                except ValueError:
                    continue
        return [subnet for net, subnet in self._subnet_networks if ip in net]

    def subnets_of_address(self, port_id: str | None, address: str | None) -> list[str]:
        """Subnet ids holding ``address``: from the port's fixed IPs when known, else by CIDR."""
        port = self.get(Kind.PORT, port_id)
        if port is not None:
            found = [str(f.get("subnet_id")) for f in port.attrs.get("fixed_ips") or ()
                     if isinstance(f, dict) and f.get("ip_address") == address and f.get("subnet_id")]
            if found:
                return found
        return [s.id for s in self.subnet_containing(address)]


class KindHandler:
    """One OpenStack kind. Subclasses set the class attributes and override what differs."""

    kind: ClassVar[Kind]
    service: ClassVar[str]  # semaphore bucket: compute, network, volume, load-balancer
    proxy: ClassVar[str] = ""  # openstacksdk proxy attribute: network, compute, block_storage, load_balancer
    path: ClassVar[str] = ""  # list path below the service endpoint
    collection: ClassVar[str] = ""  # key of the list in the answer
    asynchronous: ClassVar[bool] = False  # the delete call returns before the object is gone
    created_field: ClassVar[str] = "created_at"
    status_field: ClassVar[str] = "status"  # the API field ``live_ids`` reports as the status

    def list(self, conn: Any) -> list[Resource]:
        """Every object of the kind, all pages, as plain API records (no SDK resource objects: cheaper)."""
        return [self.from_api(row) for row in list_rows(getattr(conn, self.proxy), self.path, self.collection)]

    def unavailable(self, conn: Any) -> str:
        """Why this cloud cannot list the kind although its service is in the catalog ('' when it can)."""
        return ""

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        return ()

    def delete(self, conn: Any, res: Resource) -> None:
        raise NotImplementedError

    def delete_by_path(self, conn: Any, ident: str, query: str = "") -> None:
        """DELETE ``<path>/<ident>`` (the listing path without ``/detail``) as a plain request (:func:`delete_at`)."""
        base = self.path.removesuffix("/detail")
        delete_at(getattr(conn, self.proxy), f"{base}/{ident}{'?' + query if query else ''}")

    def delete_in_progress(self, res: Resource) -> bool:
        """The listing shows the object already being deleted (an earlier run's call): only wait for it."""
        return False

    def busy(self, status: str) -> bool:
        """The object is in a transitional state in which the service refuses deletion: wait first."""
        return False

    def held_by_missing(self, res: Resource, fresh: Index) -> str:
        """Why the object is refused because of something that no longer exists ('' when it is not)."""
        return ""

    recovery: ClassVar[str] = ""  # what ``recover`` does, for reports; empty when the kind has none

    def recover(self, conn: Any, res: Resource) -> None:
        """Last resort for a delete that does not finish (admin-only on most clouds)."""
        raise NotImplementedError

    def live_ids(self, conn: Any, pending: Sequence[Resource] = ()) -> dict[str, str]:
        """Ids that still exist, with their status, for waiting on asynchronous deletes (``pending``: the objects
        waited for, which a kind may use to ask for less than the whole listing)."""
        if type(self).list is not KindHandler.list:  # a kind that reshapes its listing
            return {r.id: str(r.attrs.get("status") or "") for r in self.list(conn)}
        rows = list_rows(getattr(conn, self.proxy), self.path, self.collection)  # ids and statuses only: no Resource
        return {str(row.get("id") or ""): str(row.get(self.status_field) or "") for row in rows}

    def from_api(self, attrs: dict[str, Any]) -> Resource:
        return Resource(
            kind=self.kind,
            id=str(attrs.get("id") or ""),
            name=str(attrs.get("name") or ""),
            project_id=str(attrs.get("project_id") or attrs.get("tenant_id") or ""),
            created_at=parse_time(attrs.get(self.created_field)),
            attrs=attrs,
        )


def rel(before: Resource, after_kind: Kind, after_id: str | None, reason: str) -> Iterator[Relation]:
    """One relation from ``before`` to ``after_kind:after_id`` when the id is set."""
    if after_id:
        yield Relation(before.key, node_key(after_kind, str(after_id)), reason)
