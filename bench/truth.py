"""Ground truth independent of any contender: which simulator record belongs to which CI job, from names and links.

A record belongs to a job when its name says so (``ci-<job>``, ``<job>-...``, ``kubernetes-<job>``) or when it
hangs off such a record (subnet -> network, port -> network, rule -> group, FIP -> port, LB child -> LB ...).
Everything else (external network, shared router, default groups, other projects) is shared and must survive.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Snapshot = Mapping[str, list[dict[str, Any]]]
RecordKey = tuple[str, str]  # (table, id)

_JOB_PREFIX = re.compile(r"^(?:ci-|kubernetes-)?(\d{4,})(?:-|$)")
# Records a cleanup decides about; the rest (rules, DHCP/FIP/VIP ports, LB children) go with their parent.
_CASCADED_PORT_OWNERS = ("network:dhcp", "network:floatingip", "network:router_gateway", "Octavia")
_CHILD_TABLES = ("security_group_rules", "listeners", "pools", "members", "health_monitors", "l7policies")


def job_of_name(name: str | None) -> str | None:
    match = _JOB_PREFIX.match(name or "")
    return match.group(1) if match else None


def _key(table: str, rec: Mapping[str, Any]) -> RecordKey:
    return table, str(rec.get("name") if table == "keypairs" else rec.get("id"))


def owners(snapshot: Snapshot) -> dict[RecordKey, str | None]:
    """Every record of the snapshot -> the job id it belongs to (None: shared or not CI-made)."""
    by_id: dict[str, dict[str, str | None]] = {}

    def owner(table: str, rid: Any) -> str | None:
        return by_id.get(table, {}).get(str(rid)) if rid else None

    def put(table: str, rec: Mapping[str, Any], job: str | None) -> None:
        by_id.setdefault(table, {})[str(rec.get("id"))] = job

    rows = {t: snapshot.get(t, []) for t in snapshot if not t.startswith("_")}
    for table in ("networks", "servers", "security_groups", "volumes", "routers", "keypairs", "images", "flavors"):
        for rec in rows.get(table, []):
            put(table, rec, job_of_name(rec.get("name")) if table not in ("images", "flavors") else None)
    for rec in rows.get("subnets", []):
        put("subnets", rec, owner("networks", rec.get("network_id")))
    for rec in rows.get("load_balancers", []):
        put("load_balancers", rec, job_of_name(rec.get("name")) or owner("subnets", rec.get("vip_subnet_id")))
    for rec in rows.get("ports", []):
        if rec.get("device_owner") != "network:floatingip":
            put("ports", rec, owner("networks", rec.get("network_id")))
    vip_of = {str(lb.get("vip_port_id")): owner("load_balancers", lb.get("id"))
              for lb in rows.get("load_balancers", [])}
    for rec in rows.get("floating_ips", []):
        port_id = str(rec.get("port_id") or "")
        put("floating_ips", rec, owner("ports", port_id) or vip_of.get(port_id))
    for rec in rows.get("ports", []):
        if rec.get("device_owner") == "network:floatingip":
            put("ports", rec, owner("floating_ips", rec.get("device_id")))
    for rec in rows.get("security_group_rules", []):
        put("security_group_rules", rec, owner("security_groups", rec.get("security_group_id")))
    for rec in rows.get("server_groups", []):
        jobs = {owner("servers", m) for m in rec.get("members") or []} - {None}
        put("server_groups", rec, jobs.pop() if len(jobs) == 1 else None)
    _lb_children(rows, put, owner)
    result: dict[RecordKey, str | None] = {}
    for table, recs in rows.items():
        for rec in recs:
            result[_key(table, rec)] = by_id.get(table, {}).get(str(rec.get("id")))
    return result


def _lb_children(rows: Mapping[str, list[dict[str, Any]]], put: Any, owner: Any) -> None:
    def first(rec: Mapping[str, Any], field: str) -> Any:
        links = rec.get(field) or []
        return links[0].get("id") if links and isinstance(links[0], dict) else None

    for table in ("listeners", "pools"):
        for rec in rows.get(table, []):
            put(table, rec, owner("load_balancers", first(rec, "loadbalancers")))
    member_pool = {str(m.get("id")): p.get("id") for p in rows.get("pools", []) for m in p.get("members") or []}
    for rec in rows.get("members", []):
        put("members", rec, owner("pools", member_pool.get(str(rec.get("id")))))
    for rec in rows.get("health_monitors", []):
        put("health_monitors", rec, owner("pools", first(rec, "pools")))


def decided_here(table: str, rec: Mapping[str, Any]) -> bool:
    """True for records a cleanup deletes (or detaches) itself, False for those that go with a parent."""
    if table in _CHILD_TABLES:
        return False
    if table == "ports":
        return str(rec.get("device_owner") or "") not in _CASCADED_PORT_OWNERS
    return table not in ("images", "flavors")


@dataclass
class Damage:
    """What a run changed, judged against the ground truth."""

    deleted_records: int  # every leaked record gone, cascades included
    deleted_objects: int  # leaked records a cleanup acts on itself (see decided_here)
    left_behind: int  # objects a cleanup had to decide on (see decided_here) still there
    left_behind_by_table: dict[str, int]
    left_behind_records: int  # every leaked record still there, children of a left parent included
    wrongly_deleted: int
    wrongly_deleted_by_table: dict[str, int]
    leaked_records: int

    def to_dict(self) -> dict[str, Any]:
        return {"deleted_records": self.deleted_records, "deleted_objects": self.deleted_objects,
                "leaked_records": self.leaked_records, "left_behind": self.left_behind,
                "left_behind_records": self.left_behind_records,
                "left_behind_by_table": self.left_behind_by_table, "wrongly_deleted": self.wrongly_deleted,
                "wrongly_deleted_by_table": self.wrongly_deleted_by_table}


def judge(before: Snapshot, after: Snapshot, leaked_jobs: Iterable[str]) -> Damage:
    leaked = set(leaked_jobs)
    owner_of = owners(before)
    present = {_key(t, r) for t, recs in after.items() if not t.startswith("_") for r in recs}
    decided = {_key(t, r) for t, recs in before.items() if not t.startswith("_") for r in recs if decided_here(t, r)}
    gone_leaked = [k for k, job in owner_of.items() if job in leaked and k not in present]
    still = [k for k, job in owner_of.items() if job in leaked and k in present]
    left = Counter(k[0] for k in still if k in decided)
    wrong = Counter(k[0] for k, job in owner_of.items() if job not in leaked and k not in present)
    return Damage(
        deleted_records=len(gone_leaked),
        deleted_objects=sum(1 for k in gone_leaked if k in decided),
        left_behind=sum(left.values()), left_behind_by_table=dict(sorted(left.items())),
        left_behind_records=len(still),
        wrongly_deleted=sum(wrong.values()), wrongly_deleted_by_table=dict(sorted(wrong.items())),
        leaked_records=sum(1 for job in owner_of.values() if job in leaked),
    )
