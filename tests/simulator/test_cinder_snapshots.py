"""Cinder snapshots in the simulator, through openstacksdk: rules C2/C3, async statuses, busy snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator import cinder
from kubespray_cleanup.simulator.server import SimulatorServer

C2 = "Invalid snapshot: Snapshot status must be available or error and must not be part of a group."


def _volume(conn: Any, name: str = "vol") -> Any:
    vol = conn.block_storage.create_volume(size=1, name=name)
    return conn.block_storage.wait_for_status(vol, "available", interval=0.02, wait=10)


def _snapshot(conn: Any, volume: Any, name: str = "snap") -> Any:
    snap = conn.block_storage.create_snapshot(volume_id=volume.id, name=name)
    return conn.block_storage.wait_for_status(snap, "available", interval=0.02, wait=10)


def _wait_gone(conn: Any, snapshot_id: str) -> None:
    deadline = time.monotonic() + 10
    while conn.block_storage.find_snapshot(snapshot_id, ignore_missing=True) is not None:
        assert time.monotonic() < deadline, "snapshot still there"
        time.sleep(0.02)


def test_snapshot_delete_while_deleting_is_400_c2(make_sim: Callable[..., SimulatorServer]) -> None:
    """C2: DELETE of a snapshot not 'available'/'error' (here 'deleting') -> 400 InvalidSnapshot."""
    conn = make_sim("empty", latency="fast", time_scale=2).connect("elastx")
    snap = _snapshot(conn, _volume(conn))
    conn.block_storage.delete_snapshot(snap)
    assert conn.block_storage.get_snapshot(snap.id).status == "deleting"
    with pytest.raises(exceptions.BadRequestException) as err:
        conn.block_storage.delete_snapshot(snap, ignore_missing=False)
    assert err.value.status_code == 400
    assert err.value.response.json() == {"badRequest": {"code": 400, "message": C2}}
    _wait_gone(conn, snap.id)


def test_snapshot_delete_while_creating_is_400_c2(make_sim: Callable[..., SimulatorServer]) -> None:
    """C2: a snapshot still 'creating' cannot be deleted either."""
    conn = make_sim("empty", latency="fast", time_scale=2).connect("elastx")
    snap = conn.block_storage.create_snapshot(volume_id=_volume(conn).id)
    assert snap.status == "creating"
    with pytest.raises(exceptions.BadRequestException) as err:
        conn.block_storage.delete_snapshot(snap, ignore_missing=False)
    assert err.value.details == C2


def test_snapshot_missing_is_404_c3(elastx: Any, other: Any) -> None:
    """C3: unknown or foreign snapshot -> 404 itemNotFound "Snapshot {id} could not be found."."""
    missing = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.block_storage.delete_snapshot(missing, ignore_missing=False)
    assert err.value.response.json() == {"itemNotFound": {"code": 404,
                                                          "message": f"Snapshot {missing} could not be found."}}
    snap = _snapshot(elastx, _volume(elastx))
    with pytest.raises(exceptions.NotFoundException) as err:
        other.block_storage.get_snapshot(snap.id)
    assert err.value.details == f"Snapshot {snap.id} could not be found."


def test_snapshot_delete_is_async_then_volume_deletes(elastx: Any) -> None:
    """Snapshot DELETE -> 202 -> gone; then its volume no longer meets C1."""
    vol = _volume(elastx)
    snap = _snapshot(elastx, vol)
    elastx.block_storage.delete_snapshot(snap)
    _wait_gone(elastx, snap.id)
    elastx.block_storage.delete_volume(vol)
    elastx.block_storage.wait_for_delete(vol, interval=0.02, wait=10)


def test_volume_created_from_snapshot_keeps_the_snapshot_busy(elastx: Any) -> None:
    """A clone keeps its snapshot (SnapshotIsBusy): delete returns it to 'available' until the clone goes."""
    snap = _snapshot(elastx, _volume(elastx))
    clone = elastx.block_storage.create_volume(snapshot_id=snap.id, name="clone")
    clone = elastx.block_storage.wait_for_status(clone, "available", interval=0.02, wait=10)
    assert (clone.snapshot_id, clone.size) == (snap.id, 1)
    elastx.block_storage.delete_snapshot(snap)
    time.sleep(0.05)
    assert elastx.block_storage.get_snapshot(snap.id).status == "available"
    elastx.block_storage.delete_volume(clone)
    elastx.block_storage.wait_for_delete(clone, interval=0.02, wait=10)
    elastx.block_storage.delete_snapshot(snap)
    _wait_gone(elastx, snap.id)


def test_snapshot_of_in_use_volume_needs_force_before_3_66(elastx: Any) -> None:
    """Before 3.66 an in-use volume needs force=true to be snapshotted."""
    net = elastx.network.create_network(name="net")
    elastx.network.create_subnet(network_id=net.id, cidr="10.3.0.0/24", ip_version=4)
    server = elastx.compute.wait_for_server(elastx.compute.create_server(
        name="vm", flavor_id=next(iter(elastx.compute.flavors())).id, image_id=next(iter(elastx.image.images())).id,
        networks=[{"uuid": net.id}]), interval=0.02, wait=10)
    vol = _volume(elastx)
    elastx.compute.create_volume_attachment(server, vol)
    body = {"snapshot": {"volume_id": vol.id, "name": "s"}}
    refused = elastx.block_storage.post("/snapshots", json=body, microversion="3.65")
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == (f"Invalid volume: Volume {vol.id} status must be "
                                                       "available, but current status is: in-use.")
    assert elastx.block_storage.post("/snapshots", json=body, microversion="3.66").status_code == 202


def test_snapshot_list_filters_and_all_tenants(elastx: Any, other: Any, admin: Any) -> None:
    """Snapshots filter by volume_id; admins see other projects only with all_tenants."""
    a, b = _volume(elastx, "a"), _volume(elastx, "b")
    snap_a, _ = _snapshot(elastx, a), _snapshot(elastx, b)
    theirs = _snapshot(other, _volume(other))
    assert [s.id for s in elastx.block_storage.snapshots(volume_id=a.id)] == [snap_a.id]
    assert len(list(admin.block_storage.snapshots())) == 0
    assert theirs.id in {s.id for s in admin.block_storage.snapshots(all_projects=True)}
    detail = elastx.block_storage.get_snapshot(snap_a.id)
    assert detail.project_id == elastx.current_project_id and detail.size == 1


def test_seeded_volume_and_snapshot_keep_their_fields(sim: SimulatorServer, elastx: Any) -> None:
    """Scenario seeding's cinder.create_volume/create_snapshot (explicit ids, old created_at) serve via the API."""
    when = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    project_id = elastx.current_project_id  # authenticates: do it before taking the store lock
    with sim.store.lock:
        cinder.create_volume(sim.store, project_id, "pvc-1", 5, volume_id="vol-1", created_at=when,
                             metadata={"cinder.csi.openstack.org/cluster": "kubernetes"},
                             description="Created by OpenStack Cinder CSI driver")
        cinder.create_snapshot(sim.store, "vol-1", "snap-1", snapshot_id="snap-1", created_at=when)
    vol = elastx.block_storage.get_volume("vol-1")
    assert (vol.created_at, vol.size, vol.status) == ("2026-02-03T04:05:06.000000", 5, "available")
    assert vol.metadata == {"cinder.csi.openstack.org/cluster": "kubernetes"}
    assert [s.id for s in elastx.block_storage.snapshots(volume_id="vol-1")] == ["snap-1"]
