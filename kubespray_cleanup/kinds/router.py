"""Routers created by a CI job (not the shared one): deleted once their interfaces are gone."""

from __future__ import annotations

from typing import Any

from kubespray_cleanup.kinds.base import KindHandler
from kubespray_cleanup.model import Kind, Resource


class RouterHandler(KindHandler):
    kind = Kind.ROUTER
    service = "network"
    proxy = "network"
    path = "/routers"
    collection = "routers"


    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
