"""Cinder v3 HTTP handlers: discovery, volumes, snapshots, attachments, quota sets and limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.api_common import policy_forbidden, project_of, truthy
from kubespray_cleanup.simulator.cinder import model as cinder_model
from kubespray_cleanup.simulator.cinder.view import (
    VOLUME,
    attachment_detail,
    attachment_summary,
    listing,
    mv,
    select,
    snapshot_detail,
    snapshot_summary,
    volume_detail,
    volume_summary,
)
from kubespray_cleanup.simulator.http import empty, json_response, nova_fault
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

fault = nova_fault  # same body shape (cinder/api/openstack/wsgi.py Fault)
PREFIX = "/volume/v3/<project_id>"
_RESETTABLE = ("available", "error", "in-use", "error_deleting", "creating", "deleting", "attaching", "detaching",
               "reserved", "maintenance", "error_restoring", "error_extending", "error_managing")


# --- discovery ------------------------------------------------------------------------------------
def _versions(ctx: Ctx, status: int) -> Response:
    doc = {"id": "v3.0", "status": "CURRENT", "version": VOLUME.max_string, "min_version": VOLUME.min_string,
           "updated": "2023-08-31T00:00:00Z",
           "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                     {"rel": "self", "href": ctx.url("block-storage", "/v3/")}],
           "media-types": [{"base": "application/json",
                            "type": "application/vnd.openstack.volume+json;version=3"}]}
    return json_response({"versions": [doc]}, status)


def versions(ctx: Ctx) -> Response:
    return _versions(ctx, 300)


def versions_v3(ctx: Ctx) -> Response:
    return _versions(ctx, 200)


# --- helpers ---------------------------------------------------------------------------------------
def _visible(ctx: Ctx, rec: Record) -> bool:
    return ctx.is_admin or project_of(rec) == ctx.project_id


def get_volume(ctx: Ctx, volume_id: str) -> Record:
    vol = ctx.store.get("volumes", volume_id)
    if vol is None or not _visible(ctx, vol):
        raise cinder_model.volume_not_found(volume_id)
    return vol


def get_snapshot(ctx: Ctx, snapshot_id: str) -> Record:
    snap = ctx.store.get("snapshots", snapshot_id)
    if snap is None or not _visible(ctx, snap):
        raise cinder_model.snapshot_not_found(snapshot_id)
    return snap


def _admin(ctx: Ctx, policy: str) -> None:
    if not ctx.is_admin:
        raise policy_forbidden(policy)


def _spec(ctx: Ctx, key: str) -> Record:
    spec = ctx.body().get(key)
    if not isinstance(spec, dict):
        raise fault(400, f"Invalid input for field/attribute {key}. Value: {spec}. {spec!r} is not of type "
                         "'object'")
    return spec


# --- volumes ------------------------------------------------------------------------------------
def _volumes(ctx: Ctx, project_id: str, detail: bool) -> Response:
    rows = select(ctx, list(ctx.store.iter("volumes")), "volume")
    render: Callable[[Record], Record] = (lambda v: volume_detail(ctx, v)) if detail else (
        lambda v: volume_summary(ctx, v))
    return json_response(listing(ctx, project_id, rows, "volumes", "volumes/detail" if detail else "volumes",
                                 render, cinder_model.volume_not_found))


def list_volumes(ctx: Ctx, project_id: str) -> Response:
    return _volumes(ctx, project_id, detail=False)


def list_volumes_detail(ctx: Ctx, project_id: str) -> Response:
    return _volumes(ctx, project_id, detail=True)


def show_volume(ctx: Ctx, project_id: str, volume_id: str) -> Response:
    return json_response({"volume": volume_detail(ctx, get_volume(ctx, volume_id))})


def _size(spec: Record, fallback: int | None) -> int:
    raw = spec.get("size", fallback)
    try:
        size = int(raw) if raw is not None else 0
    except (TypeError, ValueError):
        size = 0
    if size <= 0:
        raise fault(400, f"Invalid input received: Volume size '{raw}' must be an integer and greater than 0")
    return size


def create_volume(ctx: Ctx, project_id: str) -> Response:
    """202 with status ``creating``; ``available`` after the ``volume.create`` operation time."""
    spec = _spec(ctx, "volume")
    snapshot_id, source_id = spec.get("snapshot_id"), spec.get("source_volid")
    fallback = None
    if snapshot_id:
        snap = get_snapshot(ctx, str(snapshot_id))
        if snap.get("status") != "available":
            raise fault(400, "Invalid snapshot: Originating snapshot status must be one of 'available' values")
        fallback = int(snap.get("size") or 0)
    if source_id:
        source = get_volume(ctx, str(source_id))
        if source.get("status") not in ("available", "in-use"):
            raise fault(400, "Invalid volume: Unable to clone volume: source volume status must be available "
                             "or in-use.")
        fallback = int(source.get("size") or 0)
    vol = cinder_model.create_volume(
        ctx.store, ctx.project_id, str(spec.get("name") or ""), _size(spec, fallback), status="creating",
        snapshot_id=str(snapshot_id) if snapshot_id else None, metadata=spec.get("metadata"),
        description=str(spec.get("description") or ""), user_id=ctx.user_id,
        source_volid=str(source_id) if source_id else None, bootable=bool(spec.get("imageRef")),
        availability_zone=str(spec.get("availability_zone") or cinder_model.AZ))
    store, vid = ctx.store, vol["id"]
    store.schedule(ctx.op_time("volume.create"), lambda: cinder_model.finish_create(store, vid))
    return json_response({"volume": volume_detail(ctx, vol)}, 202)


def update_volume(ctx: Ctx, project_id: str, volume_id: str) -> Response:
    vol = get_volume(ctx, volume_id)
    spec = _spec(ctx, "volume")
    for key in ("name", "description", "metadata"):
        if key in spec:
            vol[key] = spec[key]
    cinder_model.touch(ctx.store, vol)
    return json_response({"volume": volume_detail(ctx, vol)})


def delete_volume(ctx: Ctx, project_id: str, volume_id: str) -> Response:
    """202, then ``deleting`` -> gone; rule C1 (400) for attached/bad status/snapshots without cascade."""
    vol = get_volume(ctx, volume_id)
    cascade = truthy(ctx.request.args.get("cascade"))
    force = mv(ctx, "3.23") and truthy(ctx.request.args.get("force"))
    if force:
        _admin(ctx, "volume:force_delete")
    cinder_model.begin_volume_delete(ctx.store, vol["id"], ctx.op_time("volume.delete"), cascade=cascade,
                                     force=force)
    return empty(202)


# --- volume actions --------------------------------------------------------------------------------
def _reset_status(ctx: Ctx, vol: Record, arg: Any) -> None:
    _admin(ctx, "volume_extension:volume_admin_actions:reset_status")
    arg = arg if isinstance(arg, dict) else {}
    status = arg.get("status")
    if status is not None and status not in _RESETTABLE:
        raise fault(400, f"Invalid input received: Invalid status: {status}")
    if arg.get("attach_status") == "detached":
        vol["attachments"] = []
    if status is not None:
        vol["status"] = status
    if "migration_status" in arg:
        vol["migration_status"] = arg["migration_status"]
    cinder_model.touch(ctx.store, vol)


def _force_delete(ctx: Ctx, vol: Record, arg: Any) -> None:
    _admin(ctx, "volume_extension:volume_admin_actions:force_delete")
    cinder_model.begin_volume_delete(ctx.store, vol["id"], ctx.op_time("volume.delete"), force=True)


def _detach(ctx: Ctx, vol: Record, arg: Any) -> None:
    """``os-detach``: refused (409) while a live server still uses the attachment (bug 2004555)."""
    attachment_id = arg.get("attachment_id") if isinstance(arg, dict) else None
    atts = vol.get("attachments", [])
    if attachment_id is None:
        if not atts:
            return
        if len(atts) == 1:
            attachment_id = atts[0].get("attachment_id")
    att = next((a for a in atts if a.get("attachment_id") == attachment_id), None)
    holder = cinder_model.nova_uses_attachment(ctx.store, att)
    if holder is not None:
        raise fault(409, f"Detach volume from instance {holder} using the Compute API")
    if att is not None:
        cinder_model.remove_attachment(ctx.store, vol["id"], str(attachment_id))


def _set_bootable(ctx: Ctx, vol: Record, arg: Any) -> None:
    """``os-set_bootable``: Nova boots only from a volume marked bootable."""
    value = arg.get("bootable") if isinstance(arg, dict) else None
    if not isinstance(value, bool) and str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise fault(400, f"Invalid input received: Invalid value '{value}' for bootable")
    vol["bootable"] = "true" if truthy(str(value)) else "false"
    cinder_model.touch(ctx.store, vol)


_VOLUME_ACTIONS: dict[str, Callable[[Ctx, Record, Any], None]] = {
    "os-reset_status": _reset_status, "os-force_delete": _force_delete, "os-detach": _detach,
    "os-set_bootable": _set_bootable,
}


def _run_action(ctx: Ctx, actions: dict[str, Callable[[Ctx, Record, Any], None]],
                fetch: Callable[[], Record]) -> Response:
    body = ctx.body()
    name = next(iter(body), "")
    if name not in actions:
        raise fault(400, f"There is no such action: {name}")
    actions[name](ctx, fetch(), body[name])
    return empty(202)


def volume_action(ctx: Ctx, project_id: str, volume_id: str) -> Response:
    return _run_action(ctx, _VOLUME_ACTIONS, lambda: get_volume(ctx, volume_id))


# --- snapshots -----------------------------------------------------------------------------------
def _snapshots(ctx: Ctx, project_id: str, detail: bool) -> Response:
    rows = select(ctx, list(ctx.store.iter("snapshots")), "snapshot")
    render: Callable[[Record], Record] = (lambda s: snapshot_detail(ctx, s)) if detail else (
        lambda s: snapshot_summary(ctx, s))
    return json_response(listing(ctx, project_id, rows, "snapshots",
                                 "snapshots/detail" if detail else "snapshots", render,
                                 cinder_model.snapshot_not_found))


def list_snapshots(ctx: Ctx, project_id: str) -> Response:
    return _snapshots(ctx, project_id, detail=False)


def list_snapshots_detail(ctx: Ctx, project_id: str) -> Response:
    return _snapshots(ctx, project_id, detail=True)


def show_snapshot(ctx: Ctx, project_id: str, snapshot_id: str) -> Response:
    return json_response({"snapshot": snapshot_detail(ctx, get_snapshot(ctx, snapshot_id))})


def create_snapshot(ctx: Ctx, project_id: str) -> Response:
    """202 with status ``creating``; ``available`` after the ``snapshot.create`` operation time."""
    spec = _spec(ctx, "snapshot")
    vol = get_volume(ctx, str(spec.get("volume_id") or ""))
    allowed = ("available", "in-use") if mv(ctx, "3.66") or truthy(str(spec.get("force", ""))) else ("available",)
    if vol.get("status") not in allowed:
        raise fault(400, f"Invalid volume: Volume {vol['id']} status must be available, but current status is: "
                         f"{vol.get('status')}.")
    snap = cinder_model.create_snapshot(ctx.store, vol["id"], str(spec.get("name") or ""), status="creating",
                                        description=str(spec.get("description") or ""),
                                        metadata=spec.get("metadata"), user_id=ctx.user_id)
    store, sid = ctx.store, snap["id"]
    store.schedule(ctx.op_time("snapshot.create"), lambda: cinder_model.finish_snapshot_create(store, sid))
    return json_response({"snapshot": snapshot_detail(ctx, snap)}, 202)


def delete_snapshot(ctx: Ctx, project_id: str, snapshot_id: str) -> Response:
    """202, then ``deleting`` -> gone; rule C2 (400) unless available/error."""
    snap = get_snapshot(ctx, snapshot_id)
    cinder_model.begin_snapshot_delete(ctx.store, snap["id"], ctx.op_time("snapshot.delete"))
    return empty(202)


def _snapshot_reset(ctx: Ctx, snap: Record, arg: Any) -> None:
    _admin(ctx, "volume_extension:snapshot_admin_actions:reset_status")
    status = arg.get("status") if isinstance(arg, dict) else None
    if status not in ("available", "error", "creating", "deleting", "error_deleting"):
        raise fault(400, f"Invalid input received: Invalid status: {status}")
    snap["status"] = status
    cinder_model.touch(ctx.store, snap)


def _snapshot_force_delete(ctx: Ctx, snap: Record, arg: Any) -> None:
    _admin(ctx, "volume_extension:snapshot_admin_actions:force_delete")
    cinder_model.begin_snapshot_delete(ctx.store, snap["id"], ctx.op_time("snapshot.delete"), force=True)


_SNAPSHOT_ACTIONS: dict[str, Callable[[Ctx, Record, Any], None]] = {
    "os-reset_status": _snapshot_reset, "os-force_delete": _snapshot_force_delete,
}


def snapshot_action(ctx: Ctx, project_id: str, snapshot_id: str) -> Response:
    return _run_action(ctx, _SNAPSHOT_ACTIONS, lambda: get_snapshot(ctx, snapshot_id))


# --- attachments (µv 3.27+) -----------------------------------------------------------------------
def _new_attach_api(ctx: Ctx) -> None:
    if not mv(ctx, "3.27"):
        raise fault(404, "The resource could not be found.")


def _attachment_rows(ctx: Ctx) -> list[Record]:
    return [{"id": a.get("attachment_id"), "project_id": project_of(v), "volume_id": v["id"],
             "instance": a.get("server_id"), "status": "attached", "attach_status": "attached", "_vol": v, "_att": a}
            for v in ctx.store.iter("volumes") for a in v.get("attachments", [])]


def _attachments(ctx: Ctx, project_id: str, detail: bool) -> Response:
    _new_attach_api(ctx)
    rows = select(ctx, _attachment_rows(ctx), "attachment")
    view = attachment_detail if detail else attachment_summary
    return json_response({"attachments": [view(r["_vol"], r["_att"]) for r in sorted(rows, key=lambda r: r["id"])]})


def list_attachments(ctx: Ctx, project_id: str) -> Response:
    return _attachments(ctx, project_id, detail=False)


def list_attachments_detail(ctx: Ctx, project_id: str) -> Response:
    return _attachments(ctx, project_id, detail=True)


def _attachment(ctx: Ctx, attachment_id: str) -> tuple[Record, Record]:
    found = cinder_model.find_attachment(ctx.store, attachment_id)
    if found is None or not _visible(ctx, found[0]):
        raise fault(404, f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.")
    return found


def show_attachment(ctx: Ctx, project_id: str, attachment_id: str) -> Response:
    _new_attach_api(ctx)
    vol, att = _attachment(ctx, attachment_id)
    return json_response({"attachment": attachment_detail(vol, att)})


def delete_attachment(ctx: Ctx, project_id: str, attachment_id: str) -> Response:
    """200 with the volume's remaining attachments; 409 while a live server still uses it."""
    _new_attach_api(ctx)
    vol, att = _attachment(ctx, attachment_id)
    holder = cinder_model.nova_uses_attachment(ctx.store, att)
    if holder is not None:
        raise fault(409, f"Detach volume from instance {holder} using the Compute API")
    rest = cinder_model.remove_attachment(ctx.store, vol["id"], attachment_id)
    return json_response({"attachments": [attachment_summary(vol, a) for a in rest]})


# --- quotas and limits ---------------------------------------------------------------------------
def _quota_values(ctx: Ctx, target: str) -> dict[str, int]:
    limits = cinder_model.quotas(ctx.store, target)
    for key in ("volumes", "snapshots", "gigabytes"):
        limits[f"{key}___DEFAULT__"] = -1
    return limits


def show_quota_set(ctx: Ctx, project_id: str, target: str) -> Response:
    if not ctx.is_admin and target != ctx.project_id:
        raise policy_forbidden("volume_extension:quotas:show")
    limits = _quota_values(ctx, target)
    if truthy(ctx.request.args.get("usage")):
        used = cinder_model.usage(ctx.store, target)
        body: Record = {k: {"limit": v, "in_use": used.get(k, 0), "reserved": 0}
                        for k, v in limits.items()}
    else:
        body = dict(limits)
    return json_response({"quota_set": {"id": target, **body}})


def show_quota_defaults(ctx: Ctx, project_id: str, target: str) -> Response:
    defaults: dict[str, int] = dict(cinder_model.DEFAULT_QUOTAS)
    defaults.update({f"{k}___DEFAULT__": -1 for k in ("volumes", "snapshots", "gigabytes")})
    return json_response({"quota_set": {"id": target, **defaults}})


def show_limits(ctx: Ctx, project_id: str) -> Response:
    limits, used = cinder_model.quotas(ctx.store, ctx.project_id), cinder_model.usage(ctx.store, ctx.project_id)
    return json_response({"limits": {"rate": [], "absolute": {
        "maxTotalVolumes": limits["volumes"], "maxTotalSnapshots": limits["snapshots"],
        "maxTotalVolumeGigabytes": limits["gigabytes"], "maxTotalBackups": limits["backups"],
        "maxTotalBackupGigabytes": limits["backup_gigabytes"], "totalVolumesUsed": used["volumes"],
        "totalSnapshotsUsed": used["snapshots"], "totalGigabytesUsed": used["gigabytes"],
        "totalBackupsUsed": 0, "totalBackupGigabytesUsed": 0}}})


# --- registration ---------------------------------------------------------------------------------
def _scoped(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Cinder refuses a URL whose project differs from the token's (``Malformed request url``)."""

    def wrapped(ctx: Ctx, project_id: str, **kwargs: Any) -> Response:
        if project_id != ctx.project_id:
            raise fault(400, "Malformed request url")
        return handler(ctx, project_id, **kwargs)

    wrapped.__name__ = handler.__name__
    return VOLUME.wrap(wrapped)


def list_backups(ctx: Ctx, project_id: str) -> Response:
    """No backup service is simulated: the project never has backups."""
    return json_response({"backups": []})


def register(routes: Routes) -> None:
    routes.add("GET", "/volume", versions, public=True)
    routes.add("GET", "/volume/v3", versions_v3, public=True)
    for method, path, handler in (
        ("GET", "/volumes", list_volumes), ("GET", "/volumes/detail", list_volumes_detail),
        ("POST", "/volumes", create_volume), ("GET", "/volumes/<volume_id>", show_volume),
        ("PUT", "/volumes/<volume_id>", update_volume), ("DELETE", "/volumes/<volume_id>", delete_volume),
        ("POST", "/volumes/<volume_id>/action", volume_action),
        ("GET", "/backups", list_backups), ("GET", "/backups/detail", list_backups),
        ("GET", "/snapshots", list_snapshots), ("GET", "/snapshots/detail", list_snapshots_detail),
        ("POST", "/snapshots", create_snapshot), ("GET", "/snapshots/<snapshot_id>", show_snapshot),
        ("DELETE", "/snapshots/<snapshot_id>", delete_snapshot),
        ("POST", "/snapshots/<snapshot_id>/action", snapshot_action),
        ("GET", "/attachments", list_attachments), ("GET", "/attachments/detail", list_attachments_detail),
        ("GET", "/attachments/<attachment_id>", show_attachment),
        ("DELETE", "/attachments/<attachment_id>", delete_attachment),
        ("GET", "/os-quota-sets/<target>", show_quota_set),
        ("GET", "/os-quota-sets/<target>/defaults", show_quota_defaults),
        ("GET", "/limits", show_limits),
    ):
        routes.add(method, PREFIX + path, _scoped(handler))
