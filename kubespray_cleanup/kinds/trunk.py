"""Neutron trunks: a trunk's parent and subports refuse deletion (409) until the trunk is gone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import Index, KindHandler, Relation, rel
from kubespray_cleanup.kinds.http import list_rows
from kubespray_cleanup.model import Kind, Resource


class TrunkHandler(KindHandler):
    """Deleting a trunk detaches its subports (they survive, unbound) and leaves its parent port.

    Neutron refuses the parent's delete with ``PortInUseAsTrunkParent`` and a subport's with
    ``PortInUseAsSubPort`` while the trunk exists; the trunk itself is refused while disabled
    (``TrunkDisabled``: it is enabled first) and, with ML2/OVS, while its parent is bound to a server
    (``TrunkInUse``: the server goes first).
    """

    kind = Kind.TRUNK
    service = "network"
    proxy = "network"
    path = "/trunks"
    collection = "trunks"

    def unavailable(self, conn: Any) -> str:
        aliases = {str(e.get("alias")) for e in list_rows(conn.network, "/extensions", "extensions")}
        return "" if "trunk" in aliases else "the network service has no trunk extension"

    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        parent_id = res.attrs.get("port_id")
        yield from rel(res, Kind.PORT, parent_id, "trunk.port_id")
        for sub in res.attrs.get("sub_ports") or ():
            if isinstance(sub, dict):
                yield from rel(res, Kind.PORT, sub.get("port_id"), "trunk.sub_ports.port_id")
        parent = idx.get(Kind.PORT, parent_id)
        server = idx.get(Kind.SERVER, str(parent.attrs.get("device_id") or "")) if parent else None
        if server is not None:
            yield Relation(server.key, res.key, "trunk.port_id.device_id")

    def delete(self, conn: Any, res: Resource) -> None:
        if res.attrs.get("admin_state_up") is False:
            conn.network.update_trunk(res.id, is_admin_state_up=True)
        conn.network.delete_trunk(res.id, ignore_missing=True)
