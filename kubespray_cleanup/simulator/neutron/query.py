"""Neutron API plumbing: policy visibility, server-side filters, sorting/pagination and rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import json_response, neutron_error
from kubespray_cleanup.simulator.neutron.model import public_port, render_security_group
from kubespray_cleanup.simulator.store import Record, public

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

# collection (URL) -> (store table, singular key, NotFound type, message template)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "networks": ("networks", "network", "NetworkNotFound", "Network {id} could not be found."),
    "subnets": ("subnets", "subnet", "SubnetNotFound", "Subnet {id} could not be found."),
    "ports": ("ports", "port", "PortNotFound", "Port {id} could not be found."),
    "routers": ("routers", "router", "RouterNotFound", "Router {id} could not be found"),
    "floatingips": ("floating_ips", "floatingip", "FloatingIPNotFound", "Floating IP {id} could not be found"),
    "security-groups": ("security_groups", "security_group", "SecurityGroupNotFound",
                        "Security group {id} does not exist"),
    "security-group-rules": ("security_group_rules", "security_group_rule", "SecurityGroupRuleNotFound",
                             "Security group rule {id} does not exist"),
    "trunks": ("trunks", "trunk", "TrunkNotFound", "Trunk {id} could not be found."),
}

_STD = ("id", "project_id", "tenant_id", "name", "description", "created_at", "updated_at", "revision_number",
        "status", "admin_state_up")
# Attributes each collection accepts as a filter (Neutron answers 400 to anything else).
FILTERS: dict[str, frozenset[str]] = {
    "networks": frozenset((*_STD, "shared", "router:external", "mtu", "port_security_enabled", "subnets",
                           "provider:network_type", "provider:physical_network", "provider:segmentation_id",
                           "ipv4_address_scope", "ipv6_address_scope", "availability_zone_hints", "dns_domain",
                           "qos_policy_id", "is_default", "l2_adjacency")),
    "subnets": frozenset((*_STD, "network_id", "ip_version", "cidr", "gateway_ip", "enable_dhcp",
                          "ipv6_address_mode", "ipv6_ra_mode", "subnetpool_id", "segment_id",
                          "dns_publish_fixed_ip", "service_types", "use_default_subnetpool")),
    "ports": frozenset((*_STD, "network_id", "mac_address", "device_id", "device_owner", "fixed_ips",
                        "security_groups", "port_security_enabled", "binding:host_id", "binding:vnic_type",
                        "binding:vif_type", "binding:profile", "binding:vif_details", "dns_name", "qos_policy_id",
                        "ip_allocation", "propagate_uplink_status")),
    "routers": frozenset((*_STD, "external_gateway_info", "distributed", "ha", "flavor_id",
                          "availability_zone_hints", "enable_ndp_proxy")),
    "floatingips": frozenset((*_STD, "floating_ip_address", "floating_network_id", "router_id", "port_id",
                              "fixed_ip_address", "dns_domain", "dns_name", "qos_policy_id", "subnet_id")),
    "security-groups": frozenset((*_STD, "stateful", "shared")),
    "security-group-rules": frozenset((*_STD, "security_group_id", "direction", "ethertype", "protocol",
                                       "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id",
                                       "remote_address_group_id", "normalized_cidr", "belongs_to_default_sg")),
    "trunks": frozenset((*_STD, "port_id", "sub_ports")),
}
_NON_FILTERS = frozenset(("limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir", "tags",
                          "tags-any", "not-tags", "not-tags-any"))
_ADMIN_ONLY_NETWORK_KEYS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")


# --- policy ------------------------------------------------------------------------
def _net_visible_to(ctx: Ctx, network_id: str) -> bool:
    net = ctx.store.get("networks", network_id)
    return net is not None and (net["project_id"] == ctx.project_id or bool(net.get("shared"))
                                or bool(net.get("router:external")))


def visible(ctx: Ctx, collection: str, rec: Record) -> bool:
    """What Neutron's DB layer returns to the caller (project filter + RBAC + port network owners)."""
    if ctx.is_admin or rec.get("project_id") == ctx.project_id:
        return True
    if collection == "networks":
        return bool(rec.get("shared")) or bool(rec.get("router:external"))
    if collection == "subnets":
        return _net_visible_to(ctx, str(rec.get("network_id")))
    if collection == "ports":
        net = ctx.store.get("networks", str(rec.get("network_id")))
        return net is not None and net["project_id"] == ctx.project_id
    if collection == "security-groups":
        return bool(rec.get("shared"))
    if collection == "security-group-rules":
        sg = ctx.store.get("security_groups", str(rec.get("security_group_id")))
        return sg is not None and sg["project_id"] == ctx.project_id
    return False


def may_modify(ctx: Ctx, collection: str, rec: Record, delete: bool = False) -> bool:
    """Policy for PUT/DELETE: owner or admin; network owners may also delete ports on their network."""
    if ctx.is_admin or rec.get("project_id") == ctx.project_id:
        return True
    if collection == "ports" and delete:
        net = ctx.store.get("networks", str(rec.get("network_id")))
        return net is not None and net["project_id"] == ctx.project_id
    if collection == "security-group-rules":
        sg = ctx.store.get("security_groups", str(rec.get("security_group_id")))
        return sg is not None and sg["project_id"] == ctx.project_id
    return False


def not_found(collection: str, rid: str) -> Exception:
    _, _, err_type, template = KINDS[collection]
    return neutron_error(404, err_type, template.format(id=rid))


def policy_refused(collection: str, action: str) -> Exception:
    """Policy denied on an object the caller can see but does not own (real Neutron 29: 403, not 404)."""
    singular = KINDS[collection][1]
    return neutron_error(403, "PolicyNotAuthorized", f"rule:{action}_{singular} is disallowed by policy")


def fetch(ctx: Ctx, collection: str, rid: str, *, modify: bool = False, delete: bool = False) -> Record:
    """The record behind ``rid`` as Neutron's prefetch finds it: 404 type by visibility, then by policy."""
    table = KINDS[collection][0]
    rec = ctx.store.get(table, rid)
    if rec is None or not visible(ctx, collection, rec):
        raise not_found(collection, rid)
    if (modify or delete) and not may_modify(ctx, collection, rec, delete=delete):
        raise policy_refused(collection, "delete" if delete else "update")
    return rec


# --- filters -------------------------------------------------------------------
def _norm(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, str) and value.lower() in ("true", "false") else str(value)


def _match_value(field_value: Any, wanted: list[str]) -> bool:
    wanted_norm = {_norm(w) for w in wanted}
    if isinstance(field_value, list):
        return any(_norm(v) in wanted_norm for v in field_value)
    return _norm(field_value) in wanted_norm


def _match_fixed_ips(port: Record, specs: list[str]) -> bool:
    groups: dict[str, set[str]] = {}
    for spec in specs:
        key, _, value = spec.partition("=")
        groups.setdefault(key, set()).add(value)
    for ip in port.get("fixed_ips") or []:
        ok = True
        for key, values in groups.items():
            if key == "ip_address_substr":
                ok = ok and any(v in ip["ip_address"] for v in values)
            else:
                ok = ok and str(ip.get(key)) in values
        if ok:
            return True
    return False


def _match_tags(rec: Record, args: Any) -> bool:
    tags = set(rec.get("tags") or [])

    def wanted(key: str) -> set[str]:
        return {t for v in args.getlist(key) for t in v.split(",") if t}

    all_tags, any_tags = wanted("tags"), wanted("tags-any")
    not_tags, not_any = wanted("not-tags"), wanted("not-tags-any")
    if all_tags and not all_tags <= tags:
        return False
    if any_tags and not any_tags & tags:
        return False
    if not_tags and not_tags <= tags:
        return False
    return not (not_any and not_any & tags)


def apply_filters(ctx: Ctx, collection: str, records: Iterable[Record]) -> list[Record]:
    args = ctx.request.args
    valid = FILTERS[collection]
    checks: list[Callable[[Record], bool]] = []
    for key in args:
        if key in _NON_FILTERS:
            continue
        if key not in valid:
            raise neutron_error(400, "HTTPBadRequest", f"{key} is invalid attribute for filtering")
        values = args.getlist(key)
        checks.append(_filter_for(collection, key, values))
    return [r for r in records if all(check(r) for check in checks) and _match_tags(r, args)]


def _filter_for(collection: str, key: str, values: list[str]) -> Callable[[Record], bool]:
    if collection == "ports" and key == "fixed_ips":
        return lambda r: _match_fixed_ips(r, values)
    if collection == "floatingips" and key == "subnet_id":
        return lambda r: True
    if key == "external_gateway_info":
        return lambda r: _match_value((r.get(key) or {}).get("network_id"), values)
    field = "project_id" if key == "tenant_id" else key
    return lambda r: _match_value(r.get(field), values)


# --- sorting, pagination, rendering -----------------------------------------------
def _sort_key(keys: list[str]) -> Callable[[Record], tuple[Any, ...]]:
    def key(rec: Record) -> tuple[Any, ...]:
        return tuple((rec.get(k) is None, _norm(rec.get(k))) for k in keys)
    return key


def render(ctx: Ctx, collection: str, rec: Record, rules: dict[str, list[Record]] | None = None) -> Record:
    """The record as the caller receives it (admin-only attributes stripped, SG rules embedded).

    ``rules`` (security group id -> rules) spares a scan of the rules table per group when listing.
    """
    if collection == "security-groups":
        if rules is None:
            rec = render_security_group(ctx.store, rec)
        else:
            rec = {**rec, "security_group_rules": [public(r) for r in rules.get(rec["id"], [])]}
    elif collection == "ports":
        rec = public_port(rec, ctx.is_admin)
    elif collection == "networks" and not ctx.is_admin:
        rec = {k: v for k, v in rec.items() if k not in _ADMIN_ONLY_NETWORK_KEYS}
    out = public(rec)
    fields = ctx.request.args.getlist("fields")
    if fields:
        out = {k: v for k, v in out.items() if k in fields}
    return out


def list_response(ctx: Ctx, collection: str, records: Iterable[Record]) -> Response:
    """Filter, sort (``sort_key``/``sort_dir``, then id), paginate (``limit``/``marker``) and render."""
    rows = apply_filters(ctx, collection, [r for r in records if visible(ctx, collection, r)])
    args = ctx.request.args
    sort_keys = [*args.getlist("sort_key"), "id"]
    reverse = (args.getlist("sort_dir") or ["asc"])[0] == "desc"
    rows.sort(key=_sort_key(sort_keys), reverse=reverse)
    marker = args.get("marker")
    if marker:
        ids = [str(r["id"]) for r in rows]
        rows = rows[ids.index(marker) + 1:] if marker in ids else rows
    body: dict[str, Any] = {}
    limit = _limit(args.get("limit"))
    if limit and len(rows) > limit:
        rows = rows[:limit]
        query = [(k, v) for k, v in args.items(multi=True) if k != "marker"]
        query.append(("marker", str(rows[-1]["id"])))
        body[f"{collection.replace('-', '_')}_links"] = [
            {"rel": "next", "href": f"{ctx.request.base_url}?{urlencode(query)}"}]
        if marker:
            prev = [(k, v) for k, v in args.items(multi=True) if k != "marker"]
            prev += [("marker", str(rows[0]["id"])), ("page_reverse", "True")]
            body[f"{collection.replace('-', '_')}_links"].append(
                {"rel": "previous", "href": f"{ctx.request.base_url}?{urlencode(prev)}"})
    rules: dict[str, list[Record]] | None = None
    if collection == "security-groups":
        rules = {}
        for rule in sorted(ctx.store.iter("security_group_rules"), key=lambda r: str(r["id"])):
            rules.setdefault(str(rule["security_group_id"]), []).append(rule)
    body[_collection_key(collection)] = [render(ctx, collection, r, rules) for r in rows]
    return json_response(body)


def _collection_key(collection: str) -> str:
    return collection.replace("-", "_")


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError:
        raise neutron_error(400, "HTTPBadRequest", f"Limit must be an integer 0 or greater and not '{value}'") from None
    if limit < 0:
        raise neutron_error(400, "HTTPBadRequest", f"Limit must be an integer 0 or greater and not '{value}'")
    return limit or None


def one(ctx: Ctx, collection: str, rec: Record, status: int = 200) -> Response:
    return json_response({KINDS[collection][1]: render(ctx, collection, rec)}, status)


def resource_body(ctx: Ctx, collection: str) -> dict[str, Any]:
    """The ``{"<singular>": {...}}`` request body (400 when missing)."""
    key = KINDS[collection][1]
    body = ctx.body().get(key)
    if not isinstance(body, dict):
        raise neutron_error(400, "HTTPBadRequest", f"Resource body required for {key}")
    return body


def bulk_bodies(ctx: Ctx, collection: str) -> tuple[list[dict[str, Any]], bool]:
    """Create bodies: ``{"<singular>": {...}}`` or the bulk form ``{"<collection>": [...]}``."""
    plural = _collection_key(collection)
    body = ctx.body()
    if isinstance(body.get(plural), list):
        return [dict(b) for b in body[plural] if isinstance(b, dict)], True
    return [resource_body(ctx, collection)], False


def created(ctx: Ctx, collection: str, records: list[Record], bulk: bool) -> Response:
    if bulk:
        return json_response({_collection_key(collection): [render(ctx, collection, r) for r in records]}, 201)
    return one(ctx, collection, records[0], 201)


def owner_for_create(ctx: Ctx, body: dict[str, Any]) -> str:
    """Project of a new resource: the caller's, or any project when an admin names one."""
    wanted = body.get("project_id") or body.get("tenant_id")
    if wanted and wanted != ctx.project_id:
        if not ctx.is_admin:
            raise neutron_error(400, "HTTPBadRequest", "Specifying 'project_id' or 'tenant_id' other than the "
                                "authenticated project in request requires admin privileges")
        return str(wanted)
    return ctx.project_id


def forbid_admin_only(ctx: Ctx, action: str, body: dict[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        if key in body and not ctx.is_admin:
            raise neutron_error(403, "PolicyNotAuthorized",
                                f"(rule:{action} and rule:{action}:{key}) is disallowed by policy")


def list_handler(collection: str) -> Callable[..., Response]:
    """GET on a collection: every record of its table the caller may see, filtered and paginated."""

    table = KINDS[collection][0]
    indexed = _INDEXED_FILTERS.get(table, ())

    def handler(ctx: Ctx) -> Response:
        # A single-valued filter on an indexed field narrows the candidates; list_response still applies it.
        narrow = {key: values[0] for key in indexed
                  for values in [ctx.request.args.getlist(key)] if len(values) == 1 and values[0]}
        return list_response(ctx, collection, ctx.store.iter(table, **narrow))

    return handler


# Query filters the store keeps an index for, per table (see Store's indexes).
_INDEXED_FILTERS: dict[str, tuple[str, ...]] = {
    "ports": ("network_id", "device_id"),
    "subnets": ("network_id",),
    "floating_ips": ("port_id", "router_id"),
    "security_group_rules": ("security_group_id", "remote_group_id"),
}


def show_handler(collection: str) -> Callable[..., Response]:
    """GET on one member; the route's single path argument is its id."""

    def handler(ctx: Ctx, **path: str) -> Response:
        (rid,) = path.values()
        return one(ctx, collection, fetch(ctx, collection, rid))

    return handler


def post_handler(collection: str, create_one: Callable[[Ctx, dict[str, Any]], Record]) -> Callable[..., Response]:
    """POST on a collection, single or bulk, each body made by ``create_one``."""

    def handler(ctx: Ctx) -> Response:
        bodies, bulk = bulk_bodies(ctx, collection)
        return created(ctx, collection, [create_one(ctx, body) for body in bodies], bulk)

    return handler
