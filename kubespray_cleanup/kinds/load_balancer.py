"""Octavia load balancers: deleted with cascade (listeners, pools, members, VIP port) before their subnet."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.model import Kind, Resource


class LoadBalancerHandler(KindHandler):
    kind = Kind.LOAD_BALANCER
    service = "load-balancer"
    asynchronous = True
    proxy = "load_balancer"
    path = "/lbaas/loadbalancers"
    collection = "loadbalancers"
    status_field = "provisioning_status"

    def from_api(self, attrs: dict[str, Any]) -> Resource:
        return super().from_api({**attrs, "status": attrs.get("provisioning_status")})

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        yield from rel(res, Kind.SUBNET, res.attrs.get("vip_subnet_id"), "load_balancer.vip_subnet_id")
        yield from rel(res, Kind.NETWORK, res.attrs.get("vip_network_id"), "load_balancer.vip_network_id")
        for sg_id in res.attrs.get("vip_sg_ids") or ():
            yield from rel(res, Kind.SECURITY_GROUP, sg_id, "load_balancer.vip_sg_ids")
        port_id = res.attrs.get("vip_port_id")
        vip = idx.get(Kind.PORT, port_id)
        if vip is not None and vip.attrs.get("device_owner") in ("", None):
            yield Relation(res.key, vip.key, "load_balancer.vip_port_id")

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("status") == "PENDING_DELETE"

    def busy(self, status: str) -> bool:
        return status in ("PENDING_CREATE", "PENDING_UPDATE")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id, "cascade=true")
