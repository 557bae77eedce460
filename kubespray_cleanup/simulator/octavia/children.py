"""Octavia v2 handlers for a load balancer's children: listeners, pools, members, health monitors, L7 policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, octavia_fault
from kubespray_cleanup.simulator.octavia.model import (
    HEALTH_MONITORS,
    L7POLICIES,
    LISTENERS,
    LOAD_BALANCERS,
    MEMBERS,
    MUTABLE_STATUSES,
    PENDING_CREATE,
    PENDING_DELETE,
    PENDING_UPDATE,
    POOLS,
    activate,
    create_health_monitor,
    create_l7policy,
    create_listener,
    create_member,
    create_pool,
    finish,
    lb_of,
    pool_l7policies,
    pool_members,
    pool_monitors,
    pool_of_member,
    pool_of_monitor,
    remove_health_monitor,
    remove_l7policy,
    remove_listener,
    remove_member,
    remove_pool,
    touch,
    visible,
)
from kubespray_cleanup.simulator.octavia.plumbing import (
    authorize,
    body_root,
    check_quota,
    get_visible,
    lb_immutable,
    list_scope,
    not_found,
    paginate,
    parent_lb,
    pool_immutable,
    schedule,
    select_fields,
    validation,
)
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

_ROOTS = {LISTENERS: ("listener", "listeners"), POOLS: ("pool", "pools"), MEMBERS: ("member", "members"),
          HEALTH_MONITORS: ("healthmonitor", "healthmonitors"), L7POLICIES: ("l7policy", "l7policies")}


# --- shared steps ---------------------------------------------------------------------------------
def _lock(ctx: Ctx, lb: Record, listeners: list[Record] | tuple[()] = (), pool: Record | None = None) -> None:
    """``test_and_set_lb_and_listeners_prov_status``: the LB must be ACTIVE; it (and parents) go PENDING_UPDATE."""
    if lb["provisioning_status"] not in MUTABLE_STATUSES:
        raise lb_immutable(str(lb["id"]))
    touch(ctx.store, lb, PENDING_UPDATE)
    for rec in [*listeners, *([pool] if pool else [])]:
        touch(ctx.store, rec, PENDING_UPDATE)


def _pool_listeners(ctx: Ctx, pool: Record) -> list[Record]:
    return [li for li in ctx.store.iter(LISTENERS, default_pool_id=pool["id"]) if visible(li)]


def _lock_pool(ctx: Ctx, pool: Record, lb: Record) -> None:
    """Member/HM changes: the pool must be ACTIVE (else 409 Pool immutable), then the LB (409 LB immutable)."""
    if pool["provisioning_status"] not in MUTABLE_STATUSES:
        raise pool_immutable(str(pool["id"]))
    _lock(ctx, lb, _pool_listeners(ctx, pool), pool)


def _lb_by_id(ctx: Ctx, lb_id: str) -> Record:
    lb = ctx.store.get(LOAD_BALANCERS, lb_id)
    if lb is None:
        raise not_found(LOAD_BALANCERS, lb_id)
    authorize(ctx, str(lb["project_id"]))
    return lb


def _created(ctx: Ctx, table: str, rec: Record, lb_id: str) -> Response:
    schedule(ctx, "load_balancer.child_create", finish(ctx.store, lb_id, activate(ctx.store, table, rec["id"])),
             "load_balancer.child_delete")
    return json_response({_ROOTS[table][0]: select_fields(ctx, rec)}, 201)


def _deleting(ctx: Ctx, rec: Record, lb_id: str, work: Callable[[], None]) -> Response:
    touch(ctx.store, rec, PENDING_DELETE)
    schedule(ctx, "load_balancer.child_delete", finish(ctx.store, lb_id, work))
    return empty(204)


def _list(ctx: Ctx, table: str) -> Response:
    project = list_scope(ctx)
    rows = [r for r in ctx.store.iter(table) if project is None or r.get("project_id") == project]
    return json_response(paginate(ctx, table, rows, _ROOTS[table][1]))


def _show(ctx: Ctx, table: str, rid: str) -> Response:
    rec = get_visible(ctx, table, rid)
    parent_lb(ctx, table, rec)
    return json_response({_ROOTS[table][0]: select_fields(ctx, rec)})


def _int(spec: dict[str, Any], key: str) -> int:
    try:
        return int(spec[key])
    except (TypeError, ValueError):
        raise octavia_fault(400, f"Invalid input for field/attribute {key}. Value: '{spec[key]}'. "
                                 "Value should be integer format") from None


# --- listeners ----------------------------------------------------------------------------------
def create_listener_h(ctx: Ctx) -> Response:
    spec = body_root(ctx, "listener", ("loadbalancer_id", "protocol", "protocol_port"))
    lb = _lb_by_id(ctx, str(spec["loadbalancer_id"]))
    check_quota(ctx, LISTENERS, str(lb["project_id"]))
    port = _int(spec, "protocol_port")
    for other in ctx.store.iter(LISTENERS, protocol_port=port):
        if visible(other) and lb_of(ctx.store, LISTENERS, other) == lb["id"]:
            raise octavia_fault(409, "Another Listener on this Load Balancer is already using protocol "
                                     f"{spec['protocol']} and protocol_port {port}")
    pool_id = spec.get("default_pool_id")
    if pool_id and not visible(ctx.store.get(POOLS, str(pool_id))):
        raise not_found(POOLS, str(pool_id))
    _lock(ctx, lb)
    rec = create_listener(ctx.store, lb["id"], str(spec.get("name") or ""), protocol=str(spec["protocol"]),
                          protocol_port=port, provisioning_status=PENDING_CREATE, default_pool_id=pool_id,
                          description=str(spec.get("description") or ""), tags=spec.get("tags"),
                          connection_limit=int(spec.get("connection_limit") or -1))
    return _created(ctx, LISTENERS, rec, lb["id"])


def delete_listener_h(ctx: Ctx, listener_id: str) -> Response:
    listener = get_visible(ctx, LISTENERS, listener_id)
    lb = parent_lb(ctx, LISTENERS, listener)
    _lock(ctx, lb)
    return _deleting(ctx, listener, lb["id"], lambda: remove_listener(ctx.store, listener_id))


# --- pools --------------------------------------------------------------------------------------
def create_pool_h(ctx: Ctx) -> Response:
    spec = body_root(ctx, "pool", ("protocol", "lb_algorithm"))
    if not (spec.get("loadbalancer_id") or spec.get("listener_id")):
        raise validation("Must provide at least one of: loadbalancer_id, listener_id")
    listener = get_visible(ctx, LISTENERS, str(spec["listener_id"])) if spec.get("listener_id") else None
    if spec.get("loadbalancer_id"):
        lb = _lb_by_id(ctx, str(spec["loadbalancer_id"]))
    else:
        assert listener is not None
        lb = parent_lb(ctx, LISTENERS, listener)
    check_quota(ctx, POOLS, str(lb["project_id"]))
    if listener is not None and listener.get("default_pool_id"):
        raise octavia_fault(409, "This listener already has a default pool")
    _lock(ctx, lb, [listener] if listener else [])
    rec = create_pool(ctx.store, lb["id"], str(spec.get("name") or ""),
                      listener_id=listener["id"] if listener else None, protocol=str(spec["protocol"]),
                      lb_algorithm=str(spec["lb_algorithm"]), provisioning_status=PENDING_CREATE,
                      description=str(spec.get("description") or ""),
                      session_persistence=spec.get("session_persistence"), tags=spec.get("tags"))
    return _created(ctx, POOLS, rec, lb["id"])


def delete_pool_h(ctx: Ctx, pool_id: str) -> Response:
    """404 -> RBAC -> L7 policy redirecting to it (409) -> LB mutable (409); cascades members and HM."""
    pool = get_visible(ctx, POOLS, pool_id)
    lb = parent_lb(ctx, POOLS, pool)
    policies = pool_l7policies(ctx.store, pool_id)
    if policies:
        raise octavia_fault(409, f"Pool {pool_id} is in use by L7 policy {policies[0]['id']}")
    _lock(ctx, lb, _pool_listeners(ctx, pool))
    return _deleting(ctx, pool, lb["id"], lambda: remove_pool(ctx.store, pool_id))


# --- members (under /pools/<pool_id>/members) ---------------------------------------------------------
def _url_pool(ctx: Ctx, pool_id: str) -> Record:
    pool = ctx.store.get(POOLS, pool_id)
    if pool is None:
        raise not_found(POOLS, pool_id)
    return pool


def _member(ctx: Ctx, pool_id: str, member_id: str) -> tuple[Record, Record, Record]:
    _url_pool(ctx, pool_id)
    member = get_visible(ctx, MEMBERS, member_id)
    real_pool = ctx.store.get(POOLS, pool_of_member(ctx.store, member) or "")
    if real_pool is None:
        raise not_found(MEMBERS, member_id)
    lb = parent_lb(ctx, POOLS, real_pool)
    if real_pool["id"] != pool_id:
        raise not_found(MEMBERS, member_id)
    return member, real_pool, lb


def list_members(ctx: Ctx, pool_id: str) -> Response:
    pool = _url_pool(ctx, pool_id)
    authorize(ctx, str(pool["project_id"]))
    return json_response(paginate(ctx, MEMBERS, pool_members(ctx.store, pool_id), "members"))


def show_member(ctx: Ctx, pool_id: str, member_id: str) -> Response:
    member, _, _ = _member(ctx, pool_id, member_id)
    return json_response({"member": select_fields(ctx, member)})


def create_member_h(ctx: Ctx, pool_id: str) -> Response:
    spec = body_root(ctx, "member", ("address", "protocol_port"))
    pool = _url_pool(ctx, pool_id)
    lb = parent_lb(ctx, POOLS, pool)
    subnet_id = spec.get("subnet_id")
    if subnet_id and ctx.store.get("subnets", str(subnet_id)) is None:
        raise octavia_fault(400, f"Subnet {subnet_id} not found.")
    check_quota(ctx, MEMBERS, str(lb["project_id"]))
    port = _int(spec, "protocol_port")
    for other in pool_members(ctx.store, pool_id):
        if other["address"] == spec["address"] and other["protocol_port"] == port:
            raise octavia_fault(409, f"Another member on this pool is already using ip {spec['address']} on "
                                     f"protocol_port {port}")
    _lock_pool(ctx, pool, lb)
    rec = create_member(ctx.store, pool_id, str(spec["address"]), port, subnet_id=subnet_id,
                        name=str(spec.get("name") or ""), provisioning_status=PENDING_CREATE,
                        weight=int(spec.get("weight", 1)), backup=bool(spec.get("backup", False)),
                        monitor_address=spec.get("monitor_address"), monitor_port=spec.get("monitor_port"),
                        tags=spec.get("tags"))
    return _created(ctx, MEMBERS, rec, lb["id"])


def delete_member_h(ctx: Ctx, pool_id: str, member_id: str) -> Response:
    member, pool, lb = _member(ctx, pool_id, member_id)
    _lock_pool(ctx, pool, lb)
    return _deleting(ctx, member, lb["id"], lambda: remove_member(ctx.store, member_id))


# --- health monitors -------------------------------------------------------------------------------
def create_hm_h(ctx: Ctx) -> Response:
    spec = body_root(ctx, "healthmonitor", ("pool_id", "type", "delay", "timeout", "max_retries"))
    pool = get_visible(ctx, POOLS, str(spec["pool_id"]))
    lb = parent_lb(ctx, POOLS, pool)
    check_quota(ctx, HEALTH_MONITORS, str(lb["project_id"]))
    if pool_monitors(ctx.store, pool["id"]):
        raise octavia_fault(409, "This pool already has a health monitor")
    _lock_pool(ctx, pool, lb)
    rec = create_health_monitor(
        ctx.store, pool["id"], type=str(spec["type"]), delay=_int(spec, "delay"), timeout=_int(spec, "timeout"),
        max_retries=_int(spec, "max_retries"), name=str(spec.get("name") or ""),
        provisioning_status=PENDING_CREATE, max_retries_down=int(spec.get("max_retries_down") or 3),
        http_method=spec.get("http_method"), url_path=spec.get("url_path"),
        expected_codes=spec.get("expected_codes"), tags=spec.get("tags"))
    return _created(ctx, HEALTH_MONITORS, rec, lb["id"])


def delete_hm_h(ctx: Ctx, hm_id: str) -> Response:
    monitor = get_visible(ctx, HEALTH_MONITORS, hm_id)
    pool = ctx.store.get(POOLS, pool_of_monitor(monitor) or "")
    if pool is None:
        raise not_found(POOLS, str(pool_of_monitor(monitor)))
    lb = parent_lb(ctx, POOLS, pool)
    _lock_pool(ctx, pool, lb)
    return _deleting(ctx, monitor, lb["id"], lambda: remove_health_monitor(ctx.store, hm_id))


# --- L7 policies ----------------------------------------------------------------------------------
def create_l7policy_h(ctx: Ctx) -> Response:
    spec = body_root(ctx, "l7policy", ("listener_id", "action"))
    listener = get_visible(ctx, LISTENERS, str(spec["listener_id"]))
    lb = parent_lb(ctx, LISTENERS, listener)
    pool_id = spec.get("redirect_pool_id")
    if spec["action"] == "REDIRECT_TO_POOL":
        if not pool_id:
            raise missing_redirect()
        pool = ctx.store.get(POOLS, str(pool_id))
        if pool is None or not visible(pool) or lb_of(ctx.store, POOLS, pool) != lb["id"]:
            raise not_found(POOLS, str(pool_id))
    check_quota(ctx, L7POLICIES, str(lb["project_id"]))
    _lock(ctx, lb, [listener])
    rec = create_l7policy(ctx.store, listener["id"], action=str(spec["action"]),
                          redirect_pool_id=str(pool_id) if pool_id else None, redirect_url=spec.get("redirect_url"),
                          name=str(spec.get("name") or ""), position=spec.get("position"),
                          provisioning_status=PENDING_CREATE, description=str(spec.get("description") or ""),
                          tags=spec.get("tags"))
    return _created(ctx, L7POLICIES, rec, lb["id"])


def missing_redirect() -> Exception:
    return octavia_fault(400, "Invalid input for field/attribute redirect_pool_id. Value: 'None'. "
                              "Mandatory field missing.")


def delete_l7policy_h(ctx: Ctx, policy_id: str) -> Response:
    policy = get_visible(ctx, L7POLICIES, policy_id)
    lb = parent_lb(ctx, L7POLICIES, policy)
    listener = ctx.store.get(LISTENERS, str(policy.get("listener_id")))
    _lock(ctx, lb, [listener] if listener else [])
    return _deleting(ctx, policy, lb["id"], lambda: remove_l7policy(ctx.store, policy_id))


# --- routes ---------------------------------------------------------------------------------------
def _collection(routes: Routes, path: str, table: str, arg: str, create: Callable[..., Response],
                delete: Callable[..., Response]) -> None:
    routes.add("GET", path, lambda ctx: _list(ctx, table))
    routes.add("POST", path, create)
    routes.add("GET", f"{path}/<{arg}>", lambda ctx, **kw: _show(ctx, table, kw[arg]))
    routes.add("DELETE", f"{path}/<{arg}>", delete)


def register(routes: Routes, base: str) -> None:
    _collection(routes, f"{base}/listeners", LISTENERS, "listener_id", create_listener_h, delete_listener_h)
    _collection(routes, f"{base}/pools", POOLS, "pool_id", create_pool_h, delete_pool_h)
    _collection(routes, f"{base}/healthmonitors", HEALTH_MONITORS, "hm_id", create_hm_h, delete_hm_h)
    _collection(routes, f"{base}/l7policies", L7POLICIES, "policy_id", create_l7policy_h, delete_l7policy_h)
    members = f"{base}/pools/<pool_id>/members"
    routes.add("GET", members, list_members)
    routes.add("POST", members, create_member_h)
    routes.add("GET", f"{members}/<member_id>", show_member)
    routes.add("DELETE", f"{members}/<member_id>", delete_member_h)
