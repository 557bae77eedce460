"""Floating IPs: they pin router interfaces (and gateways) until deleted or disassociated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation
from kubespray_cleanup.model import Kind, Resource, node_key


class FloatingIPHandler(KindHandler):
    kind = Kind.FLOATING_IP
    service = "network"
    proxy = "network"
    path = "/floatingips"
    collection = "floatingips"

    def from_api(self, attrs: dict[str, Any]) -> Resource:
        """FIPs have no name: the address stands in for it in plans."""
        return super().from_api({**attrs, "name": attrs.get("name") or attrs.get("floating_ip_address") or ""})

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        router_id = res.attrs.get("router_id")
        fixed = res.attrs.get("fixed_ip_address")
        if not router_id or not fixed:
            return
        for subnet_id in idx.subnets_of_address(res.attrs.get("port_id"), str(fixed)):
            for iface in idx.interfaces.get((str(router_id), subnet_id), ()):
                yield Relation(res.key, iface.key, "floating_ip.router_id+fixed_ip_address")
        yield Relation(res.key, node_key(Kind.ROUTER, str(router_id)), "floating_ip.router_id")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)

    def disassociate(self, conn: Any, res: Resource) -> None:
        conn.network.update_ip(res.id, port_id=None)
