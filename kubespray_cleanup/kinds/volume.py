"""Cinder volumes: attached volumes refuse deletion with 400; deleted with cascade=True (snapshots)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.model import Kind, Resource, node_key


class VolumeHandler(KindHandler):
    kind = Kind.VOLUME
    service = "volume"
    asynchronous = True

    def list(self, conn: Any) -> list[Resource]:
        return [self.to_resource(v) for v in conn.block_storage.volumes(details=True)]

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        for attachment in res.attrs.get("attachments") or ():
            if isinstance(attachment, dict) and attachment.get("server_id"):
                yield Relation(node_key(Kind.SERVER, str(attachment["server_id"])), res.key,
                               "volume.attachments.server_id")
        yield from rel(res, Kind.SNAPSHOT, res.attrs.get("snapshot_id"), "volume.snapshot_id")

    def delete(self, conn: Any, res: Resource) -> None:
        conn.block_storage.delete_volume(res.id, ignore_missing=True, cascade=True)
