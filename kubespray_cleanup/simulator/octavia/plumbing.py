"""Octavia API plumbing: WSME fault bodies, RBAC, lookups, quotas and Octavia-style pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubespray_cleanup.simulator.http import ApiError, octavia_fault
from kubespray_cleanup.simulator.octavia.model import (
    HEALTH_MONITORS,
    L7POLICIES,
    LISTENERS,
    LOAD_BALANCERS,
    MEMBERS,
    POOLS,
    lb_of,
    pool_of_member,
    pool_of_monitor,
    visible,
)
from kubespray_cleanup.simulator.store import Record, public

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

# ``data_models.<Class>._name()``: the resource names Octavia's messages use.
NAMES = {LOAD_BALANCERS: "Load Balancer", LISTENERS: "Listener", POOLS: "Pool", MEMBERS: "Member",
         HEALTH_MONITORS: "Health Monitor", L7POLICIES: "L7 Policy"}
QUOTA_KEYS = {LOAD_BALANCERS: "load_balancer", LISTENERS: "listener", POOLS: "pool", MEMBERS: "member",
              HEALTH_MONITORS: "health_monitor", L7POLICIES: "l7policy"}
QUOTA_FIELDS = ("load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule")
QUOTA_UNLIMITED = -1
PAGE_MAX = 1000  # [api_settings] pagination_max_limit
_AUX_ARGS = ("limit", "marker", "sort", "sort_key", "sort_dir", "fields", "page_reverse")
_TAG_ARGS = ("tags", "tags-any", "not-tags", "not-tags-any")
_COMMON = ("id", "name", "project_id", "provisioning_status", "operating_status", "admin_state_up",
           "created_at", "updated_at")
# Filterable columns per collection (attributes of Octavia's data models, API names).
FILTERS: dict[str, tuple[str, ...]] = {
    LOAD_BALANCERS: (*_COMMON, "description", "vip_address", "vip_port_id", "vip_subnet_id", "vip_network_id",
                               "vip_qos_policy_id", "vip_vnic_type", "provider", "flavor_id", "availability_zone"),
    LISTENERS: (*_COMMON, "description", "protocol", "protocol_port", "connection_limit", "default_pool_id",
                          "default_tls_container_ref", "loadbalancer_id", "timeout_client_data",
                          "timeout_member_connect", "timeout_member_data", "timeout_tcp_inspect",
                          "client_authentication", "tls_ciphers", "hsts_max_age", "hsts_include_subdomains",
                          "hsts_preload"),
    POOLS: (*_COMMON, "description", "protocol", "lb_algorithm", "loadbalancer_id", "tls_enabled", "tls_ciphers",
                      "tls_container_ref", "ca_tls_container_ref", "crl_container_ref"),
    MEMBERS: (*_COMMON, "address", "protocol_port", "weight", "backup", "subnet_id", "monitor_address",
                        "monitor_port", "vnic_type", "pool_id"),
    HEALTH_MONITORS: (*_COMMON, "type", "delay", "timeout", "max_retries", "max_retries_down", "http_method",
                                "url_path", "expected_codes", "pool_id", "http_version", "domain_name"),
    L7POLICIES: (*_COMMON, "description", "action", "listener_id", "redirect_pool_id", "redirect_url",
                           "redirect_prefix", "position", "redirect_http_code"),
}
_TRUE = ("1", "t", "true", "on", "y", "yes")


def bool_from_string(value: Any) -> bool:
    """oslo ``strutils.bool_from_string`` (non-strict)."""
    return str(value).strip().lower() in _TRUE


# --- errors -----------------------------------------------------------------------------------
def not_found(table: str, rid: str) -> ApiError:
    return octavia_fault(404, f"{NAMES[table]} {rid} not found.")


def forbidden() -> ApiError:
    return octavia_fault(403, "Policy does not allow this request to be performed.")


def validation(detail: str) -> ApiError:
    return octavia_fault(400, f"Validation failure: {detail}")


def lb_immutable(lb_id: str) -> ApiError:
    return octavia_fault(409, f"Load Balancer {lb_id} is immutable and cannot be updated.")


def pool_immutable(pool_id: str) -> ApiError:
    return octavia_fault(409, f"Pool {pool_id} is immutable and cannot be updated.")


def lb_pending(lb: Record) -> ApiError:
    return octavia_fault(409, f"Invalid state {lb['provisioning_status']} of loadbalancer resource {lb['id']}")


def missing_field(field: str) -> ApiError:
    return octavia_fault(400, f"Invalid input for field/attribute {field}. Value: 'None'. Mandatory field missing.")


# --- access and lookups -----------------------------------------------------------------------
def authorize(ctx: Ctx, project_id: str) -> None:
    """Octavia's RBAC: the target project must be the caller's (admins may act on any project)."""
    if not (ctx.is_admin or project_id == ctx.project_id):
        raise forbidden()


def get_visible(ctx: Ctx, table: str, rid: str) -> Record:
    """The record (404 when missing or DELETED); RBAC is checked separately against its load balancer."""
    rec = ctx.store.get(table, rid)
    if rec is None or not visible(rec):
        raise not_found(table, rid)
    return rec


def parent_lb(ctx: Ctx, table: str, rec: Record) -> Record:
    """The load balancer a child belongs to, after checking the caller may act on it."""
    lb_id = lb_of(ctx.store, table, rec) or ""
    lb = ctx.store.get(LOAD_BALANCERS, lb_id)
    if lb is None:
        raise not_found(LOAD_BALANCERS, lb_id)
    authorize(ctx, str(lb["project_id"]))
    return lb


def body_root(ctx: Ctx, root: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object under ``root`` in the request body, with WSME's mandatory-field check."""
    obj = ctx.body().get(root)
    if not isinstance(obj, dict):
        raise missing_field(root)
    for field in required:
        if obj.get(field) is None:
            raise missing_field(field)
    return obj


def schedule(ctx: Ctx, operation: str, event: Callable[[], None], fallback: str = "") -> None:
    """Run ``event`` once the provider would have finished ``operation`` (latency profile)."""
    delay = ctx.op_time(operation) or (ctx.op_time(fallback) if fallback else 0.0)
    ctx.store.schedule(delay, event)


# --- quotas ---------------------------------------------------------------------------------
def quota_limits(ctx: Ctx, project_id: str) -> dict[str, int]:
    """Configured limits of a project (-1 = unlimited, Octavia's default)."""
    custom = ctx.store.quotas.get(project_id, {}).get("load-balancer", {})
    aliases = {"loadbalancer": "load_balancer", "healthmonitor": "health_monitor"}
    merged = {aliases.get(k, k): int(v) for k, v in custom.items()}
    return {k: merged.get(k, QUOTA_UNLIMITED) for k in QUOTA_FIELDS}


def check_quota(ctx: Ctx, table: str, project_id: str) -> None:
    limit = quota_limits(ctx, project_id)[QUOTA_KEYS[table]]
    if limit == QUOTA_UNLIMITED:
        return
    used = sum(1 for r in ctx.store.iter(table, project_id=project_id) if visible(r))
    if used + 1 > limit:
        raise octavia_fault(403, f"Quota has been met for resources: {NAMES[table]}")


# --- listing --------------------------------------------------------------------------------
def list_scope(ctx: Ctx) -> str | None:
    """``_auth_get_all``: the project a list is limited to (None = every project, admins only)."""
    wanted = ctx.request.args.get("project_id")
    if ctx.is_admin:
        return wanted
    if wanted is not None and wanted != ctx.project_id:
        raise forbidden()
    return ctx.project_id


def _field_value(ctx: Ctx, table: str, rec: Record, key: str) -> Any:
    if key == "loadbalancer_id" and table in (LISTENERS, POOLS):
        return lb_of(ctx.store, table, rec)
    if key == "pool_id" and table == MEMBERS:
        return pool_of_member(ctx.store, rec)
    if key == "pool_id" and table == HEALTH_MONITORS:
        return pool_of_monitor(rec)
    return rec.get(key)


def _matches(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return any(bool_from_string(w) == value for w in wanted)
    return any(("" if value is None else str(value)) == w for w in wanted)


def _split_tags(values: list[str]) -> set[str]:
    return {t for v in values for t in v.split(",") if t}


def _tags_match(rec: Record, key: str, wanted: set[str]) -> bool:
    tags = set(rec.get("tags") or [])
    return {"tags": wanted <= tags, "tags-any": bool(wanted & tags),
            "not-tags": not wanted <= tags, "not-tags-any": not wanted & tags}[key]


def _filter(ctx: Ctx, table: str, rows: list[Record]) -> list[Record]:
    args = ctx.request.args
    keys = [k for k in args if k not in _AUX_ARGS]
    bad = [k for k in keys if k not in FILTERS[table] and k not in _TAG_ARGS]
    if bad:
        raise octavia_fault(400, "One or more arguments are either duplicate or invalid")
    for key in keys:
        values = args.getlist(key)
        if key in _TAG_ARGS:
            tags = _split_tags(values)
            rows = [r for r in rows if _tags_match(r, key, tags)]
        else:
            rows = [r for r in rows if _matches(_field_value(ctx, table, r, key), values)]
    return rows


def _sort_keys(ctx: Ctx, table: str) -> list[tuple[str, str]]:
    args = ctx.request.args
    keys: list[tuple[str, str]] = []
    if args.get("sort"):
        for part in str(args["sort"]).split(","):
            name, _, direction = part.partition(":")
            keys.append((name, direction or "asc"))
    elif args.get("sort_key"):
        names = str(args["sort_key"]).split(",")
        dirs = str(args.get("sort_dir") or "").split(",") if args.get("sort_dir") else []
        keys = [(n, dirs[i] if i < len(dirs) else "asc") for i, n in enumerate(names)]
    for name, direction in keys:
        if direction.lower() not in ("asc", "desc"):
            raise octavia_fault(400, f"Supplied sort direction '{direction.lower()}' is not valid.")
        if name not in FILTERS[table]:
            raise octavia_fault(400, f"Supplied sort key '{name}' is not valid.")
    present = {k for k, _ in keys}
    keys += [(k, "asc") for k in ("created_at", "id") if k not in present]
    return [(k, d.lower()) for k, d in keys]


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def _after(row: Record, marker: Record, keys: list[tuple[str, str]], reverse: bool) -> bool:
    for key, direction in keys:
        a, b = _sortable(row.get(key)), _sortable(marker.get(key))
        if a == b:
            continue
        ascending = (direction == "asc") != reverse
        return a > b if ascending else a < b
    return False


def _limit(ctx: Ctx) -> int | None:
    raw = ctx.request.args.get("limit", str(PAGE_MAX))
    if raw == "infinite":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise octavia_fault(400, f"Supplied pagination limit '{raw}' is not valid.") from None
    return None if value < 1 else min(value, PAGE_MAX)


def _links(ctx: Ctx, page: list[Record], limit: int | None, marker: str | None) -> list[dict[str, str]]:
    if not page:
        return []
    base = [f"limit={limit}"]
    for key in ("sort", "sort_key"):
        if ctx.request.args.get(key):
            base.append(f"{key}={ctx.request.args[key]}")
    url = ctx.request.base_url
    links = []
    if marker:
        prev = [*base, f"marker={page[0]['id']}", "page_reverse=True"]
        links.append({"rel": "previous", "href": f"{url}?{'&'.join(prev)}"})
    if limit is None or len(page) >= limit:
        nxt = [*base, f"marker={page[-1]['id']}"]
        links.append({"rel": "next", "href": f"{url}?{'&'.join(nxt)}"})
    return links


def select_fields(ctx: Ctx, rec: Record) -> Record:
    """The public record, cut to ``?fields=`` when given."""
    out = public(rec)
    fields = ctx.request.args.getlist("fields")
    if fields:
        wanted = {f for v in fields for f in v.split(",")}
        out = {k: v for k, v in out.items() if k in wanted}
    return out


def paginate(ctx: Ctx, table: str, rows: list[Record], collection: str) -> dict[str, Any]:
    """Octavia's PaginationHelper: filters, sort (created_at, id ascending), limit/marker and links."""
    rows = _filter(ctx, table, [r for r in rows if visible(r)])
    keys = _sort_keys(ctx, table)
    for key, direction in reversed(keys):
        rows.sort(key=lambda r, k=key: _sortable(r.get(k)), reverse=direction == "desc")  # type: ignore[misc]
    marker_id = ctx.request.args.get("marker")
    if marker_id:
        marker = ctx.store.get(table, marker_id)
        if marker is None:
            raise octavia_fault(400, f"Supplied pagination marker '{marker_id}' is not valid.")
        reverse = ctx.request.args.get("page_reverse", "False") == "True"
        rows = [r for r in rows if _after(r, marker, keys, reverse)]
    limit = _limit(ctx)
    page = rows if limit is None else rows[:limit]
    return {collection: [select_fields(ctx, r) for r in page],
            f"{collection}_links": _links(ctx, page, limit, marker_id)}
