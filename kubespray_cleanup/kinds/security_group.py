"""Security groups: in use while any port carries them; remote-group rules are ordered, not fatal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubespray_cleanup.kinds.base import REMOTE_GROUP_REASON, Index, KindHandler, Relation
from kubespray_cleanup.model import Kind, Resource, node_key


class SecurityGroupHandler(KindHandler):
    kind = Kind.SECURITY_GROUP
    service = "network"
    proxy = "network"
    path = "/security-groups"
    collection = "security_groups"


    def relations(self, res: Resource, idx: Index) -> Iterable[Relation]:
        """A group whose rules reference another group goes first, so Neutron never rewrites a kept group."""
        seen = set()
        for rule in res.attrs.get("security_group_rules") or ():
            remote = rule.get("remote_group_id") if isinstance(rule, dict) else None
            if remote and remote != res.id and remote not in seen:
                seen.add(remote)
                yield Relation(res.key, node_key(Kind.SECURITY_GROUP, str(remote)), REMOTE_GROUP_REASON)

    def delete(self, conn: Any, res: Resource) -> None:
        self.delete_by_path(conn, res.id)
