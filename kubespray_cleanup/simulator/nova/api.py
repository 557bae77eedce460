"""Nova HTTP handlers: discovery, servers and their actions (flavors and quotas are in ``limits``)."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.api_common import paged_listing, policy_forbidden, project_of, truthy
from kubespray_cleanup.simulator.http import ApiError, empty, json_response, nova_fault
from kubespray_cleanup.simulator.nova import deletion
from kubespray_cleanup.simulator.nova import model as nova_model
from kubespray_cleanup.simulator.nova.view import COMPUTE, mv, server_basic, server_detail
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

PREFIX = "/compute/v2.1"
_MEDIA = {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
_DESCRIBEDBY = {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}
# statuses accepted by the ``status`` filter (nova common._STATE_MAP values)
_KNOWN_STATUSES = {*nova_model.VM_STATE_STATUS.values(), "REBOOT", "HARD_REBOOT", "PASSWORD", "REBUILD",
                   "MIGRATING", "RESIZE", "REVERT_RESIZE", "UNKNOWN"}


# --- discovery --------------------------------------------------------------------------------
def _version(ctx: Ctx, vid: str) -> Record:
    if vid == "v2.0":
        return {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
                "updated": "2025-07-04T12:00:00Z"}
    return {"id": "v2.1", "status": "CURRENT", "version": COMPUTE.max_string, "min_version": COMPUTE.min_string,
            "updated": "2013-07-23T11:33:21Z"}


def versions(ctx: Ctx) -> Response:
    return json_response({"versions": [
        {**_version(ctx, vid), "links": [{"rel": "self", "href": ctx.url("compute", f"/{path}/")}]}
        for vid, path in (("v2.0", "v2"), ("v2.1", "v2.1"))]})


def version_v21(ctx: Ctx) -> Response:
    return json_response({"version": {**_version(ctx, "v2.1"), "links": [
        {"rel": "self", "href": ctx.url("compute", "/v2.1/")}, _DESCRIBEDBY], "media-types": [_MEDIA]}})


# --- helpers ----------------------------------------------------------------------------------
def get_server(ctx: Ctx, server_id: str) -> Record:
    """The server if the caller may see it (admin: any project), else Nova's 404."""
    server = ctx.store.get("servers", server_id)
    if server is None or not (ctx.is_admin or project_of(server) == ctx.project_id):
        raise nova_model.not_found(server_id)
    return server


def check_unlocked(ctx: Ctx, server: Record) -> None:
    """``check_instance_lock``: a locked server refuses non-admin changes with 409."""
    if server.get("locked") and not ctx.is_admin:
        raise nova_fault(409, f"Instance {server['id']} is locked")


def _invalid_state(server: Record, action: str) -> ApiError:
    return nova_fault(409, f"Cannot '{action}' instance {server['id']} while it is in vm_state "
                           f"{server.get('OS-EXT-STS:vm_state')}")


def _parse_time(value: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise nova_fault(400, f"Invalid filter field: {field}.") from None


def _server_time(server: Record) -> datetime:
    return datetime.fromisoformat(str(server.get("updated") or server.get("created")).replace("Z", "+00:00"))


# --- server list ---------------------------------------------------------------------------------
def _all_tenants(ctx: Ctx, detail: bool) -> bool:
    args = ctx.request.args
    if "all_tenants" not in args:
        return False
    value = args.get("all_tenants", "")
    wanted = value == "" or truthy(value)
    if wanted and not ctx.is_admin:
        kind = "detail" if detail else "index"
        raise policy_forbidden(f"os_compute_api:servers:{kind}:get_all_tenants")
    return wanted


def _allowed_filters(ctx: Ctx) -> set[str]:
    """servers.py ``_get_server_search_options``; admins may use any filter."""
    allowed = {"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since"}
    if mv(ctx, "2.5"):
        allowed.add("ip6")
    if mv(ctx, "2.66"):
        allowed.add("changes-before")
    if mv(ctx, "2.73"):
        allowed.add("locked")
    if mv(ctx, "2.83"):
        allowed |= {"availability_zone", "key_name", "power_state", "task_state", "vm_state", "user_id"}
    return allowed


def _regex(value: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error:
        return re.compile(re.escape(value))


def _fixed_ips(server: Record) -> list[str]:
    return [str(a.get("addr")) for entries in server.get("addresses", {}).values() for a in entries
            if a.get("OS-EXT-IPS:type", "fixed") == "fixed"]


def _status_filter(ctx: Ctx, statuses: list[str]) -> Callable[[Record], bool]:
    wanted = {s.upper() for s in statuses}
    if not wanted & _KNOWN_STATUSES:
        if mv(ctx, "2.38"):
            raise nova_fault(400, "Invalid status value")
        return lambda s: False
    if "DELETED" in wanted and not ctx.is_admin:
        raise nova_fault(403, "Only administrators may list deleted instances")
    return lambda s: str(s.get("status", "")).upper() in wanted


def _pattern_test(pattern: re.Pattern[str], values: Callable[[Record], list[str]]) -> Callable[[Record], bool]:
    return lambda s: any(pattern.search(v) for v in values(s))


def _time_test(when: datetime, since: bool) -> Callable[[Record], bool]:
    return lambda s: _server_time(s) >= when if since else _server_time(s) <= when


def _ref_test(key: str, value: str) -> Callable[[Record], bool]:
    return lambda s: isinstance(s.get(key), dict) and s[key].get("id") == value


def _field_test(field: str, value: str) -> Callable[[Record], bool]:
    return lambda s: str(s.get(field)).lower() == value.lower()


_FIELD_FILTERS = {"key_name": "key_name", "user_id": "user_id", "availability_zone": "OS-EXT-AZ:availability_zone",
                  "vm_state": "OS-EXT-STS:vm_state", "task_state": "OS-EXT-STS:task_state", "uuid": "id",
                  "locked": "locked", "reservation_id": "_reservation_id"}


def _filters(ctx: Ctx) -> list[Callable[[Record], bool]]:
    args = ctx.request.args
    allowed = None if ctx.is_admin else _allowed_filters(ctx)
    tests: list[Callable[[Record], bool]] = []
    for key in [k for k in args if allowed is None or k in allowed]:
        value = args.get(key, "")
        if key == "name":
            tests.append(_pattern_test(_regex(value), lambda s: [str(s.get("name", ""))]))
        elif key == "status":
            tests.append(_status_filter(ctx, args.getlist("status")))
        elif key in ("changes-since", "changes-before"):
            tests.append(_time_test(_parse_time(value, key), key == "changes-since"))
        elif key == "ip":
            tests.append(_pattern_test(_regex(value), _fixed_ips))
        elif key in ("image", "flavor"):
            tests.append(_ref_test(key, value))
        elif key in _FIELD_FILTERS:
            tests.append(_field_test(_FIELD_FILTERS[key], value))
    return tests


def _list(ctx: Ctx, detail: bool) -> Response:
    everyone = _all_tenants(ctx, detail)
    rows = list(ctx.store.iter("servers"))
    project = ctx.request.args.get("project_id") or ctx.request.args.get("tenant_id")
    if not everyone:
        rows = [s for s in rows if project_of(s) == ctx.project_id]
    elif project:
        rows = [s for s in rows if project_of(s) == project]
    for test in _filters(ctx):
        rows = [s for s in rows if test(s)]
    path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
    return json_response(paged_listing(
        ctx, rows, "servers", ctx.url("compute", path),
        lambda s: server_detail(ctx, s) if detail else server_basic(ctx, s),
        lambda m: nova_fault(400, f"marker [{m}] not found")))


def list_servers(ctx: Ctx) -> Response:
    return _list(ctx, detail=False)


def list_servers_detail(ctx: Ctx) -> Response:
    return _list(ctx, detail=True)


def show_server(ctx: Ctx, server_id: str) -> Response:
    return json_response({"server": server_detail(ctx, get_server(ctx, server_id), show=True)})


# --- server create / update / delete ---------------------------------------------------------------
def _bad_input(field: str, value: Any, why: str) -> ApiError:
    return nova_fault(400, f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def _auto_network(ctx: Ctx) -> list[dict[str, Any]]:
    nets = [n for n in ctx.store.iter("networks") if not n.get("router:external")
            and (project_of(n) == ctx.project_id or n.get("shared"))]
    if len(nets) > 1:
        raise nova_fault(409, "More than one possible network found. Specify network ID(s) to select which "
                              "one(s) to connect to.")
    if not nets:
        raise nova_fault(400, f"Unable to automatically allocate a network for project {ctx.project_id}")
    return [{"uuid": nets[0]["id"]}]


def _requested_networks(ctx: Ctx, spec: Record) -> list[dict[str, Any]]:
    networks = spec.get("networks")
    if networks is None:
        if mv(ctx, "2.37"):
            raise _bad_input("server", spec, "'networks' is a required property")
        return _auto_network(ctx)
    if networks == "none":
        return []
    if networks == "auto":
        return _auto_network(ctx)
    if not isinstance(networks, list):
        raise _bad_input("networks", networks, f"{networks!r} is not of type 'array'")
    for entry in networks:
        if not isinstance(entry, dict) or not (entry.get("uuid") or entry.get("port")):
            raise nova_fault(400, "Bad networks format: network uuid is not in proper format ()")
    return networks


def create_server(ctx: Ctx) -> Response:
    body = ctx.body()
    spec = body.get("server")
    if not isinstance(spec, dict):
        raise _bad_input("server", spec, f"{spec!r} is not of type 'object'")
    for required in ("name", "flavorRef"):
        if not spec.get(required):
            raise _bad_input("server", spec, f"'{required}' is a required property")
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    image_ref = str(spec.get("imageRef") or "").rstrip("/").split("/")[-1] or None
    requested_sgs = spec.get("security_groups") or [{"name": "default"}]
    server = nova_model.create_server(
        ctx.store, ctx.project_id, ctx.user_id, str(spec["name"]).strip(),
        flavor_id=str(spec["flavorRef"]).rstrip("/").split("/")[-1], image_id=image_ref,
        networks=_requested_networks(ctx, spec), key_name=spec.get("key_name"),
        security_groups=[str(sg.get("name")) for sg in requested_sgs if sg.get("name")],
        metadata=spec.get("metadata"), server_group_id=hints.get("group"), status="BUILD",
        block_device_mapping=spec.get("block_device_mapping_v2"),
        availability_zone=spec.get("availability_zone"),
        description=spec.get("description") if mv(ctx, "2.19") else None)
    server["_user_data"] = spec.get("user_data")
    sid = server["id"]
    ctx.store.schedule(ctx.op_time("server.build"), lambda: nova_model.finish_build(ctx.store, sid))
    self_href = ctx.url("compute", f"/v2.1/servers/{sid}")
    password = "".join(random.choices(string.ascii_letters + string.digits, k=12))
    return json_response({"server": {"id": sid, "links": [{"rel": "self", "href": self_href},
                                                          {"rel": "bookmark",
                                                           "href": ctx.url("compute", f"/servers/{sid}")}],
                                     "OS-DCF:diskConfig": "MANUAL", "security_groups": requested_sgs,
                                     "adminPass": password}}, 202, {"Location": self_href})


def update_server(ctx: Ctx, server_id: str) -> Response:
    server = get_server(ctx, server_id)
    spec = ctx.body().get("server") or {}
    for key in ("name", "description", "accessIPv4", "accessIPv6"):
        if key in spec:
            server[key] = spec[key]
    nova_model.set_state(ctx.store, server, str(server.get("OS-EXT-STS:vm_state")),
                         server.get("OS-EXT-STS:task_state"))
    return json_response({"server": server_detail(ctx, server, show=True)})


def delete_server(ctx: Ctx, server_id: str) -> Response:
    """204; ``task_state`` deleting, then gone after ``server.delete`` (Nova-made ports, volumes...).

    With ``reclaim_instance_interval`` > 0 a launched server is only soft-deleted (servers.py ``_delete``); one
    never launched is deleted at once, like Nova does when ``soft_delete`` refuses it."""
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    interval = ctx.store.deployment.reclaim_instance_interval
    if interval > 0 and server.get("OS-SRV-USG:launched_at"):
        deletion.soft_delete(ctx.store, server_id, ctx.op_time("server.delete"), interval,
                             lambda: deletion.destroy_server(ctx.store, server_id, **_release_times(ctx)))
        return empty(204)
    deletion.begin_delete(ctx.store, server_id, ctx.op_time("server.delete"), **_release_times(ctx))
    return empty(204)


def _release_times(ctx: Ctx) -> dict[str, float]:
    return {"volume_delete_delay": ctx.op_time("volume.delete"), "release_delay": ctx.op_time("server.release")}


# --- server actions ----------------------------------------------------------------------------------
def _force_delete(ctx: Ctx, server: Record, arg: Any) -> None:
    check_unlocked(ctx, server)
    if server.get("_stuck_delete") and not ctx.is_admin:
        server["OS-EXT-STS:task_state"] = "deleting"  # the compute host never answers
        return
    deletion.destroy_server(ctx.store, server["id"], **_release_times(ctx))


def _restore(ctx: Ctx, server: Record, arg: Any) -> None:
    """deferred_delete.py ``restore``: only a soft-deleted server (409 otherwise)."""
    check_unlocked(ctx, server)
    if server.get("OS-EXT-STS:vm_state") != "soft_deleted":
        raise _invalid_state(server, "restore")
    deletion.restore(ctx.store, server["id"])


def _reset_state(ctx: Ctx, server: Record, arg: Any) -> None:
    if not ctx.is_admin:
        raise policy_forbidden("os_compute_api:os-admin-actions:reset_state")
    state = arg.get("state") if isinstance(arg, dict) else None
    if state not in ("active", "error"):
        raise _bad_input("state", state, f"{state!r} is not one of ['active', 'error']")
    nova_model.set_state(ctx.store, server, str(state))


def _lock(ctx: Ctx, server: Record, arg: Any) -> None:
    server["locked"] = True
    server["_locked_by"] = "admin" if ctx.is_admin else "owner"
    if isinstance(arg, dict) and mv(ctx, "2.73"):
        server["locked_reason"] = arg.get("locked_reason")


def _unlock(ctx: Ctx, server: Record, arg: Any) -> None:
    if server.get("_locked_by") == "admin" and not ctx.is_admin:
        raise policy_forbidden("os_compute_api:os-lock-server:unlock:unlock_override")
    server.update(locked=False, locked_reason=None)
    server.pop("_locked_by", None)


def _power(target: str, needed: tuple[str, ...], action: str) -> Callable[[Ctx, Record, Any], None]:
    def act(ctx: Ctx, server: Record, arg: Any) -> None:
        check_unlocked(ctx, server)
        if server.get("OS-EXT-STS:vm_state") not in needed or server.get("OS-EXT-STS:task_state"):
            raise _invalid_state(server, action)
        nova_model.set_state(ctx.store, server, target)
    return act


_ACTIONS: dict[str, Callable[[Ctx, Record, Any], None]] = {
    "forceDelete": _force_delete, "restore": _restore, "os-resetState": _reset_state, "lock": _lock, "unlock": _unlock,
    "os-stop": _power("stopped", ("active", "error"), "stop"), "os-start": _power("active", ("stopped",), "start"),
    "reboot": _power("active", ("active", "stopped", "error"), "reboot"),
}


def server_action(ctx: Ctx, server_id: str) -> Response:
    body = ctx.body()
    name = next(iter(body), "")
    if name not in _ACTIONS:
        raise nova_fault(400, f"There is no such action: {name}")
    server = get_server(ctx, server_id)
    _ACTIONS[name](ctx, server, body[name])
    return empty(202)


def register(routes: Routes) -> None:
    routes.add("GET", "/compute", versions, public=True)
    routes.add("GET", "/compute/v2.1", version_v21, public=True)
    wrap = COMPUTE.wrap
    for method, path, handler in (
        ("GET", "/servers", list_servers), ("GET", "/servers/detail", list_servers_detail),
        ("POST", "/servers", create_server), ("GET", "/servers/<server_id>", show_server),
        ("PUT", "/servers/<server_id>", update_server), ("DELETE", "/servers/<server_id>", delete_server),
        ("POST", "/servers/<server_id>/action", server_action),
    ):
        routes.add(method, PREFIX + path, wrap(handler))
