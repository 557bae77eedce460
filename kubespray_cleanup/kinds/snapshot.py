"""Cinder snapshots: they block their source volume unless it is deleted with cascade."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.model import Kind, Resource


class SnapshotHandler(KindHandler):
    kind = Kind.SNAPSHOT
    service = "volume"
    proxy = "block_storage"
    path = "/snapshots/detail"
    collection = "snapshots"
    asynchronous = True


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        yield from rel(res, Kind.VOLUME, res.attrs.get("volume_id"), "snapshot.volume_id")

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("status") == "deleting"

    def busy(self, status: str) -> bool:
        return status == "creating"

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
