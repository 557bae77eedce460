"""Nova servers: deleted first among compute objects; the delete finishes asynchronously."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from kubespray_cleanup.kinds.base import RELEASING, Index, KindHandler, Relation, rel
from kubespray_cleanup.kinds.http import list_rows
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
        if str(res.attrs.get("status") or "").upper() == "SOFT_DELETED":
            conn.compute.delete_server(res.id, ignore_missing=True, force=True)
        else:
            self.delete_by_path(conn, res.id)

    recovery = "force-delete"

    def delete_in_progress(self, res: Resource) -> bool:
        return res.attrs.get("OS-EXT-STS:task_state") == "deleting"

    def recover(self, conn: Any, res: Resource) -> None:
        conn.compute.delete_server(res.id, ignore_missing=True, force=True)

    def live_ids(self, conn: Any, pending: Sequence[Resource] = ()) -> dict[str, str]:
        """The servers waited for, listed by name (Nova's ``name`` filter is a regular expression: a short page
        instead of every server of the project at each poll; ids decide, a namesake is merely listed too), plus
        ``releasing`` for a gone one that still holds a port or a volume.

        Nova unbinds a deleted server's ports and detaches its volumes a moment after the server leaves the
        list; until then those ports and volumes are not free to delete. Ports and volumes are listed only in
        polls where a waited-for server has left the list.
        """
        names = sorted({res.name for res in pending})
        if not names or "" in names or len(names) > NAME_FILTER_MAX:
            live = super().live_ids(conn, pending)
        else:
            query = urlencode({"name": "^(" + "|".join(re.escape(name) for name in names) + ")$"})
            rows = list_rows(conn.compute, f"{self.path}?{query}", self.collection)
            live = {str(row.get("id") or ""): str(row.get("status") or "") for row in rows}
        gone = {res.id for res in pending} - set(live)
        if not gone:
            return live
        try:
            holders = _holders(conn) & gone
        except Exception:  # only the wait for the release is lost: refusals are still retried by the executor
            return live
        return {**{sid: RELEASING for sid in holders}, **live}


NAME_FILTER_MAX = 40  # names per filtered poll; beyond that the URL grows long and one full listing is cheaper


def _holders(conn: Any) -> set[str]:
    """Server ids still named by a ``compute:*`` port's ``device_id`` or a volume attachment."""
    holders: set[str] = set()
    for port in list_rows(conn.network, "/ports?fields=device_id&fields=device_owner", "ports"):
        if str(port.get("device_owner") or "").startswith("compute:"):
            holders.add(str(port.get("device_id") or ""))
    for volume in list_rows(conn.block_storage, "/volumes/detail", "volumes"):
        holders.update(str(a.get("server_id") or "") for a in volume.get("attachments") or () if isinstance(a, dict))
    return holders
