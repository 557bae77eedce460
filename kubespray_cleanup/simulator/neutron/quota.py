"""Neutron quotas: defaults, per-project overrides, usage counting and the quotas API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, neutron_error
from kubespray_cleanup.simulator.store import Store

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

# neutron/conf/quota.py defaults
DEFAULT_LIMITS = {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
                  "security_group": 10, "security_group_rule": 100, "rbac_policy": 10, "subnetpool": -1}
_TABLES = {"network": "networks", "subnet": "subnets", "port": "ports", "router": "routers",
           "floatingip": "floating_ips", "security_group": "security_groups",
           "security_group_rule": "security_group_rules"}


def limits(store: Store, project_id: str) -> dict[str, int]:
    """Effective limits: defaults overridden by ``store.quotas[project]["network"]``."""
    return {**DEFAULT_LIMITS, **store.quotas.get(project_id, {}).get("network", {})}


def usage(store: Store, project_id: str, resource: str) -> int:
    table = _TABLES.get(resource)
    return sum(1 for _ in store.iter(table, project_id=project_id)) if table else 0


def check(store: Store, project_id: str, resource: str, count: int = 1) -> None:
    """409 OverQuota when ``count`` more ``resource`` would pass the project's limit."""
    limit = limits(store, project_id).get(resource, -1)
    if limit >= 0 and usage(store, project_id, resource) + count > limit:
        raise neutron_error(409, "OverQuota", f"Quota exceeded for resources: ['{resource}'].")


def _target(ctx: Ctx, project_id: str) -> str:
    if not ctx.is_admin and project_id != ctx.project_id:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
    return project_id


def show_quota(ctx: Ctx, project_id: str) -> Response:
    return json_response({"quota": limits(ctx.store, _target(ctx, project_id))})


def show_quota_details(ctx: Ctx, project_id: str) -> Response:
    pid = _target(ctx, project_id)
    body = {name: {"limit": limit, "used": usage(ctx.store, pid, name), "reserved": 0}
            for name, limit in limits(ctx.store, pid).items()}
    return json_response({"quota": body})


def show_quota_defaults(ctx: Ctx, project_id: str) -> Response:
    _target(ctx, project_id)
    return json_response({"quota": dict(DEFAULT_LIMITS)})


def list_quotas(ctx: Ctx) -> Response:
    if not ctx.is_admin:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
    rows = [{**{k: v for k, v in limits(ctx.store, pid).items()}, "project_id": pid, "tenant_id": pid}
            for pid, per_service in ctx.store.quotas.items() if per_service.get("network")]
    return json_response({"quotas": rows})


def update_quota(ctx: Ctx, project_id: str) -> Response:
    if not ctx.is_admin:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:update_quota is disallowed by policy")
    body: Any = ctx.body().get("quota")
    if not isinstance(body, dict):
        raise neutron_error(400, "HTTPBadRequest", "Resource body required for quota")
    unknown = [k for k in body if k not in DEFAULT_LIMITS and k != "check_limit"]
    if unknown:
        raise neutron_error(400, "HTTPBadRequest", f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    current = ctx.store.quotas[project_id].setdefault("network", {})
    current.update({k: int(v) for k, v in body.items() if k in DEFAULT_LIMITS})
    return json_response({"quota": limits(ctx.store, project_id)})


def reset_quota(ctx: Ctx, project_id: str) -> Response:
    if not ctx.is_admin:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:delete_quota is disallowed by policy")
    ctx.store.quotas.get(project_id, {}).pop("network", None)
    return empty(204)
