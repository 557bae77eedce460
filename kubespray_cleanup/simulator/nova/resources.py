"""Nova HTTP handlers for server sub-resources, keypairs and server groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.api_common import next_link, page, policy_forbidden, project_of
from kubespray_cleanup.simulator.cinder import interface as cinder
from kubespray_cleanup.simulator.http import empty, json_response, nova_fault
from kubespray_cleanup.simulator.nova import model as nova_model
from kubespray_cleanup.simulator.nova.api import PREFIX, check_unlocked, get_server
from kubespray_cleanup.simulator.nova.view import COMPUTE, keypair, mv, server_group
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

_ATTACHABLE_VM_STATES = ("active", "paused", "stopped", "resized", "soft_deleted", "shelved", "shelved_offloaded")
_GROUP_POLICIES = ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity")


# --- keypairs (per user) -------------------------------------------------------------------------
def _keypair_user(ctx: Ctx, action: str, requested: Any = None) -> str:
    """The user whose keypairs are addressed; another user's only for admins (µv 2.10+)."""
    user_id = requested if requested is not None else (
        ctx.request.args.get("user_id") if mv(ctx, "2.10") else None)
    if user_id and user_id != ctx.user_id and not ctx.is_admin:
        raise policy_forbidden(f"os_compute_api:os-keypairs:{action}")
    return str(user_id or ctx.user_id)


def _keypair(ctx: Ctx, user_id: str, name: str) -> Record:
    rec = nova_model.find_keypair(ctx.store, user_id, name)
    if rec is None:
        raise nova_fault(404, f"Keypair {name} not found for user {user_id}")
    return rec


def list_keypairs(ctx: Ctx) -> Response:
    user_id = _keypair_user(ctx, "index")
    rows = [k for k in ctx.store.iter("keypairs") if nova_model.keypair_user(k) == user_id]
    full = False
    if mv(ctx, "2.35"):
        rows, full = page(ctx, rows, key=lambda k: str(k.get("name")),
                          marker_missing=lambda m: nova_fault(400, f"Marker {m} could not be found."))
    else:
        rows = sorted(rows, key=lambda k: str(k.get("name")))
    body: Record = {"keypairs": [{"keypair": keypair(ctx, k, "index")} for k in rows]}
    if full and rows:
        body["keypairs_links"] = next_link(ctx, ctx.url("compute", "/v2.1/os-keypairs"), str(rows[-1]["name"]))
    return json_response(body)


def show_keypair(ctx: Ctx, name: str) -> Response:
    return json_response({"keypair": keypair(ctx, _keypair(ctx, _keypair_user(ctx, "show"), name), "show")})


def create_keypair(ctx: Ctx) -> Response:
    spec = ctx.body().get("keypair")
    if not isinstance(spec, dict) or not spec.get("name"):
        raise nova_fault(400, f"Invalid input for field/attribute keypair. Value: {spec}. 'name' is a required "
                              "property")
    if mv(ctx, "2.92") and not spec.get("public_key"):
        raise nova_fault(400, f"Invalid input for field/attribute keypair. Value: {spec}. 'public_key' is a "
                              "required property")
    user_id = _keypair_user(ctx, "create", spec.get("user_id") if mv(ctx, "2.10") else None)
    private = None
    public = spec.get("public_key")
    if public is None:
        public, private = nova_model.generate_key_pair()
    rec = nova_model.create_keypair(ctx.store, user_id, str(spec["name"]).strip(), public,
                                    key_type=str(spec.get("type", "ssh")) if mv(ctx, "2.2") else "ssh")
    body = keypair(ctx, rec, "create")
    if private is not None:
        body["private_key"] = private
    return json_response({"keypair": body}, 201 if mv(ctx, "2.2") else 200)


def delete_keypair(ctx: Ctx, name: str) -> Response:
    """202 before microversion 2.2, 204 from it; only 404 can stop it."""
    rec = _keypair(ctx, _keypair_user(ctx, "delete"), name)
    ctx.store.remove("keypairs", rec["id"])
    return empty(204 if mv(ctx, "2.2") else 202)


# --- server groups -----------------------------------------------------------------------------
def _group(ctx: Ctx, group_id: str) -> Record:
    rec = ctx.store.get("server_groups", group_id)
    if rec is None or not (ctx.is_admin or project_of(rec) == ctx.project_id):
        raise nova_fault(404, f"Instance group {group_id} could not be found.")
    return rec


def list_server_groups(ctx: Ctx) -> Response:
    rows = list(ctx.store.iter("server_groups"))
    if not ("all_projects" in ctx.request.args and ctx.is_admin):
        rows = [g for g in rows if project_of(g) == ctx.project_id]
    rows.sort(key=lambda g: str(g["id"]))
    offset = int(ctx.request.args.get("offset", 0) or 0)
    limit = int(ctx.request.args.get("limit", 1000) or 1000)
    return json_response({"server_groups": [server_group(ctx, g) for g in rows[offset:offset + limit]]})


def show_server_group(ctx: Ctx, group_id: str) -> Response:
    return json_response({"server_group": server_group(ctx, _group(ctx, group_id))})


def create_server_group(ctx: Ctx) -> Response:
    spec = ctx.body().get("server_group")
    if not isinstance(spec, dict) or not spec.get("name"):
        raise nova_fault(400, f"Invalid input for field/attribute server_group. Value: {spec}. 'name' is a "
                              "required property")
    if mv(ctx, "2.64"):
        policies = [spec.get("policy")]
        rules = spec.get("rules") or {}
        if policies[0] != "anti-affinity" and rules:
            raise nova_fault(400, "Only anti-affinity policy supports rules.")
    else:
        policies, rules = list(spec.get("policies") or []), {}
    if len(policies) != 1 or policies[0] not in _GROUP_POLICIES:
        raise nova_fault(400, f"Invalid input for field/attribute server_group. Value: {spec}. "
                              f"{policies!r} is not a valid policy")
    rec = nova_model.create_server_group(ctx.store, ctx.project_id, ctx.user_id, str(spec["name"]),
                                         [str(p) for p in policies], rules=rules)
    return json_response({"server_group": server_group(ctx, rec)})


def delete_server_group(ctx: Ctx, group_id: str) -> Response:
    """204; members do not block (openstack-dependencies §2.2)."""
    ctx.store.remove("server_groups", _group(ctx, group_id)["id"])
    return empty(204)


# --- volume attachments ------------------------------------------------------------------------
def _attachment_view(ctx: Ctx, server_id: str, bdm: Record) -> Record:
    body: Record = {} if mv(ctx, "2.89") else {"id": bdm["volume_id"]}
    body.update(volumeId=bdm["volume_id"], serverId=server_id)
    if bdm.get("device"):
        body["device"] = bdm["device"]
    if mv(ctx, "2.70"):
        body["tag"] = bdm.get("tag")
    if mv(ctx, "2.79"):
        body["delete_on_termination"] = bool(bdm.get("delete_on_termination"))
    if mv(ctx, "2.89"):
        body.update(attachment_id=bdm.get("attachment_id"), bdm_uuid=bdm.get("bdm_uuid"))
    return body


def _not_attached(server_id: str, volume_id: str) -> Exception:
    return nova_fault(404, f"Instance {server_id} is not attached to volume {volume_id}")


def _bdm(ctx: Ctx, server: Record, volume_id: str) -> Record:
    bdm = next((b for b in nova_model.bdms(ctx.store, server) if b.get("volume_id") == volume_id), None)
    if bdm is None or (mv(ctx, "2.89") and bdm.get("attachment_id") is None):
        raise _not_attached(server["id"], volume_id)
    return bdm


def _volume(ctx: Ctx, volume_id: str) -> Record:
    vol = ctx.store.get("volumes", volume_id)
    if vol is None or not (ctx.is_admin or project_of(vol) == ctx.project_id):
        raise nova_fault(404, f"Volume {volume_id} could not be found.")
    return vol


def list_volume_attachments(ctx: Ctx, server_id: str) -> Response:
    server = get_server(ctx, server_id)
    rows = [b for b in nova_model.bdms(ctx.store, server) if b.get("volume_id")
            and not (mv(ctx, "2.89") and b.get("attachment_id") is None)]
    return json_response({"volumeAttachments": [_attachment_view(ctx, server_id, b) for b in rows]})


def show_volume_attachment(ctx: Ctx, server_id: str, volume_id: str) -> Response:
    server = get_server(ctx, server_id)
    return json_response({"volumeAttachment": _attachment_view(ctx, server_id, _bdm(ctx, server, volume_id))})


def create_volume_attachment(ctx: Ctx, server_id: str) -> Response:
    server = get_server(ctx, server_id)
    spec = ctx.body().get("volumeAttachment") or {}
    volume_id = str(spec.get("volumeId") or "")
    if not volume_id:
        raise nova_fault(400, f"Invalid input for field/attribute volumeAttachment. Value: {spec}. "
                              "'volumeId' is a required property")
    check_unlocked(ctx, server)
    if server.get("OS-EXT-STS:vm_state") not in _ATTACHABLE_VM_STATES:
        raise nova_fault(409, f"Cannot 'attach_volume' instance {server_id} while it is in vm_state "
                              f"{server.get('OS-EXT-STS:vm_state')}")
    vol = _volume(ctx, volume_id)
    if vol.get("status") != "available":
        raise nova_fault(400, f"Invalid input received: Invalid volume: Volume {volume_id} status must be "
                              "available or downloading to reserve, but the current status is "
                              f"{vol.get('status')}. (HTTP 400)")
    delete_on_termination = bool(spec.get("delete_on_termination", False)) if mv(ctx, "2.79") else False
    nova_model.attach_volume(ctx.store, server_id, volume_id, spec.get("device"),
                             delete_on_termination=delete_on_termination)
    bdm = _bdm(ctx, server, volume_id)
    bdm["tag"] = spec.get("tag")
    body = {"id": volume_id, "serverId": server_id, "volumeId": volume_id, "device": bdm.get("device")}
    if mv(ctx, "2.70"):
        body["tag"] = bdm["tag"]
    if mv(ctx, "2.79"):
        body["delete_on_termination"] = delete_on_termination
    return json_response({"volumeAttachment": body})


def delete_volume_attachment(ctx: Ctx, server_id: str, volume_id: str) -> Response:
    """202; the volume goes ``detaching`` then ``available`` after ``volume.detach``."""
    server = get_server(ctx, server_id)
    vol = _volume(ctx, volume_id)
    bdm = next((b for b in nova_model.bdms(ctx.store, server) if b.get("volume_id") == volume_id), None)
    if bdm is None:
        raise _not_attached(server_id, volume_id)
    if bdm.get("root"):
        raise nova_fault(400, "Cannot detach a root device volume")
    check_unlocked(ctx, server)
    if vol.get("status") != "in-use":
        raise nova_fault(400, f"Invalid volume: volume '{volume_id}' status must be 'in-use'. Currently in "
                              f"'{vol.get('status')}'")
    vol["status"] = "detaching"
    cinder.touch(ctx.store, vol)
    store = ctx.store
    store.schedule(ctx.op_time("volume.detach"), lambda: nova_model.detach_volume(store, server_id, volume_id))
    return empty(202)


# --- interfaces --------------------------------------------------------------------------------
def _interface(ctx: Ctx, port: Record) -> Record:
    body: Record = {"net_id": port.get("network_id"), "port_id": port["id"], "mac_addr": port.get("mac_address"),
                    "port_state": port.get("status"), "fixed_ips": port.get("fixed_ips")}
    if mv(ctx, "2.70"):
        body["tag"] = None
    return body


def _port_of(ctx: Ctx, server_id: str, port_id: str) -> Record:
    port = ctx.store.get("ports", port_id)
    if port is None:
        raise nova_fault(404, f"Port id {port_id} could not be found.")
    if port.get("device_id") != server_id:
        raise nova_fault(404, f"Instance {server_id} does not have a port with id {port_id}")
    return port


def list_interfaces(ctx: Ctx, server_id: str) -> Response:
    get_server(ctx, server_id)
    ports = nova_model.server_ports(ctx.store, server_id)
    return json_response({"interfaceAttachments": [_interface(ctx, p) for p in ports]})


def show_interface(ctx: Ctx, server_id: str, port_id: str) -> Response:
    get_server(ctx, server_id)
    return json_response({"interfaceAttachment": _interface(ctx, _port_of(ctx, server_id, port_id))})


def delete_interface(ctx: Ctx, server_id: str, port_id: str) -> Response:
    """Detach: Nova deletes a port it created and unbinds a port it was given."""
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    nova_model.release_port(ctx.store, _port_of(ctx, server_id, port_id))
    nova_model.sync_derived(ctx.store, server)
    return empty(202)


# --- server metadata ----------------------------------------------------------------------------
def _metadata_in(ctx: Ctx, key: str = "metadata") -> dict[str, str]:
    data = ctx.body().get(key)
    if not isinstance(data, dict):
        raise nova_fault(400, f"Invalid input for field/attribute {key}. Value: {data}. {data!r} is not of type "
                              "'object'")
    return {str(k): str(v) for k, v in data.items()}


def show_metadata(ctx: Ctx, server_id: str) -> Response:
    return json_response({"metadata": get_server(ctx, server_id).get("metadata", {})})


def replace_metadata(ctx: Ctx, server_id: str) -> Response:
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    server["metadata"] = _metadata_in(ctx)
    return json_response({"metadata": server["metadata"]})


def update_metadata(ctx: Ctx, server_id: str) -> Response:
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    server.setdefault("metadata", {}).update(_metadata_in(ctx))
    return json_response({"metadata": server["metadata"]})


def show_metadata_item(ctx: Ctx, server_id: str, key: str) -> Response:
    metadata = get_server(ctx, server_id).get("metadata", {})
    if key not in metadata:
        raise nova_fault(404, "Metadata item was not found")
    return json_response({"meta": {key: metadata[key]}})


def set_metadata_item(ctx: Ctx, server_id: str, key: str) -> Response:
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    item = _metadata_in(ctx, "meta")
    if list(item) != [key]:
        raise nova_fault(400, "Request body and URI mismatch")
    server.setdefault("metadata", {}).update(item)
    return json_response({"meta": item})


def delete_metadata_item(ctx: Ctx, server_id: str, key: str) -> Response:
    server = get_server(ctx, server_id)
    check_unlocked(ctx, server)
    if key not in server.get("metadata", {}):
        raise nova_fault(404, "Metadata item was not found")
    del server["metadata"][key]
    return empty(204)


def register(routes: Routes) -> None:
    sub = "/servers/<server_id>"
    for method, path, handler in (
        ("GET", "/os-keypairs", list_keypairs), ("POST", "/os-keypairs", create_keypair),
        ("GET", "/os-keypairs/<name>", show_keypair), ("DELETE", "/os-keypairs/<name>", delete_keypair),
        ("GET", "/os-server-groups", list_server_groups), ("POST", "/os-server-groups", create_server_group),
        ("GET", "/os-server-groups/<group_id>", show_server_group),
        ("DELETE", "/os-server-groups/<group_id>", delete_server_group),
        ("GET", sub + "/os-volume_attachments", list_volume_attachments),
        ("POST", sub + "/os-volume_attachments", create_volume_attachment),
        ("GET", sub + "/os-volume_attachments/<volume_id>", show_volume_attachment),
        ("DELETE", sub + "/os-volume_attachments/<volume_id>", delete_volume_attachment),
        ("GET", sub + "/os-interface", list_interfaces),
        ("GET", sub + "/os-interface/<port_id>", show_interface),
        ("DELETE", sub + "/os-interface/<port_id>", delete_interface),
        ("GET", sub + "/metadata", show_metadata), ("PUT", sub + "/metadata", replace_metadata),
        ("POST", sub + "/metadata", update_metadata), ("GET", sub + "/metadata/<key>", show_metadata_item),
        ("PUT", sub + "/metadata/<key>", set_metadata_item),
        ("DELETE", sub + "/metadata/<key>", delete_metadata_item),
    ):
        routes.add(method, PREFIX + path, COMPUTE.wrap(handler))
