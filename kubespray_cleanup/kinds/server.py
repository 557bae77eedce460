"""Nova servers: deleted first among compute objects; the delete finishes asynchronously."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
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
        conn.compute.delete_server(res.id, ignore_missing=True)

    recovery = "force-delete"

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("OS-EXT-STS:task_state") == "deleting"

    def recover(self, conn: Any, res: Resource) -> None:
        conn.compute.delete_server(res.id, ignore_missing=True, force=True)
