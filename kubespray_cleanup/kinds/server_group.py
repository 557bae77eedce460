"""Nova server groups: members never block deletion; ordered after their servers for tidiness."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation
from kubespray_cleanup.model import Kind, Resource, node_key


class ServerGroupHandler(KindHandler):
    kind = Kind.SERVER_GROUP
    service = "compute"
    proxy = "compute"
    path = "/os-server-groups"
    collection = "server_groups"


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        for member in res.attrs.get("members") or ():
            yield Relation(node_key(Kind.SERVER, str(member)), res.key, "server_group.members")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
