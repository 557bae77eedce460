"""Nova keypairs: per user, addressed by name; nothing blocks their deletion."""

from __future__ import annotations

from typing import Any

from kubespray_cleanup.kinds.base import KindHandler
from kubespray_cleanup.model import Kind, Resource


class KeypairHandler(KindHandler):
    kind = Kind.KEYPAIR
    service = "compute"
    proxy = "compute"
    path = "/os-keypairs"
    collection = "keypairs"

    def from_api(self, attrs: dict[str, Any]) -> Resource:
        """List entries are wrapped (``{"keypair": {...}}``); the name is the id."""
        wrapped = attrs.get("keypair")
        inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else attrs
        return super().from_api({**inner, "id": inner.get("name")})

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.name)
