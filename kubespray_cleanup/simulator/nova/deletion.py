"""Nova server deletion: the asynchronous delete, soft delete with reclaim (``reclaim_instance_interval``), restore,
and the release of ports and volumes that follows a server's removal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from kubespray_cleanup.simulator.cinder import interface as cinder
from kubespray_cleanup.simulator.http import ApiError
from kubespray_cleanup.simulator.nova.model import bdms, release_port, server_ports, set_state
from kubespray_cleanup.simulator.store import Store, iso


def destroy_server(store: Store, server_id: str, *, volume_delete_delay: float = 0.0,
                   release_delay: float = 0.0) -> None:
    """What nova-compute does around ``instance.destroy()``: the server leaves the list and its groups; its ports
    and volumes are released ``release_delay`` later (Neutron and Cinder catch up a moment after Nova)."""
    server = store.get("servers", server_id)
    if server is None:
        return
    ports = server_ports(store, server_id)
    doomed = [b["volume_id"] for b in bdms(store, server) if b.get("delete_on_termination")]
    for group in store.iter("server_groups"):
        if server_id in group.get("members", []):
            group["members"] = [m for m in group["members"] if m != server_id]
    store.remove("servers", server_id)
    port_ids = [str(p["id"]) for p in ports]

    def release() -> None:
        _release_resources(store, server_id, port_ids, doomed, volume_delete_delay)

    if release_delay > 0:
        store.schedule(release_delay, release)
    else:
        release()


def _release_resources(store: Store, server_id: str, port_ids: list[str], doomed: list[Any],
                       volume_delete_delay: float) -> None:
    """Ports unbound or deleted, attachments removed, ``delete_on_termination`` volumes deleted."""
    for port_id in port_ids:
        port = store.get("ports", port_id)
        if port is not None and port.get("device_id") == server_id:  # the user may have deleted it meanwhile
            release_port(store, port)
    for volume_id, attachment_id in cinder.attachments_of_server(store, server_id):
        cinder.remove_attachment(store, volume_id, attachment_id)
    for volume_id in doomed:
        with contextlib.suppress(ApiError):  # nova-compute only logs a failed delete_on_termination delete
            cinder.begin_volume_delete(store, str(volume_id), volume_delete_delay)


def begin_delete(store: Store, server_id: str, delay: float, volume_delete_delay: float,
                 release_delay: float = 0.0) -> None:
    """``task_state`` deleting now (``status`` unchanged), gone after ``delay`` unless the host is stuck."""
    server = store.get("servers", server_id)
    if server is None or server.get("OS-EXT-STS:task_state") == "deleting":
        return
    server["OS-EXT-STS:task_state"] = "deleting"
    server["updated"] = iso(store.utcnow())
    if server.get("_stuck_delete"):
        return
    store.schedule(delay, lambda: _finish_delete(store, server_id, volume_delete_delay, release_delay))


def _finish_delete(store: Store, server_id: str, volume_delete_delay: float, release_delay: float) -> None:
    server = store.get("servers", server_id)
    if server is not None and server.get("OS-EXT-STS:task_state") == "deleting":
        destroy_server(store, server_id, volume_delete_delay=volume_delete_delay, release_delay=release_delay)


def soft_delete(store: Store, server_id: str, delay: float, reclaim_after: float,
                on_reclaim: Callable[[], None]) -> None:
    """``reclaim_instance_interval`` > 0: powered off into ``SOFT_DELETED`` after ``delay``, ports and volumes
    kept; ``on_reclaim`` (the real delete) runs ``reclaim_after`` later unless restored or force-deleted."""
    server = store.get("servers", server_id)
    if server is None or server.get("OS-EXT-STS:task_state") or server.get("OS-EXT-STS:vm_state") == "soft_deleted":
        return  # a soft-deleted server is soft-deleted again: nothing changes
    server["OS-EXT-STS:task_state"] = "soft-deleting"

    def done() -> None:
        current = store.get("servers", server_id)
        if current is None or current.get("OS-EXT-STS:task_state") != "soft-deleting":
            return
        set_state(store, current, "soft_deleted")
        current["_soft_deleted_seq"] = seq = current.get("_soft_deleted_seq", 0) + 1
        store.schedule(reclaim_after, lambda: _reclaim(store, server_id, seq, on_reclaim))

    store.schedule(delay, done)


def _reclaim(store: Store, server_id: str, seq: int, on_reclaim: Callable[[], None]) -> None:
    """Nova's ``_reclaim_queued_deletes`` periodic task: only a server still soft-deleted since then."""
    server = store.get("servers", server_id)
    if server is not None and server.get("OS-EXT-STS:vm_state") == "soft_deleted" \
            and server.get("_soft_deleted_seq") == seq:
        on_reclaim()


def restore(store: Store, server_id: str) -> None:
    """``restore`` action: a soft-deleted server powered on again, ``ACTIVE``."""
    server = store.get("servers", server_id)
    if server is not None:
        set_state(store, server, "active")
