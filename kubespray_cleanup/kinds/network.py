"""Networks: the last Neutron object of a cluster; Neutron removes DHCP ports and subnets with it."""

from __future__ import annotations

from typing import Any

from kubespray_cleanup.kinds.base import KindHandler
from kubespray_cleanup.model import Kind, Resource


class NetworkHandler(KindHandler):
    kind = Kind.NETWORK
    service = "network"
    proxy = "network"
    path = "/networks"
    collection = "networks"


    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
