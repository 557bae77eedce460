"""Subnets: free once no port, router interface or load balancer holds an address on them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.model import Kind, Resource


class SubnetHandler(KindHandler):
    kind = Kind.SUBNET
    service = "network"
    proxy = "network"
    path = "/subnets"
    collection = "subnets"


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        yield from rel(res, Kind.NETWORK, res.attrs.get("network_id"), "subnet.network_id")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
