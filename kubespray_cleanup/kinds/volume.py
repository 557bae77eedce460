"""Cinder volumes: attached volumes refuse deletion with 400; deleted with cascade=True (snapshots)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.model import Kind, Resource, node_key


class VolumeHandler(KindHandler):
    kind = Kind.VOLUME
    service = "volume"
    proxy = "block_storage"
    path = "/volumes/detail"
    collection = "volumes"
    asynchronous = True


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        for attachment in res.attrs.get("attachments") or ():
            if isinstance(attachment, dict) and attachment.get("server_id"):
                yield Relation(node_key(Kind.SERVER, str(attachment["server_id"])), res.key,
                               "volume.attachments.server_id")
        yield from rel(res, Kind.SNAPSHOT, res.attrs.get("snapshot_id"), "volume.snapshot_id")

    recovery = "reset-status + force-delete"

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("status") == "deleting"

    def busy(self, status: str) -> bool:
        return status in ("creating", "attaching", "detaching", "downloading", "uploading", "backing-up")

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id, "cascade=True")

    def held_by_missing(self, res: Resource, fresh: Index) -> str:
        """A volume still marked attached to a server that is gone (a stale attachment)."""
        current = fresh.get(Kind.VOLUME, res.id) or res
        servers = [str(a.get("server_id")) for a in current.attrs.get("attachments") or ()
                   if isinstance(a, dict) and a.get("server_id")]
        gone = [s for s in servers if not fresh.has(Kind.SERVER, s)]
        return f"attached to server {gone[0]}, which no longer exists" if gone and len(gone) == len(servers) else ""

    def recover(self, conn: Any, res: Resource) -> None:
        """Cinder's documented way out of ``error_deleting``/``detaching``: reset, then force delete."""
        conn.block_storage.reset_volume_status(res.id, status="error", attach_status="detached")
        conn.block_storage.delete_volume(res.id, ignore_missing=True, force=True)
