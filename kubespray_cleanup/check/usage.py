"""Quota limits and usage as each service reports them: Nova's quota-set detail, Neutron's quota details,
Cinder's quota set with ``usage=True``, Octavia's quota (Octavia reports no usage: the project's objects are
counted). A service that refuses leaves its rows out; the prober keeps why."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubespray_cleanup.check.needs import COMPUTE, LOAD_BALANCER, NETWORK, VOLUME
from kubespray_cleanup.check.probe import Prober, get_json

UNLIMITED = -1


@dataclass(frozen=True)
class QuotaRow:
    service: str
    name: str
    limit: int  # -1: unlimited
    used: int
    reserved: int = 0

    @property
    def available(self) -> int | None:
        """limit - used - reserved (never below 0); None when unlimited."""
        if self.limit < 0:
            return None
        return max(0, self.limit - self.used - self.reserved)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _rows(service: str, body: dict[str, Any], used_key: str, names: Iterable[str]) -> list[QuotaRow]:
    rows = []
    for name in names:
        item = body.get(name)
        if isinstance(item, dict):
            rows.append(QuotaRow(service, name, _int(item.get("limit"), UNLIMITED), _int(item.get(used_key)),
                                 _int(item.get("reserved"))))
    return rows


def read_quotas(conn: Any, project_id: str, wanted: dict[str, list[str]], prober: Prober) -> dict[tuple[str, str],
                                                                                                    QuotaRow]:
    """``wanted``: service -> quota names. Returns the rows each service answered with."""
    readers = {COMPUTE: _nova, NETWORK: _neutron, VOLUME: _cinder, LOAD_BALANCER: _octavia}
    rows: list[QuotaRow] = []
    for service, names in wanted.items():
        if names:
            rows.extend(readers[service](conn, project_id, names, prober))
    return {(r.service, r.name): r for r in rows}


def _nova(conn: Any, pid: str, names: list[str], prober: Prober) -> list[QuotaRow]:
    body = prober.call(COMPUTE, "quota", lambda: get_json(conn.compute, f"/os-quota-sets/{pid}/detail"))
    return _rows(COMPUTE, body.get("quota_set") or {}, "in_use", names) if body else []


def _neutron(conn: Any, pid: str, names: list[str], prober: Prober) -> list[QuotaRow]:
    body = prober.call(NETWORK, "quota", lambda: get_json(conn.network, f"/quotas/{pid}/details"))
    return _rows(NETWORK, body.get("quota") or {}, "used", names) if body else []


def _cinder(conn: Any, pid: str, names: list[str], prober: Prober) -> list[QuotaRow]:
    body = prober.call(VOLUME, "quota", lambda: get_json(conn.block_storage, f"/os-quota-sets/{pid}?usage=True"))
    return _rows(VOLUME, body.get("quota_set") or {}, "in_use", names) if body else []


_OCTAVIA_LISTS = {"load_balancer": "loadbalancers", "listener": "listeners", "pool": "pools",
                  "health_monitor": "healthmonitors", "member": ""}


def _octavia(conn: Any, pid: str, names: list[str], prober: Prober) -> list[QuotaRow]:
    body = prober.call(LOAD_BALANCER, "quota", lambda: get_json(conn.load_balancer, f"/lbaas/quotas/{pid}"))
    if not body:
        return []
    quota = body.get("quota") or {}
    rows = []
    for name in names:
        limit = quota.get(name, quota.get(name.replace("_", "")))
        collection = _OCTAVIA_LISTS.get(name)
        if not collection:
            continue
        listed = prober.call(LOAD_BALANCER, f"list {collection}",
                             functools.partial(get_json, conn.load_balancer, f"/lbaas/{collection}?project_id={pid}"))
        if listed is None:
            continue
        # null: the deployment's default, which only an admin may read; Octavia's own default is unlimited
        rows.append(QuotaRow(LOAD_BALANCER, name, _int(limit, UNLIMITED), len(listed.get(collection) or [])))
    return rows
