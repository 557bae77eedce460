"""Neutron ports: pre-created node ports outlive their servers and block subnets, networks and SGs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import (
    PORT_FIP_REASON,
    PORT_INTERFACE_REASON,
    ROUTER_INTERFACE_OWNERS,
    Index,
    KindHandler,
    Relation,
    rel,
)
from kubespray_cleanup.kinds.router_interface import RouterInterfaceHandler
from kubespray_cleanup.model import Kind, Resource


class PortHandler(KindHandler):
    kind = Kind.PORT
    service = "network"
    proxy = "network"
    path = "/ports"
    collection = "ports"

    def list(self, conn: Any) -> list[Resource]:
        """Ports, with router-interface ports turned into ``router_interface`` resources."""
        interfaces = RouterInterfaceHandler()
        return [interfaces.from_port(res) if res.attrs.get("device_owner") in ROUTER_INTERFACE_OWNERS else res
                for res in super().list(conn)]

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        yield from rel(res, Kind.NETWORK, res.attrs.get("network_id"), "port.network_id")
        for fixed in res.attrs.get("fixed_ips") or ():
            if isinstance(fixed, dict):
                yield from rel(res, Kind.SUBNET, fixed.get("subnet_id"), "port.fixed_ips.subnet_id")
                for iface in idx.interfaces_by_subnet.get(str(fixed.get("subnet_id")), ()):
                    yield Relation(res.key, iface.key, PORT_INTERFACE_REASON)
        for fip in idx.floating_ips_by_port.get(res.id, ()):
            yield Relation(res.key, fip.key, PORT_FIP_REASON)
        for sg_id in res.attrs.get("security_groups") or ():
            yield from rel(res, Kind.SECURITY_GROUP, sg_id, "port.security_groups")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
