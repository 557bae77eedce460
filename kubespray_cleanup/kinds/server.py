"""Nova servers: deleted first among compute objects; the delete finishes asynchronously."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import RELEASING, Index, KindHandler, Relation, list_rows, rel
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
        """A server already ``SOFT_DELETED`` (the cloud defers deletes) only goes with ``forceDelete``."""
        soft = str(res.attrs.get("status") or "").upper() == "SOFT_DELETED"
        conn.compute.delete_server(res.id, ignore_missing=True, force=soft)

    def live_ids(self, conn: Any) -> dict[str, str]:
        """Listed servers, plus ``releasing`` for gone ones still holding a port or a volume.

        Nova unbinds a deleted server's ports and detaches its volumes a moment after the server
        leaves the list; until then those ports and volumes are not free to delete.
        """
        live = super().live_ids(conn)
        try:
            holders = _holders(conn)
        except Exception:  # only the wait for the release is lost: refusals are still retried by the executor
            return live
        return {**{sid: RELEASING for sid in holders if sid}, **live}

    recovery = "force-delete"

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("OS-EXT-STS:task_state") == "deleting"

    def recover(self, conn: Any, res: Resource) -> None:
        conn.compute.delete_server(res.id, ignore_missing=True, force=True)


def _holders(conn: Any) -> set[str]:
    """Server ids still named by a ``compute:*`` port's ``device_id`` or a volume attachment."""
    holders: set[str] = set()
    for port in list_rows(conn.network, "/ports?fields=device_id&fields=device_owner", "ports"):
        if str(port.get("device_owner") or "").startswith("compute:"):
            holders.add(str(port.get("device_id") or ""))
    for volume in list_rows(conn.block_storage, "/volumes/detail", "volumes"):
        holders.update(str(a.get("server_id") or "") for a in volume.get("attachments") or () if isinstance(a, dict))
    return holders
