"""Nova servers: deleted first among compute objects; the delete finishes asynchronously."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, list_rows, rel
from kubespray_cleanup.model import Kind, Resource


class ServerHandler(KindHandler):
    kind = Kind.SERVER
    service = "compute"
    proxy = "compute"
    path = "/servers/detail"
    collection = "servers"
    asynchronous = True
    created_field = "created"


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        for port in idx.ports_by_device.get(res.id, ()):
            yield Relation(res.key, port.key, "port.device_id")
        key_name = res.attrs.get("key_name")
        keypair = idx.keypairs_by_name.get(str(key_name)) if key_name else None
        if keypair is not None:
            yield Relation(res.key, keypair.key, "server.key_name")
        for volume in res.attrs.get("os-extended-volumes:volumes_attached") or ():
            if isinstance(volume, dict):
                yield from rel(res, Kind.VOLUME, volume.get("id"), "server.volumes_attached")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)

    recovery = "force-delete"

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("OS-EXT-STS:task_state") == "deleting"

    def recover(self, conn: Any, res: Resource) -> None:
        conn.compute.delete_server(res.id, ignore_missing=True, force=True)

    def live_ids(self, conn: Any, pending: Sequence[Resource] = ()) -> dict[str, str]:
        """Only the servers waited for, by name (Nova's ``name`` filter is a regular expression): a short page
        instead of every server of the project at each poll. Ids decide; a namesake is merely listed too."""
        names = sorted({res.name for res in pending})
        if not names or "" in names or len(names) > NAME_FILTER_MAX:
            return super().live_ids(conn, pending)
        query = urlencode({"name": "^(" + "|".join(re.escape(name) for name in names) + ")$"})
        rows = list_rows(conn.compute, f"{self.path}?{query}", self.collection)
        return {str(row.get("id") or ""): str(row.get("status") or "") for row in rows}


NAME_FILTER_MAX = 40  # names per filtered poll; beyond that the URL grows long and one full listing is cheaper
