"""Nova response bodies for the requested microversion (nova/api/openstack/compute/views/*)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kubespray_cleanup.simulator.api_common import ApiVersions, at_least
from kubespray_cleanup.simulator.nova import model as nova_model
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

COMPUTE = ApiVersions("compute", (2, 1), (2, 96), "X-OpenStack-Nova-API-Version")
_PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


def mv(ctx: Ctx, wanted: str) -> bool:
    return at_least(ctx, COMPUTE, wanted)


def links(ctx: Ctx, collection: str, rid: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": ctx.url("compute", f"/v2.1/{collection}/{rid}")},
            {"rel": "bookmark", "href": ctx.url("compute", f"/{collection}/{rid}")}]


def _bookmark(ctx: Ctx, collection: str, rid: str) -> list[dict[str, str]]:
    return [{"rel": "bookmark", "href": ctx.url("compute", f"/{collection}/{rid}")}]


def hostname(name: str) -> str:
    """Nova's sanitised hostname derived from the display name."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "server"


# --- servers ---------------------------------------------------------------------------------
def server_basic(ctx: Ctx, server: Record) -> Record:
    return {"id": server["id"], "name": server.get("name"), "links": links(ctx, "servers", server["id"])}


def _image(ctx: Ctx, server: Record) -> Any:
    image = server.get("image")
    image_id = image.get("id") if isinstance(image, dict) else image
    if not image_id:
        return ""
    return {"id": image_id, "links": _bookmark(ctx, "images", str(image_id))}


def _flavor(ctx: Ctx, server: Record) -> Record:
    raw: Record = server["flavor"] if isinstance(server.get("flavor"), dict) else {}
    snapshot: Record = server.get("_flavor") or {}
    flavor_id = str(raw.get("id") or snapshot.get("id") or "")
    known: Record = ctx.store.get("flavors", flavor_id) or snapshot
    if not mv(ctx, "2.47"):
        return {"id": flavor_id, "links": _bookmark(ctx, "flavors", flavor_id)}
    return {"vcpus": known.get("vcpus", raw.get("vcpus")), "ram": known.get("ram", raw.get("ram")),
            "disk": known.get("disk", raw.get("disk")), "ephemeral": known.get("OS-FLV-EXT-DATA:ephemeral", 0),
            "swap": known.get("swap") or 0, "original_name": known.get("name", raw.get("original_name")),
            "extra_specs": dict(known.get("extra_specs") or {})}


def _extended_attributes(ctx: Ctx, server: Record) -> Record:
    attrs: Record = {"OS-EXT-SRV-ATTR:host": server.get("_host", nova_model.HOST),
                     "OS-EXT-SRV-ATTR:instance_name": server.get("_instance_name", ""),
                     "OS-EXT-SRV-ATTR:hypervisor_hostname": server.get("_host", nova_model.HOST)}
    if mv(ctx, "2.3"):
        attrs.update({"OS-EXT-SRV-ATTR:hostname": hostname(str(server.get("name", ""))),
                      "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:launch_index": 0,
                      "OS-EXT-SRV-ATTR:ramdisk_id": "", "OS-EXT-SRV-ATTR:reservation_id":
                          server.get("_reservation_id", ""), "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                      "OS-EXT-SRV-ATTR:user_data": server.get("_user_data")})
    return attrs


def server_detail(ctx: Ctx, server: Record, *, show: bool = False) -> Record:
    """``GET /servers/{id}`` (``show``) or one entry of ``/servers/detail``."""
    nova_model.sync_derived(ctx.store, server)
    sid = server["id"]
    body: Record = {
        "accessIPv4": server.get("accessIPv4", ""), "accessIPv6": server.get("accessIPv6", ""),
        "addresses": server.get("addresses", {}), "created": server.get("created"), "flavor": _flavor(ctx, server),
        "hostId": server.get("hostId", ""), "id": sid, "image": _image(ctx, server),
        "links": links(ctx, "servers", sid), "metadata": server.get("metadata", {}), "name": server.get("name"),
        "status": server.get("status"), "tenant_id": server.get("tenant_id") or server.get("project_id", ""),
        "user_id": server.get("user_id", ""), "updated": server.get("updated"),
        "OS-DCF:diskConfig": server.get("OS-DCF:diskConfig", "MANUAL"),
    }
    if server.get("fault") and body["status"] in ("ERROR", "DELETED"):
        body["fault"] = server["fault"]
    if body["status"] in _PROGRESS_STATUSES:
        body["progress"] = server.get("progress", 0)
    body["OS-EXT-AZ:availability_zone"] = server.get("OS-EXT-AZ:availability_zone", nova_model.AZ)
    body["config_drive"] = server.get("config_drive", "")
    body["key_name"] = server.get("key_name")
    body["OS-SRV-USG:launched_at"] = server.get("OS-SRV-USG:launched_at")
    body["OS-SRV-USG:terminated_at"] = server.get("OS-SRV-USG:terminated_at")
    if server.get("security_groups"):
        body["security_groups"] = server["security_groups"]
    if ctx.is_admin:
        body.update(_extended_attributes(ctx, server))
    for key in ("OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state"):
        body[key] = server.get(key)
    body["os-extended-volumes:volumes_attached"] = [
        {"id": v["id"], "delete_on_termination": v.get("delete_on_termination", False)} if mv(ctx, "2.3")
        else {"id": v["id"]} for v in server.get("os-extended-volumes:volumes_attached", [])]
    _microversion_fields(ctx, server, body, show)
    return body


def _microversion_fields(ctx: Ctx, server: Record, body: Record, show: bool) -> None:
    if mv(ctx, "2.9"):
        body["locked"] = bool(server.get("locked"))
    if mv(ctx, "2.16") and ctx.is_admin:
        body["host_status"] = "UP"
    if mv(ctx, "2.19"):
        body["description"] = server.get("description")
    if mv(ctx, "2.26"):
        body["tags"] = list(server.get("tags", []))
    if mv(ctx, "2.63"):
        body["trusted_image_certificates"] = None
    if show and mv(ctx, "2.71"):
        group = nova_model.group_of_server(ctx.store, server["id"])
        body["server_groups"] = [group["id"]] if group else []
    if mv(ctx, "2.73"):
        body["locked_reason"] = server.get("locked_reason")
    if mv(ctx, "2.90") and not ctx.is_admin:
        body["OS-EXT-SRV-ATTR:hostname"] = hostname(str(server.get("name", "")))
    if mv(ctx, "2.96"):
        body["pinned_availability_zone"] = server.get("_pinned_az")


# --- flavors -----------------------------------------------------------------------------------
def flavor(ctx: Ctx, rec: Record, *, detail: bool = True) -> Record:
    body: Record = {"id": rec["id"], "name": rec.get("name"), "links": links(ctx, "flavors", rec["id"])}
    if detail:
        swap = rec.get("swap") or 0
        body.update({"ram": rec.get("ram"), "disk": rec.get("disk"), "vcpus": rec.get("vcpus"),
                     "swap": swap if swap or mv(ctx, "2.75") else "",
                     "OS-FLV-EXT-DATA:ephemeral": rec.get("OS-FLV-EXT-DATA:ephemeral", 0),
                     "OS-FLV-DISABLED:disabled": rec.get("OS-FLV-DISABLED:disabled", False),
                     "os-flavor-access:is_public": rec.get("os-flavor-access:is_public", True),
                     "rxtx_factor": rec.get("rxtx_factor", 1.0)})
    if mv(ctx, "2.55"):
        body["description"] = rec.get("description")
    if detail and mv(ctx, "2.61"):
        body["extra_specs"] = dict(rec.get("extra_specs") or {})
    return body


# --- keypairs ------------------------------------------------------------------------------------
def keypair(ctx: Ctx, rec: Record, kind: str) -> Record:
    """``kind``: ``index`` (list entry), ``show`` or ``create``."""
    keys = ["name", "public_key", "fingerprint"]
    if kind in ("show", "create"):
        keys.append("user_id")
    if kind == "show":
        keys += ["created_at", "deleted", "deleted_at", "id", "updated_at"]
    if mv(ctx, "2.2"):
        keys.append("type")
    body = {k: rec.get(k) for k in keys}
    if "user_id" in body:
        body["user_id"] = nova_model.keypair_user(rec)
    if kind == "show":
        body["deleted"] = bool(rec.get("deleted", False))
    return body


# --- server groups ---------------------------------------------------------------------------------
def server_group(ctx: Ctx, rec: Record) -> Record:
    body: Record = {"id": rec["id"], "name": rec.get("name")}
    if mv(ctx, "2.64"):
        body["policy"] = rec.get("policy") or (rec.get("policies") or [None])[0]
        body["rules"] = dict(rec.get("rules") or {})
    else:
        body["policies"] = list(rec.get("policies") or ([rec["policy"]] if rec.get("policy") else []))
        body["metadata"] = {}
    body["members"] = [m for m in rec.get("members", []) if ctx.store.get("servers", m) is not None]
    if mv(ctx, "2.13"):
        body["project_id"] = rec.get("project_id")
        body["user_id"] = rec.get("user_id")
    return body
