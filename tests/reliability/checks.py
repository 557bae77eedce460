"""Before/after checks of a cleanup run over a World: leftovers, kept objects touched, foreign writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.world import SHARED_ROUTER, Truth, World

# Writes that name a kept object by design: detaching a leaked subnet's interface from the shared router.
_ALLOWED_ON_KEPT = ("/remove_router_interface", "/remove_extraroutes")


@dataclass
class Expectation:
    """Computed before a run: what must be gone and what must be exactly as it was afterwards."""

    world: World
    truth: Truth
    dangling: set[str]
    kept: set[str]
    kept_ids: set[str]  # store ids (keypairs: names) of kept nodes and of every other project's record
    other: dict[str, set[str]] = field(default_factory=dict)  # table -> ids of other projects' records
    rules: dict[str, set[str]] = field(default_factory=dict)  # kept security group -> its rule ids
    gateway: Any = None  # the shared router's external_gateway_info

    @classmethod
    def of(cls, world: World) -> Expectation:
        truth = world.truth()
        foreign = truth.other_project_ids()
        kept_ids = truth.ids(truth.kept) | foreign
        other = {t: {rid for rid in world.store.table(t) if rid in foreign} for t in world.store.tables}
        rules = {truth.nodes[k][1]["id"]: _rules_of(world, truth.nodes[k][1]["id"])
                 for k in truth.kept if k.startswith("security_group:")}
        router = world.store.get("routers", SHARED_ROUTER) or {}
        return cls(world, truth, set(truth.dangling), set(truth.kept), kept_ids, other, rules,
                   json.dumps(router.get("external_gateway_info"), sort_keys=True))

    def leftovers(self) -> list[str]:
        """Dangling objects still in the cloud."""
        return sorted(self._label(k) for k in self.dangling if self.truth.present(k))

    def touched(self) -> list[str]:
        """Kept objects gone or changed: missing records, security-group rules, the shared router's gateway."""
        store = self.world.store
        found = [f"gone: {self._label(k)}" for k in sorted(self.kept) if not self.truth.present(k)]
        for table in store.tables:
            ids = set(store.table(table))
            found += [f"gone: {table} {rid} (other project)" for rid in sorted(self.other.get(table, ()))
                      if rid not in ids]
        for sg, rules in sorted(self.rules.items()):
            now = _rules_of(self.world, sg)
            if now != rules:
                found.append(f"rules of kept security group {sg} changed: "
                             f"-{sorted(rules - now)} +{sorted(now - rules)}")
        router = store.get("routers", SHARED_ROUTER)
        if router is None or json.dumps(router.get("external_gateway_info"), sort_keys=True) != self.gateway:
            found.append("shared router or its gateway changed")
        return found

    def foreign_writes(self, request_log: str) -> list[str]:
        """Write requests whose path names a kept object or another project's object."""
        bad = []
        for line in request_log.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry["method"] not in ("DELETE", "PUT", "POST", "PATCH"):
                continue
            path = str(entry["path"])
            if path.endswith(_ALLOWED_ON_KEPT):
                continue
            if self.kept_ids.intersection(path.split("/")):
                bad.append(f"{entry['method']} {path} -> {entry['status']}")
        return bad

    def _label(self, key: str) -> str:
        table, record = self.truth.nodes[key]
        owner = self.world.owner.get((table, record["id"]), "")
        return f"{key} {record.get('name') or ''} (pipeline {owner or '-'})"


def _rules_of(world: World, sg_id: str) -> set[str]:
    return {str(r["id"]) for r in world.store.table("security_group_rules").values()
            if r.get("security_group_id") == sg_id}
