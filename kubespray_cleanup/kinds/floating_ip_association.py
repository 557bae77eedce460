"""A kept floating IP's association with a leaked port: detached so the router interface can go."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubespray_cleanup.kinds.floating_ip import FloatingIPHandler
from kubespray_cleanup.model import Kind, Resource


class FloatingIPAssociationHandler(FloatingIPHandler):
    """Not listed: the planner derives it from a kept FIP whose port (or load balancer) is deleted."""

    kind = Kind.FLOATING_IP_ASSOCIATION

    def list(self, conn: Any) -> list[Resource]:
        return []

    def of(self, fip: Resource) -> Resource:
        return replace(fip, kind=Kind.FLOATING_IP_ASSOCIATION)

    def delete(self, conn: Any, res: Resource) -> None:
        self.disassociate(conn, res)
