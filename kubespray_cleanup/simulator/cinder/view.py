"""Cinder response bodies and list queries for the requested microversion (cinder/api/v3/views/*)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubespray_cleanup.simulator.api_common import ApiVersions, at_least, paged_listing, project_of, truthy
from kubespray_cleanup.simulator.http import ApiError, cinder_fault
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

VOLUME = ApiVersions("volume", (3, 0), (3, 70))
# etc/cinder/resource_filters.json: what a non-admin may filter on (µv 3.31+).
RESOURCE_FILTERS = {
    "volume": ("name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size",
               "created_at", "updated_at", "consumes_quota"),
    "snapshot": ("name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"),
    "attachment": ("volume_id", "status", "instance_id", "attach_status"),
}
_PAGING_KEYS = ("limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count")
_STATUS_MAP = {"managing": "creating", "error_managing": "error", "error_managing_deleting": "deleting"}


def mv(ctx: Ctx, wanted: str) -> bool:
    return at_least(ctx, VOLUME, wanted)


def links(ctx: Ctx, project_id: str, collection: str, rid: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": ctx.url("block-storage", f"/v3/{project_id}/{collection}/{rid}")},
            {"rel": "bookmark", "href": ctx.url("block-storage", f"/{project_id}/{collection}/{rid}")}]


# --- filters and pagination -------------------------------------------------------------------------
def _metadata_filter(value: str) -> dict[str, Any]:
    for parse in (json.loads, ast.literal_eval):
        try:
            data = parse(value)
        except (ValueError, SyntaxError):
            continue
        if isinstance(data, dict):
            return data
    raise cinder_fault(400, f"Invalid input received: Invalid metadata filter {value}")


def query_filters(ctx: Ctx, resource: str) -> dict[str, str]:
    """Filter options after Cinder's checks: non-admins get 400 for keys outside resource_filters.json."""
    filters = {k: v for k, v in ctx.request.args.items() if k not in _PAGING_KEYS}
    if ctx.is_admin:
        return filters
    allowed = RESOURCE_FILTERS[resource]
    if not mv(ctx, "3.31"):
        return {k: v for k, v in filters.items() if k in allowed}
    filters.pop("all_tenants", None)  # bug 1917574: silently ignored for non-admins
    like = mv(ctx, "3.34")
    invalid = [k for k in filters if k not in allowed and not (like and k.endswith("~") and k[:-1] in allowed)]
    if invalid:
        raise cinder_fault(400, f"Invalid filters {','.join(invalid)} are found in query options.")
    return filters


def _matches(rec: Record, key: str, value: str) -> bool:
    if key.endswith("~"):
        return value.lower() in str(rec.get(key[:-1]) or "").lower()
    if key == "metadata":
        wanted = _metadata_filter(value)
        have = rec.get("metadata") or {}
        return all(str(have.get(k)) == str(v) for k, v in wanted.items())
    if key == "instance_id":
        return any(a.get("server_id") == value for a in rec.get("attachments", [])) or rec.get("instance") == value
    if key == "bootable":
        return truthy(str(rec.get("bootable"))) == truthy(value)
    return str(rec.get(key)) == value


_TIME_OPERATORS: dict[str, Callable[[datetime, datetime], bool]] = {
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}


def _aware(text: str) -> datetime:
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def time_test(key: str, value: str) -> Callable[[Record], bool]:
    """µv 3.60 ``created_at``/``updated_at`` filters: ``gt:2026-11-25T09:00:00`` (gt, gte, eq, neq, lt, lte),
    comma-separated comparisons all holding; a malformed one is 400 (volumes.py time comparison filters)."""
    tests: list[tuple[Callable[[datetime, datetime], bool], datetime]] = []
    for unit in value.split(","):
        operator, _, when = unit.partition(":")
        try:
            tests.append((_TIME_OPERATORS[operator], _aware(when)))
        except (KeyError, ValueError):
            raise cinder_fault(400, f"Invalid input received: Invalid {key} filter {unit!r}: expected "
                                    "<gt|gte|eq|neq|lt|lte>:<ISO 8601 time>") from None

    def test(rec: Record) -> bool:
        stamp = rec.get(key)
        if not stamp:
            return False
        have = _aware(str(stamp))
        return all(compare(have, when) for compare, when in tests)
    return test


def select(ctx: Ctx, rows: list[Record], resource: str) -> list[Record]:
    """Scope (own project, or every project for ``all_tenants`` admins) and filters."""
    filters = query_filters(ctx, resource)
    everyone = ctx.is_admin and "all_tenants" in filters and (filters["all_tenants"] == ""
                                                               or truthy(filters["all_tenants"]))
    filters.pop("all_tenants", None)
    if not everyone:
        filters.pop("project_id", None)
        rows = [r for r in rows if project_of(r) == ctx.project_id]
    for key, value in filters.items():
        if key == "project_id":
            rows = [r for r in rows if project_of(r) == value]
        elif key in ("created_at", "updated_at") and resource == "volume" and mv(ctx, "3.60"):
            keep = time_test(key, value)
            rows = [r for r in rows if keep(r)]
        elif key not in ("glance_metadata",):
            rows = [r for r in rows if _matches(r, key, value)]
    return rows


def listing(ctx: Ctx, project_id: str, rows: list[Record], collection: str, path: str,
            render: Callable[[Record], Record], missing: Callable[[str], ApiError]) -> Record:
    body = paged_listing(ctx, rows, collection, ctx.url("block-storage", f"/v3/{project_id}/{path}"), render,
                         missing)
    if mv(ctx, "3.45") and truthy(ctx.request.args.get("with_count")):
        body["count"] = len(rows)
    return body


# --- volumes ------------------------------------------------------------------------------------
def volume_summary(ctx: Ctx, vol: Record) -> Record:
    return {"id": vol["id"], "name": vol.get("name"),
            "links": links(ctx, project_of(vol), "volumes", vol["id"])}


def _attachments(ctx: Ctx, vol: Record) -> list[Record]:
    return [{"id": a.get("volume_id", vol["id"]), "attachment_id": a.get("attachment_id"),
             "volume_id": a.get("volume_id", vol["id"]), "server_id": a.get("server_id"),
             "host_name": a.get("host_name") if ctx.is_admin else None, "device": a.get("device"),
             "attached_at": a.get("attached_at")} for a in vol.get("attachments", [])]


def volume_detail(ctx: Ctx, vol: Record) -> Record:
    status = str(vol.get("status"))
    body: Record = {
        "id": vol["id"], "status": _STATUS_MAP.get(status, status), "size": vol.get("size"),
        "availability_zone": vol.get("availability_zone", "nova"), "created_at": vol.get("created_at"),
        "updated_at": vol.get("updated_at"), "name": vol.get("name"), "description": vol.get("description"),
        "volume_type": vol.get("volume_type", "__DEFAULT__"), "snapshot_id": vol.get("snapshot_id"),
        "source_volid": vol.get("source_volid"), "metadata": dict(vol.get("metadata") or {}),
        "links": links(ctx, project_of(vol), "volumes", vol["id"]), "user_id": vol.get("user_id"),
        "bootable": vol.get("bootable", "false"), "encrypted": bool(vol.get("encrypted", False)),
        "replication_status": vol.get("replication_status"), "consistencygroup_id": vol.get("consistencygroup_id"),
        "multiattach": bool(vol.get("multiattach", False)), "attachments": _attachments(ctx, vol),
        "os-vol-tenant-attr:tenant_id": project_of(vol),
    }
    if ctx.is_admin:
        body.update({"migration_status": vol.get("migration_status"),
                     "os-vol-host-attr:host": vol.get("os-vol-host-attr:host"),
                     "os-vol-mig-status-attr:migstat": vol.get("os-vol-mig-status-attr:migstat"),
                     "os-vol-mig-status-attr:name_id": vol.get("os-vol-mig-status-attr:name_id")})
    if mv(ctx, "3.13"):
        body["group_id"] = vol.get("group_id")
    if ctx.is_admin and mv(ctx, "3.21"):
        body["provider_id"] = vol.get("provider_id")
    if mv(ctx, "3.48"):
        body["shared_targets"] = vol.get("shared_targets", False)
        body["service_uuid"] = vol.get("service_uuid")
    if ctx.is_admin and mv(ctx, "3.61"):
        body["cluster_name"] = vol.get("cluster_name")
    if mv(ctx, "3.63"):
        body["volume_type_id"] = vol.get("volume_type_id")
    if mv(ctx, "3.65"):
        body["consumes_quota"] = vol.get("consumes_quota", True)
    return body


# --- snapshots ----------------------------------------------------------------------------------
def snapshot_summary(ctx: Ctx, snap: Record) -> Record:
    return {"id": snap["id"], "created_at": snap.get("created_at"), "updated_at": snap.get("updated_at"),
            "name": snap.get("name"), "description": snap.get("description"), "volume_id": snap.get("volume_id"),
            "status": snap.get("status"), "size": snap.get("size"), "metadata": dict(snap.get("metadata") or {})}


def snapshot_detail(ctx: Ctx, snap: Record) -> Record:
    body = snapshot_summary(ctx, snap)
    if mv(ctx, "3.14"):
        body["group_snapshot_id"] = snap.get("group_snapshot_id")
    if mv(ctx, "3.41"):
        body["user_id"] = snap.get("user_id")
    if mv(ctx, "3.65"):
        body["consumes_quota"] = snap.get("consumes_quota", True)
    body["os-extended-snapshot-attributes:progress"] = snap.get("os-extended-snapshot-attributes:progress", "100%")
    body["os-extended-snapshot-attributes:project_id"] = project_of(snap)
    return body


# --- attachments ----------------------------------------------------------------------------------
def attachment_summary(vol: Record, att: Record) -> Record:
    return {"id": att.get("attachment_id"), "status": "attached", "instance": att.get("server_id"),
            "volume_id": vol["id"]}


def attachment_detail(vol: Record, att: Record) -> Record:
    return {**attachment_summary(vol, att), "attached_at": att.get("attached_at"), "detached_at": "",
            "attach_mode": "rw", "connection_info": {"driver_volume_type": "iscsi", "attachment_id":
                                                     att.get("attachment_id"), "volume_id": vol["id"]}}
