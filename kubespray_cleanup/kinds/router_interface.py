"""Router interfaces: detach actions on (possibly shared) routers; the router itself is never probed."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.kinds.http import call_at
from kubespray_cleanup.model import Kind, Resource


class RouterInterfaceHandler(KindHandler):
    kind = Kind.ROUTER_INTERFACE
    service = "network"

    def list(self, conn: Any) -> list[Resource]:
        return []  # listed with ports (one ports call per run)

    def from_port(self, port: Resource) -> Resource:
        subnets = [f.get("subnet_id") for f in port.attrs.get("fixed_ips") or () if isinstance(f, dict)]
        attrs = dict(port.attrs)
        attrs["router_id"] = port.attrs.get("device_id")
        attrs["subnet_ids"] = [s for s in subnets if s]
        return replace(port, kind=Kind.ROUTER_INTERFACE, attrs=attrs)

    def with_routes(self, res: Resource, idx: Index) -> Resource:
        """Attach the router's extra routes whose nexthop lies in this interface's subnets."""
        router = idx.get(Kind.ROUTER, res.attrs.get("router_id"))
        routes = list(router.attrs.get("routes") or ()) if router else []
        cidrs = [str(s.attrs.get("cidr")) for s in (idx.get(Kind.SUBNET, i) for i in res.attrs.get("subnet_ids") or ())
                 if s is not None and s.attrs.get("cidr")]
        doomed = [r for r in routes if isinstance(r, dict) and _in_any(str(r.get("nexthop", "")), cidrs)]
        if not doomed:
            return res
        return replace(res, attrs={**res.attrs, "routes_to_remove": doomed})

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        for subnet_id in res.attrs.get("subnet_ids") or ():
            yield from rel(res, Kind.SUBNET, subnet_id, "router_interface.subnet_id")
        yield from rel(res, Kind.NETWORK, res.attrs.get("network_id"), "router_interface.network_id")
        yield from rel(res, Kind.ROUTER, res.attrs.get("router_id"), "router_interface.device_id")

    def delete(self, conn: Any, res: Resource) -> None:
        router_id = str(res.attrs.get("router_id"))
        subnet_ids = list(res.attrs.get("subnet_ids") or ())
        self._remove_routes_through(conn, router_id, res)
        for subnet_id in subnet_ids:  # a 404 (already detached) counts as done
            call_at(conn.network, "PUT", f"/routers/{router_id}/remove_router_interface", {"subnet_id": subnet_id})

    @staticmethod
    def _remove_routes_through(conn: Any, router_id: str, res: Resource) -> None:
        """Extra routes whose nexthop lies in a leaked subnet block the detach (RouterInterfaceInUseByRoute)."""
        doomed = list(res.attrs.get("routes_to_remove") or ())
        if doomed:
            conn.network.remove_extra_routes_from_router(router_id, body={"router": {"routes": doomed}})


def _in_any(address: str, cidrs: list[str]) -> bool:
    try:
        hop = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(hop in ipaddress.ip_network(c, strict=False) for c in cidrs)
