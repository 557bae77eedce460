"""Nova keypairs: per user, addressed by name; nothing blocks their deletion."""

from __future__ import annotations

from typing import Any

from kubespray_cleanup.kinds.base import KindHandler
from kubespray_cleanup.model import Kind, Resource


class KeypairHandler(KindHandler):
    kind = Kind.KEYPAIR
    service = "compute"

    def list(self, conn: Any) -> list[Resource]:
        result = []
        for obj in conn.compute.keypairs():
            res = self.to_resource(obj)
            result.append(Resource(Kind.KEYPAIR, res.name, res.name, res.project_id, res.created_at, res.attrs))
        return result

    def delete(self, conn: Any, res: Resource) -> None:
        conn.compute.delete_keypair(res.name, ignore_missing=True)
