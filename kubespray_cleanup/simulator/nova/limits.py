"""Nova HTTP handlers for what bounds a project: flavors, absolute limits and quota sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.api_common import paged_listing, policy_forbidden, project_of
from kubespray_cleanup.simulator.http import json_response, nova_fault
from kubespray_cleanup.simulator.nova import model as nova_model
from kubespray_cleanup.simulator.nova.api import PREFIX
from kubespray_cleanup.simulator.nova.view import COMPUTE, flavor, mv
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes


# --- flavors ---------------------------------------------------------------------------------------
def _flavors(ctx: Ctx, detail: bool) -> Response:
    rows = [f for f in ctx.store.iter("flavors") if f.get("os-flavor-access:is_public", True) or ctx.is_admin]
    path = "/v2.1/flavors/detail" if detail else "/v2.1/flavors"
    return json_response(paged_listing(ctx, rows, "flavors", ctx.url("compute", path),
                                       lambda f: flavor(ctx, f, detail=detail),
                                       lambda m: nova_fault(400, f"Marker {m} could not be found.")))


def list_flavors(ctx: Ctx) -> Response:
    return _flavors(ctx, detail=False)


def list_flavors_detail(ctx: Ctx) -> Response:
    return _flavors(ctx, detail=True)


def show_flavor(ctx: Ctx, flavor_id: str) -> Response:
    rec = ctx.store.get("flavors", flavor_id)
    if rec is None:
        raise nova_fault(404, f"Flavor {flavor_id} could not be found.")
    return json_response({"flavor": flavor(ctx, rec)})


# --- limits and quotas --------------------------------------------------------------------------------
DEFAULT_QUOTAS = {"instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100,
                  "server_groups": 10, "server_group_members": 10, "injected_files": 5,
                  "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255}
_LEGACY_NETWORK_QUOTAS = {"fixed_ips": -1, "floating_ips": 10, "security_groups": 10, "security_group_rules": 20}


def quotas(ctx: Ctx, project_id: str) -> dict[str, int]:
    limits = dict(DEFAULT_QUOTAS)
    if not mv(ctx, "2.36"):
        limits.update(_LEGACY_NETWORK_QUOTAS)
    if mv(ctx, "2.57"):
        for key in ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes"):
            limits.pop(key)
    limits.update({k: v for k, v in ctx.store.quotas.get(project_id, {}).get("compute", {}).items()
                   if k in limits})
    return limits


def usage(ctx: Ctx, project_id: str) -> dict[str, int]:
    servers = [s for s in ctx.store.iter("servers") if project_of(s) == project_id]
    flavors = [ctx.store.get("flavors", str((s.get("flavor") or {}).get("id"))) or s.get("_flavor") or {}
               for s in servers]
    return {"instances": len(servers), "cores": sum(int(f.get("vcpus") or 0) for f in flavors),
            "ram": sum(int(f.get("ram") or 0) for f in flavors),
            "server_groups": sum(1 for g in ctx.store.iter("server_groups") if project_of(g) == project_id),
            "key_pairs": sum(1 for k in ctx.store.iter("keypairs") if nova_model.keypair_user(k) == ctx.user_id)}


def show_limits(ctx: Ctx) -> Response:
    project_id = ctx.request.args.get("tenant_id") if ctx.is_admin else None
    project_id = project_id or ctx.project_id
    limit, used = quotas(ctx, project_id), usage(ctx, project_id)
    absolute: Record = {
        "maxServerMeta": limit["metadata_items"], "maxImageMeta": limit["metadata_items"],
        "maxTotalInstances": limit["instances"], "maxTotalCores": limit["cores"], "maxTotalRAMSize": limit["ram"],
        "maxTotalKeypairs": limit["key_pairs"], "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"], "totalInstancesUsed": used["instances"],
        "totalCoresUsed": used["cores"], "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"]}
    if not mv(ctx, "2.57"):
        absolute.update(maxPersonality=limit.get("injected_files", 5),
                        maxPersonalitySize=limit.get("injected_file_content_bytes", 10240))
    if not mv(ctx, "2.36"):
        absolute.update(maxSecurityGroups=10, maxSecurityGroupRules=20, maxTotalFloatingIps=10,
                        totalFloatingIpsUsed=0, totalSecurityGroupsUsed=0)
    return json_response({"limits": {"rate": [], "absolute": absolute}})


def _quota_target(ctx: Ctx, project_id: str) -> None:
    if not ctx.is_admin and project_id != ctx.project_id:
        raise policy_forbidden("os_compute_api:os-quota-sets:show")


def show_quota_set(ctx: Ctx, project_id: str) -> Response:
    _quota_target(ctx, project_id)
    return json_response({"quota_set": {"id": project_id, **quotas(ctx, project_id)}})


def show_quota_set_detail(ctx: Ctx, project_id: str) -> Response:
    _quota_target(ctx, project_id)
    used = usage(ctx, project_id)
    return json_response({"quota_set": {"id": project_id, **{
        k: {"in_use": used.get(k, 0), "limit": v, "reserved": 0} for k, v in quotas(ctx, project_id).items()}}})


def show_quota_defaults(ctx: Ctx, project_id: str) -> Response:
    limits = {k: DEFAULT_QUOTAS.get(k, v) for k, v in quotas(ctx, project_id).items()}
    return json_response({"quota_set": {"id": project_id, **limits}})


def register(routes: Routes) -> None:
    wrap = COMPUTE.wrap
    for method, path, handler in (
        ("GET", "/flavors", list_flavors), ("GET", "/flavors/detail", list_flavors_detail),
        ("GET", "/flavors/<flavor_id>", show_flavor), ("GET", "/limits", show_limits),
        ("GET", "/os-quota-sets/<project_id>", show_quota_set),
        ("GET", "/os-quota-sets/<project_id>/detail", show_quota_set_detail),
        ("GET", "/os-quota-sets/<project_id>/defaults", show_quota_defaults),
    ):
        routes.add(method, PREFIX + path, wrap(handler))
