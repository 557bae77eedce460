"""Octavia v2 HTTP handlers for discovery, load balancers and quotas; routes for every Octavia resource."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, octavia_fault
from kubespray_cleanup.simulator.neutron import interface as neutron
from kubespray_cleanup.simulator.octavia import children as kids
from kubespray_cleanup.simulator.octavia.model import (
    DELETABLE_STATUSES,
    LISTENERS,
    LOAD_BALANCERS,
    MUTABLE_STATUSES,
    PENDING_CREATE,
    PENDING_DELETE,
    PENDING_UPDATE,
    POOLS,
    activate,
    children,
    create_load_balancer,
    finish,
    finish_lb_delete,
    pool_members,
    pool_monitors,
    touch,
)
from kubespray_cleanup.simulator.octavia.plumbing import (
    QUOTA_FIELDS,
    authorize,
    body_root,
    bool_from_string,
    check_quota,
    forbidden,
    get_visible,
    lb_pending,
    list_scope,
    paginate,
    quota_limits,
    schedule,
    select_fields,
    validation,
)
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

# octavia/api/root_controller.py at the commit openstack-dependencies.md was written against.
_VERSION_DATES = (
    "2016-12-11T00:00:00Z", "2018-04-20T00:00:00Z", "2018-07-31T00:00:00Z", "2018-12-18T00:00:00Z",
    "2018-12-19T00:00:00Z", "2019-01-21T00:00:00Z", "2019-01-25T00:00:00Z", "2018-01-25T12:00:00Z",
    "2019-02-12T00:00:00Z", "2019-03-04T00:00:00Z", "2019-03-05T00:00:00Z", "2019-06-24T00:00:00Z",
    "2019-09-11T00:00:00Z", "2019-09-13T00:00:00Z", "2019-11-10T00:00:00Z", "2020-03-10T00:00:00Z",
    "2020-03-15T00:00:00Z", "2020-04-29T00:00:00Z", "2020-04-29T01:00:00Z", "2020-05-12T00:00:00Z",
    "2020-08-02T00:00:00Z", "2020-09-03T00:00:00Z", "2020-09-04T00:00:00Z", "2020-09-07T00:00:00Z",
    "2020-10-15T00:00:00Z", "2021-10-02T00:00:00Z", "2022-08-29T00:00:00Z", "2023-05-05T00:00:00Z",
    "2023-11-08T00:00:00Z", "2024-10-15T00:00:00Z", "2025-02-26T00:00:00Z",
)
_UPDATABLE = ("name", "description", "admin_state_up", "tags", "vip_qos_policy_id")


# --- discovery ---------------------------------------------------------------------------------
def versions(ctx: Ctx) -> Response:
    href = ctx.url("load-balancer", "/v2")
    last = len(_VERSION_DATES) - 1
    return json_response({"versions": [
        {"id": f"v2.{i}", "status": "CURRENT" if i == last else "SUPPORTED", "updated": date,
         "links": [{"href": href, "rel": "self"}]}
        for i, date in enumerate(_VERSION_DATES)
    ]})


def version_root(ctx: Ctx) -> Response:
    return json_response("v2")


# --- VIP resolution ------------------------------------------------------------------------------
def _subnet_usable(ctx: Ctx, subnet: Record) -> bool:
    net = ctx.store.get("networks", str(subnet.get("network_id"))) or {}
    return (ctx.is_admin or subnet.get("project_id") == ctx.project_id or bool(net.get("shared"))
            or bool(net.get("router:external")))


def _subnet(ctx: Ctx, subnet_id: str) -> Record:
    subnet = ctx.store.get("subnets", subnet_id)
    if subnet is None or not _subnet_usable(ctx, subnet):
        raise octavia_fault(400, f"Subnet {subnet_id} not found.")
    return subnet


def _vip_from_port(ctx: Ctx, spec: dict[str, Any]) -> tuple[str, str | None]:
    port_id = str(spec["vip_port_id"])
    port = ctx.store.get("ports", port_id)
    if port is None or not (ctx.is_admin or port.get("project_id") == ctx.project_id):
        raise octavia_fault(400, f"Port {port_id} not found.")
    if port.get("device_id"):
        raise validation(f"Port {port_id} is already used by device {port['device_id']} ")
    fixed = port.get("fixed_ips") or []
    if spec.get("vip_subnet_id"):
        _subnet(ctx, str(spec["vip_subnet_id"]))
        match = [ip for ip in fixed if ip["subnet_id"] == spec["vip_subnet_id"]]
        if not match:
            raise validation("No VIP address found on the specified VIP port within the specified subnet.")
    elif spec.get("vip_address"):
        wanted = ipaddress.ip_address(str(spec["vip_address"]))
        match = [ip for ip in fixed if ipaddress.ip_address(ip["ip_address"]) == wanted]
        if not match:
            raise validation("Specified VIP address not found on the specified VIP port.")
    elif len(fixed) == 1:
        match = fixed
    else:
        raise validation("VIP port's subnet could not be determined. Please specify either a VIP subnet or "
                         "address.")
    return str(match[0]["subnet_id"]), str(match[0]["ip_address"])


def _vip_from_network(ctx: Ctx, spec: dict[str, Any]) -> str:
    net_id = str(spec["vip_network_id"])
    net = ctx.store.get("networks", net_id)
    if net is None or not (ctx.is_admin or net.get("project_id") == ctx.project_id or net.get("shared")
                           or net.get("router:external")):
        raise octavia_fault(400, f"Network {net_id} not found.")
    subnets = [s for s in (ctx.store.get("subnets", str(sid)) for sid in net.get("subnets") or []) if s]
    if spec.get("vip_subnet_id"):
        if spec["vip_subnet_id"] not in {s["id"] for s in subnets}:
            raise octavia_fault(400, f"Subnet {spec['vip_subnet_id']} not found.")
        return str(spec["vip_subnet_id"])
    if spec.get("vip_address"):
        address = ipaddress.ip_address(str(spec["vip_address"]))
        for subnet in subnets:
            if address in ipaddress.ip_network(str(subnet["cidr"]), strict=False):
                return str(subnet["id"])
        raise validation("Supplied network does not contain a subnet for VIP address specified.")
    if not subnets:
        raise validation("Supplied network does not contain a subnet.")
    v4 = [s for s in subnets if s.get("ip_version") == 4]
    return str((v4 or subnets)[0]["id"])


def _check_security_groups(ctx: Ctx, sg_ids: list[str]) -> None:
    for sg_id in sg_ids:
        sg = ctx.store.get("security_groups", sg_id)
        if sg is None or not ctx.owns(sg):
            raise octavia_fault(400, f"Security Group {sg_id} not found.")


def _resolve_vip(ctx: Ctx, spec: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(subnet id, user VIP port id or None, VIP address or None) as the LB POST validation fills them."""
    if spec.get("vip_port_id"):
        subnet_id, address = _vip_from_port(ctx, spec)
        return subnet_id, str(spec["vip_port_id"]), address
    if spec.get("vip_network_id"):
        return _vip_from_network(ctx, spec), None, spec.get("vip_address")
    if spec.get("vip_subnet_id"):
        return str(_subnet(ctx, str(spec["vip_subnet_id"]))["id"]), None, spec.get("vip_address")
    raise validation("VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")


# --- load balancers --------------------------------------------------------------------------------
def _lb(ctx: Ctx, lb_id: str) -> Record:
    lb = get_visible(ctx, LOAD_BALANCERS, lb_id)
    authorize(ctx, str(lb["project_id"]))
    return lb


def list_load_balancers(ctx: Ctx) -> Response:
    project = list_scope(ctx)
    rows = [r for r in ctx.store.iter(LOAD_BALANCERS) if project is None or r.get("project_id") == project]
    return json_response(paginate(ctx, LOAD_BALANCERS, rows, "loadbalancers"))


def show_load_balancer(ctx: Ctx, lb_id: str) -> Response:
    return json_response({"loadbalancer": select_fields(ctx, _lb(ctx, lb_id))})


def create_lb(ctx: Ctx) -> Response:
    spec = body_root(ctx, "loadbalancer")
    project_id = str(spec.get("project_id") or spec.get("tenant_id") or ctx.project_id)
    authorize(ctx, project_id)
    subnet_id, port_id, address = _resolve_vip(ctx, spec)
    provider = str(spec.get("provider") or "amphora")
    if provider not in ("amphora", "octavia"):
        raise octavia_fault(400, f"Provider '{provider}' is not enabled.")
    sg_ids = [str(sg) for sg in spec.get("vip_sg_ids") or []]
    _check_security_groups(ctx, sg_ids)
    check_quota(ctx, LOAD_BALANCERS, project_id)
    lb = create_load_balancer(
        ctx.store, project_id, str(spec.get("name") or ""), vip_subnet_id=subnet_id, vip_port_id=port_id,
        vip_address=address, provisioning_status=PENDING_CREATE, description=str(spec.get("description") or ""),
        provider="amphora", tags=spec.get("tags"), flavor_id=spec.get("flavor_id"),
        availability_zone=spec.get("availability_zone"), admin_state_up=bool(spec.get("admin_state_up", True)),
        vip_sg_ids=sg_ids)
    schedule(ctx, "load_balancer.create", finish(ctx.store, lb["id"], activate(ctx.store, LOAD_BALANCERS, lb["id"])))
    return json_response({"loadbalancer": select_fields(ctx, lb)}, 201)


def update_lb(ctx: Ctx, lb_id: str) -> Response:
    spec = body_root(ctx, "loadbalancer")
    lb = _lb(ctx, lb_id)
    sg_ids = [str(sg) for sg in spec.get("vip_sg_ids") or []] if "vip_sg_ids" in spec else None
    if sg_ids is not None:
        _check_security_groups(ctx, sg_ids)
    if lb["provisioning_status"] not in MUTABLE_STATUSES:
        raise lb_pending(lb)
    for key in _UPDATABLE:
        if key in spec:
            lb[key] = spec[key] if key != "tags" else list(spec[key] or [])
    if sg_ids is not None:
        lb["vip_sg_ids"] = sg_ids
        if ctx.store.get("ports", str(lb.get("vip_port_id"))):
            neutron.update_port(ctx.store, str(lb["vip_port_id"]), security_groups=list(sg_ids))
    touch(ctx.store, lb, PENDING_UPDATE)
    schedule(ctx, "load_balancer.update", finish(ctx.store, lb_id, lambda: None), "load_balancer.child_delete")
    return json_response({"loadbalancer": select_fields(ctx, lb)})


def delete_lb(ctx: Ctx, lb_id: str) -> Response:
    """404 -> RBAC -> children (400 unless cascade) -> state (409 unless ACTIVE/ERROR) -> PENDING_DELETE."""
    lb = _lb(ctx, lb_id)
    cascade = bool_from_string(ctx.request.args.get("cascade", "false"))
    if (children(ctx.store, LISTENERS, lb_id) or children(ctx.store, POOLS, lb_id)) and not cascade:
        raise validation(f"Cannot delete Load Balancer {lb_id} - it has children")
    if lb["provisioning_status"] not in DELETABLE_STATUSES:
        raise lb_pending(lb)
    touch(ctx.store, lb, PENDING_DELETE)
    schedule(ctx, "load_balancer.delete", finish_lb_delete(ctx.store, lb_id))
    return empty(204)


def _status_tree(ctx: Ctx, lb: Record) -> dict[str, Any]:
    def brief(rec: Record, *extra: str) -> dict[str, Any]:
        out = {k: rec.get(k) for k in ("id", "name", "operating_status", "provisioning_status", *extra)}
        out["name"] = out["name"] or ""
        return out

    def pool_tree(pool: Record) -> dict[str, Any]:
        out = brief(pool)
        monitors = pool_monitors(ctx.store, pool["id"])
        if monitors:
            out["health_monitor"] = brief(monitors[0], "type")
        out["members"] = [brief(m, "address", "protocol_port") for m in pool_members(ctx.store, pool["id"])]
        return out

    listeners = []
    for listener in children(ctx.store, LISTENERS, lb["id"]):
        pools = [p for p in children(ctx.store, POOLS, lb["id"]) if p["id"] == listener.get("default_pool_id")]
        listeners.append({**brief(listener), "pools": [pool_tree(p) for p in pools]})
    return {"statuses": {"loadbalancer": {**brief(lb), "listeners": listeners}}}


def lb_status(ctx: Ctx, lb_id: str) -> Response:
    return json_response(_status_tree(ctx, _lb(ctx, lb_id)))


def lb_stats(ctx: Ctx, lb_id: str) -> Response:
    _lb(ctx, lb_id)
    return json_response({"stats": {"bytes_in": 0, "bytes_out": 0, "active_connections": 0,
                                    "total_connections": 0, "request_errors": 0}})


# --- quotas ----------------------------------------------------------------------------------------
def _quota_body(ctx: Ctx, project_id: str, limits: dict[str, int] | None = None) -> dict[str, Any]:
    values = limits or quota_limits(ctx, project_id)
    body: dict[str, Any] = {"project_id": project_id, "tenant_id": project_id, **values}
    body["loadbalancer"] = values["load_balancer"]
    body["healthmonitor"] = values["health_monitor"]
    return body


def list_quotas(ctx: Ctx) -> Response:
    project = list_scope(ctx)
    rows = [_quota_body(ctx, pid) for pid, services in ctx.store.quotas.items()
            if "load-balancer" in services and (project is None or pid == project)]
    return json_response({"quotas": rows, "quotas_links": []})


def show_quota(ctx: Ctx, project_id: str) -> Response:
    authorize(ctx, project_id)
    return json_response({"quota": _quota_body(ctx, project_id)})


def show_default_quota(ctx: Ctx, project_id: str) -> Response:
    authorize(ctx, project_id)
    defaults = {k: -1 for k in QUOTA_FIELDS}
    return json_response({"quota": _quota_body(ctx, project_id, defaults)})


def update_quota(ctx: Ctx, project_id: str) -> Response:
    if not ctx.is_admin:
        raise forbidden()
    spec = body_root(ctx, "quota")
    aliases = {"loadbalancer": "load_balancer", "healthmonitor": "health_monitor"}
    custom = ctx.store.quotas[project_id].setdefault("load-balancer", {})
    for key, value in spec.items():
        name = aliases.get(key, key)
        if name in QUOTA_FIELDS and value is not None:
            custom[name] = int(value)
    return json_response({"quota": _quota_body(ctx, project_id)}, 202)


def reset_quota(ctx: Ctx, project_id: str) -> Response:
    if not ctx.is_admin:
        raise forbidden()
    ctx.store.quotas.get(project_id, {}).pop("load-balancer", None)
    return empty(202)


# --- routes ---------------------------------------------------------------------------------------
def register(routes: Routes) -> None:
    routes.add("GET", "/load-balancer", versions, public=True)
    for version in ("v2", "v2.0"):
        root = f"/load-balancer/{version}"
        routes.add("GET", root, version_root, public=True)
        routes.add("GET", f"{root}/lbaas", version_root)
        for base in (f"{root}/lbaas", root):
            _register_collections(routes, base)


def _register_collections(routes: Routes, base: str) -> None:
    lbs = f"{base}/loadbalancers"
    routes.add("GET", lbs, list_load_balancers)
    routes.add("POST", lbs, create_lb)
    routes.add("GET", f"{lbs}/<lb_id>", show_load_balancer)
    routes.add("PUT", f"{lbs}/<lb_id>", update_lb)
    routes.add("DELETE", f"{lbs}/<lb_id>", delete_lb)
    routes.add("GET", f"{lbs}/<lb_id>/status", lb_status)
    routes.add("GET", f"{lbs}/<lb_id>/statuses", lb_status)
    routes.add("GET", f"{lbs}/<lb_id>/stats", lb_stats)
    kids.register(routes, base)
    quotas = f"{base}/quotas"
    routes.add("GET", quotas, list_quotas)
    routes.add("GET", f"{quotas}/<project_id>", show_quota)
    routes.add("GET", f"{quotas}/<project_id>/default", show_default_quota)
    routes.add("PUT", f"{quotas}/<project_id>", update_quota)
    routes.add("DELETE", f"{quotas}/<project_id>", reset_quota)
