"""Cinder volumes, snapshots and attachments as records, with the delete rules of cinder/volume/api.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubespray_cleanup.simulator.api_common import project_of
from kubespray_cleanup.simulator.http import ApiError, cinder_fault
from kubespray_cleanup.simulator.store import Record, Store, iso_micro

AZ = "nova"
BACKEND_HOST = "sim-storage@lvm#lvm"
VOLUME_TYPE = "__DEFAULT__"
VOLUME_TYPE_ID = "5f3c7b0e-9a8d-4c2b-8f1e-3d6a2b9c0e47"
# cinder/volume/api.py delete(): statuses a volume may be deleted from without force.
DELETABLE_VOLUME_STATUSES = ("available", "error", "error_restoring", "error_extending", "error_managing")
DELETABLE_SNAPSHOT_STATUSES = ("available", "error")
C1_TAIL = ("must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, "
           "or be disassociated from snapshots after volume transfer.")


def volume_not_found(volume_id: str) -> ApiError:
    return cinder_fault(404, f"Volume {volume_id} could not be found.")


def snapshot_not_found(snapshot_id: str) -> ApiError:
    return cinder_fault(404, f"Snapshot {snapshot_id} could not be found.")


def c1_error(force: bool = False) -> ApiError:
    """Rule C1: ``InvalidVolume`` from the conditional update in ``API.delete`` (400, not 409)."""
    status = "" if force else "status must be " + " or ".join(DELETABLE_VOLUME_STATUSES) + " and"
    return cinder_fault(400, f"Invalid volume: Volume {status} {C1_TAIL}")


def c2_error() -> ApiError:
    """Rule C2: ``InvalidSnapshot`` from ``API.delete_snapshot``."""
    return cinder_fault(400, "Invalid snapshot: Snapshot status must be available or error and must not be part "
                             "of a group.")


# --- volumes ------------------------------------------------------------------------------
def create_volume(store: Store, project_id: str, name: str, size: int, *, volume_id: str | None = None,
                  created_at: datetime | None = None, status: str = "available", snapshot_id: str | None = None,
                  metadata: dict[str, str] | None = None, description: str = "", user_id: str = "",
                  source_volid: str | None = None, bootable: bool = False,
                  availability_zone: str = AZ) -> Record:
    """A volume record in Cinder's v3 detail shape (plus ``project_id``)."""
    if snapshot_id is not None:
        snap = store.get("snapshots", snapshot_id)
        if snap is None:
            raise snapshot_not_found(snapshot_id)
        size = max(int(size or 0), int(snap.get("size") or 0))
    when = iso_micro(created_at or store.utcnow())
    volume: Record = {
        "id": volume_id or store.new_id(), "name": name, "status": status, "size": int(size),
        "availability_zone": availability_zone, "created_at": when, "updated_at": when, "attachments": [],
        "description": description, "volume_type": VOLUME_TYPE, "snapshot_id": snapshot_id,
        "source_volid": source_volid, "metadata": dict(metadata or {}), "user_id": user_id,
        "bootable": "true" if bootable else "false", "encrypted": False, "replication_status": None,
        "consistencygroup_id": None, "multiattach": False, "group_id": None, "migration_status": None,
        "os-vol-tenant-attr:tenant_id": project_id, "os-vol-host-attr:host": BACKEND_HOST,
        "os-vol-mig-status-attr:migstat": None, "os-vol-mig-status-attr:name_id": None,
        "provider_id": None, "shared_targets": False, "service_uuid": "3f7c2a15-7d0b-4b8e-9a53-1c2d4e5f6a7b",
        "cluster_name": None, "volume_type_id": VOLUME_TYPE_ID, "consumes_quota": True,
        "project_id": project_id,
    }
    return store.put("volumes", volume)


def touch(store: Store, record: Record) -> Record:
    record["updated_at"] = iso_micro(store.utcnow())
    return record


def set_status(store: Store, volume_id: str, status: str, *, only_from: tuple[str, ...] = ()) -> None:
    """Move a volume to ``status`` (optionally only when it is in one of ``only_from``)."""
    vol = store.get("volumes", volume_id)
    if vol is not None and (not only_from or vol.get("status") in only_from):
        vol["status"] = status
        touch(store, vol)


def snapshots_of(store: Store, volume_id: str) -> list[Record]:
    return [s for s in store.iter("snapshots") if s.get("volume_id") == volume_id]


def dependents_of_snapshot(store: Store, snapshot_id: str) -> list[Record]:
    """Volumes cloned from the snapshot: on Ceph/LVM-thin they keep it busy (``SnapshotIsBusy``)."""
    return [v for v in store.iter("volumes") if v.get("snapshot_id") == snapshot_id]


def check_volume_deletable(store: Store, volume: Record, *, cascade: bool, force: bool) -> None:
    """Rule C1, evaluated like the conditional update of ``cinder.volume.api.API.delete``."""
    if volume.get("attachments") or volume.get("group_id") or volume.get("consistencygroup_id"):
        raise c1_error(force)
    if volume.get("migration_status") not in (None, "", "success", "error"):
        raise c1_error(force)
    if not force and volume.get("status") not in DELETABLE_VOLUME_STATUSES:
        raise c1_error(force)
    snaps = snapshots_of(store, volume["id"])
    if snaps and not cascade:
        raise c1_error(force)
    if cascade and not force and any(s.get("status") not in (*DELETABLE_SNAPSHOT_STATUSES, "deleting")
                                     for s in snaps):
        raise c1_error(force)


def begin_volume_delete(store: Store, volume_id: str, delay: float, *, cascade: bool = False,
                        force: bool = False) -> None:
    """Accepted DELETE: status ``deleting`` now, then gone (or ``error_deleting``) after ``delay``."""
    volume = store.get("volumes", volume_id)
    if volume is None:
        raise volume_not_found(volume_id)
    check_volume_deletable(store, volume, cascade=cascade, force=force)
    volume["status"] = "deleting"
    touch(store, volume)
    snaps = snapshots_of(store, volume_id) if cascade else []
    for snap in snaps:
        snap["status"] = "deleting"
        touch(store, snap)
    store.schedule(delay, lambda: _finish_volume_delete(store, volume_id, [s["id"] for s in snaps]))


def _finish_volume_delete(store: Store, volume_id: str, snapshot_ids: list[str]) -> None:
    volume = store.get("volumes", volume_id)
    if volume is None or volume.get("status") != "deleting":
        return
    busy = any(dependents_of_snapshot(store, sid) for sid in snapshot_ids)
    if volume.get("_stuck_delete"):
        volume["status"] = "error_deleting"
        touch(store, volume)
        return
    if busy:  # a clone still depends on one of its snapshots: the backend says VolumeIsBusy
        volume["status"] = "available"
        touch(store, volume)
        for sid in snapshot_ids:
            _reset_snapshot(store, sid)
        return
    for sid in snapshot_ids:
        store.remove("snapshots", sid)
    store.remove("volumes", volume_id)


def _reset_snapshot(store: Store, snapshot_id: str) -> None:
    snap = store.get("snapshots", snapshot_id)
    if snap is not None and snap.get("status") == "deleting":
        snap["status"] = "available"
        touch(store, snap)


def finish_create(store: Store, volume_id: str) -> None:
    """``creating`` -> ``available`` once the backend is done."""
    set_status(store, volume_id, "available", only_from=("creating",))


# --- attachments ---------------------------------------------------------------------------
def add_attachment(store: Store, volume_id: str, server_id: str, device: str | None, host: str) -> str:
    """Record an attachment (volume ``in-use``) and return its attachment id."""
    volume = store.get("volumes", volume_id)
    if volume is None:
        raise volume_not_found(volume_id)
    attachment_id = store.new_id()
    volume.setdefault("attachments", []).append({
        "id": volume_id, "attachment_id": attachment_id, "volume_id": volume_id, "server_id": server_id,
        "host_name": host, "device": device, "attached_at": iso_micro(store.utcnow()),
    })
    volume["status"] = "in-use"
    touch(store, volume)
    return attachment_id


def remove_attachment(store: Store, volume_id: str, attachment_id: str) -> list[Record]:
    """Drop one attachment; the volume becomes ``available`` when none is left. Returns the rest."""
    volume = store.get("volumes", volume_id)
    if volume is None:
        return []
    rest = [a for a in volume.get("attachments", []) if a.get("attachment_id") != attachment_id]
    volume["attachments"] = rest
    if not rest and volume.get("status") in ("in-use", "detaching", "attaching", "reserved"):
        volume["status"] = "available"
    touch(store, volume)
    return rest


def detach_server(store: Store, volume_id: str, server_id: str) -> None:
    """Remove every attachment of ``volume_id`` to ``server_id``."""
    volume = store.get("volumes", volume_id)
    if volume is None:
        return
    for att in list(volume.get("attachments", [])):
        if att.get("server_id") == server_id:
            remove_attachment(store, volume_id, str(att.get("attachment_id")))


def attachments_of_server(store: Store, server_id: str) -> list[tuple[str, str]]:
    """``(volume_id, attachment_id)`` of every Cinder attachment naming the server."""
    return [(vol["id"], str(att.get("attachment_id")))
            for vol in store.iter("volumes") for att in vol.get("attachments", [])
            if att.get("server_id") == server_id]


def find_attachment(store: Store, attachment_id: str) -> tuple[Record, Record] | None:
    for vol in store.iter("volumes"):
        for att in vol.get("attachments", []):
            if att.get("attachment_id") == attachment_id:
                return vol, att
    return None


def nova_uses_attachment(store: Store, attachment: Record | None) -> str | None:
    """Server id when a live server still holds the attachment (cinder ``attachment_deletion_allowed``)."""
    if attachment is None:
        return ""
    server = store.get("servers", str(attachment.get("server_id") or ""))
    if server is None:
        return None
    bdm_ids = {b.get("attachment_id") for b in server.get("_bdms", [])}
    if "_bdms" in server and attachment.get("attachment_id") not in bdm_ids:
        return None
    return str(server["id"])


# --- snapshots ----------------------------------------------------------------------------
def create_snapshot(store: Store, volume_id: str, name: str, *, snapshot_id: str | None = None,
                    created_at: datetime | None = None, status: str = "available", description: str = "",
                    metadata: dict[str, str] | None = None, user_id: str = "") -> Record:
    volume = store.get("volumes", volume_id)
    if volume is None:
        raise volume_not_found(volume_id)
    when = iso_micro(created_at or store.utcnow())
    snap: Record = {
        "id": snapshot_id or store.new_id(), "name": name, "description": description, "status": status,
        "size": int(volume.get("size") or 0), "volume_id": volume_id, "metadata": dict(metadata or {}),
        "created_at": when, "updated_at": when, "user_id": user_id or volume.get("user_id", ""),
        "group_snapshot_id": None, "consumes_quota": True,
        "os-extended-snapshot-attributes:project_id": project_of(volume),
        "os-extended-snapshot-attributes:progress": "100%" if status == "available" else "0%",
        "project_id": project_of(volume),
    }
    return store.put("snapshots", snap)


def begin_snapshot_delete(store: Store, snapshot_id: str, delay: float, *, force: bool = False) -> None:
    snap = store.get("snapshots", snapshot_id)
    if snap is None:
        raise snapshot_not_found(snapshot_id)
    if snap.get("group_snapshot_id") or (not force and snap.get("status") not in DELETABLE_SNAPSHOT_STATUSES):
        raise c2_error()
    snap["status"] = "deleting"
    touch(store, snap)
    store.schedule(delay, lambda: _finish_snapshot_delete(store, snapshot_id))


def _finish_snapshot_delete(store: Store, snapshot_id: str) -> None:
    snap = store.get("snapshots", snapshot_id)
    if snap is None or snap.get("status") != "deleting":
        return
    if snap.get("_stuck_delete"):
        snap["status"] = "error_deleting"
        touch(store, snap)
    elif dependents_of_snapshot(store, snapshot_id):  # SnapshotIsBusy: back to available
        snap["status"] = "available"
        touch(store, snap)
    else:
        store.remove("snapshots", snapshot_id)


def finish_snapshot_create(store: Store, snapshot_id: str) -> None:
    snap = store.get("snapshots", snapshot_id)
    if snap is not None and snap.get("status") == "creating":
        snap["status"] = "available"
        snap["os-extended-snapshot-attributes:progress"] = "100%"
        touch(store, snap)


def usage(store: Store, project_id: str) -> dict[str, int]:
    """In-use counts for quotas and limits."""
    vols = [v for v in store.iter("volumes") if project_of(v) == project_id]
    snaps = [s for s in store.iter("snapshots") if project_of(s) == project_id]
    return {"volumes": len(vols), "snapshots": len(snaps),
            "gigabytes": sum(int(v.get("size") or 0) for v in vols) + sum(int(s.get("size") or 0) for s in snaps),
            "backups": 0, "backup_gigabytes": 0, "groups": 0}


DEFAULT_QUOTAS = {"volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
                  "groups": 10, "per_volume_gigabytes": -1}


def quotas(store: Store, project_id: str) -> dict[str, Any]:
    limits: dict[str, Any] = dict(DEFAULT_QUOTAS)
    limits.update(store.quotas.get(project_id, {}).get("block-storage", {}))
    return limits
