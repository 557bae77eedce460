"""Cinder's delete refusals (400 badRequest, never 409) and 404s, asserted identically on both targets.

On the realstack target these run only when Cinder runs (it needs Debian's rabbitmq-server); the skip
says so.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conformance.conftest import Target
from tests.conformance.helpers import refusal, wait_gone, wait_status

C1 = ("Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
      "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a "
      "transfer, or be disassociated from snapshots after volume transfer.")
MISSING = "a3b8c1d2-0e4f-4a5b-9c6d-7e8f9a0b1c2d"
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:conformance", "ip": "127.0.0.1", "host": "conformance",
             "platform": "x86_64", "os_type": "linux2", "multipath": False}


@pytest.fixture(autouse=True)
def _cinder(target: Target) -> None:
    target.need_cinder()


def _volume(conn: Any, name: str = "cf-vol") -> Any:
    vol = conn.block_storage.create_volume(size=1, name=name)
    return wait_status(lambda: conn.block_storage.get_volume(vol.id), "available")


def _attach(target: Target, vol: Any) -> None:
    """Make the volume in-use: through Nova on the simulator, through Cinder's attachments API (3.27+) on
    the realstack (no Nova there unless --realstack-nova), the way Nova itself drives Cinder."""
    conn = target.a
    if target.sim is not None:
        net = conn.network.create_network(name="cf-net")
        conn.network.create_subnet(network_id=net.id, cidr="10.2.0.0/24", ip_version=4)
        server = conn.compute.create_server(name="cf-vm", flavor_id=next(iter(conn.compute.flavors())).id,
                                            image_id=next(iter(conn.image.images())).id, networks=[{"uuid": net.id}])
        server = conn.compute.wait_for_server(server, interval=0.05, wait=30)
        conn.compute.create_volume_attachment(server, volume_id=vol.id)
    else:
        body = {"attachment": {"volume_uuid": vol.id, "instance_uuid": str(uuid.uuid4()), "connector": CONNECTOR}}
        attachment = conn.block_storage.post("/attachments", json=body, microversion="3.44").json()["attachment"]
        response = conn.block_storage.post(f"/attachments/{attachment['id']}/action", json={"os-complete": {}},
                                           microversion="3.44")
        assert response.status_code == 204
    wait_status(lambda: conn.block_storage.get_volume(vol.id), "in-use")


def _bad_request(exc: Any, message: str) -> None:
    assert exc.response.json() == {"badRequest": {"code": 400, "message": message}}


def test_volume_with_a_snapshot_is_400_and_cascade_takes_the_snapshots(target: Target) -> None:
    """A volume with snapshots: DELETE -> 400 Invalid volume; ``cascade=true`` deletes both."""
    conn = target.a
    vol = _volume(conn)
    snap = conn.block_storage.create_snapshot(volume_id=vol.id, name="cf-snap")
    wait_status(lambda: conn.block_storage.get_snapshot(snap.id), "available")
    _bad_request(refusal(lambda: conn.block_storage.delete_volume(vol, ignore_missing=False), 400), C1)
    conn.block_storage.delete_volume(vol, cascade=True)
    wait_gone(lambda: conn.block_storage.find_volume(vol.id, ignore_missing=True))
    wait_gone(lambda: conn.block_storage.find_snapshot(snap.id, ignore_missing=True))


def test_attached_volume_is_400(target: Target) -> None:
    """An in-use volume: DELETE -> 400 Invalid volume (not 409), with or without cascade."""
    conn = target.a
    vol = _volume(conn)
    _attach(target, vol)
    _bad_request(refusal(lambda: conn.block_storage.delete_volume(vol, ignore_missing=False), 400), C1)
    _bad_request(refusal(lambda: conn.block_storage.delete_volume(vol, ignore_missing=False, cascade=True), 400), C1)


def test_missing_or_foreign_volume_is_404_item_not_found(target: Target) -> None:
    conn = target.a
    exc = refusal(lambda: conn.block_storage.delete_volume(MISSING, ignore_missing=False), 404)
    assert exc.response.json() == {"itemNotFound": {"code": 404, "message": f"Volume {MISSING} could not be found."}}
    vol = _volume(conn)
    exc = refusal(lambda: target.b.block_storage.get_volume(vol.id), 404)
    assert exc.response.json() == {"itemNotFound": {"code": 404, "message": f"Volume {vol.id} could not be found."}}


def test_missing_snapshot_is_404_item_not_found(target: Target) -> None:
    exc = refusal(lambda: target.a.block_storage.delete_snapshot(MISSING, ignore_missing=False), 404)
    assert exc.response.json() == {"itemNotFound": {"code": 404,
                                                    "message": f"Snapshot {MISSING} could not be found."}}


def test_volume_delete_is_202_then_gone(target: Target) -> None:
    conn = target.a
    vol = _volume(conn)
    assert conn.block_storage.delete(f"/volumes/{vol.id}").status_code == 202
    wait_gone(lambda: conn.block_storage.find_volume(vol.id, ignore_missing=True))


def test_volume_type_in_use_is_400(target: Target) -> None:
    """Admin deleting a volume type that a volume uses: 400 (the simulator has no volume types API)."""
    if target.sim is not None:
        pytest.skip("simulator: no volume types API (/types); real answer pinned on the realstack target only")
    admin, conn = target.admin, target.a
    vtype = admin.block_storage.create_type(name=f"cf-type-{uuid.uuid4().hex[:8]}")
    vol = conn.block_storage.create_volume(size=1, name="cf-typed", volume_type=vtype.id)
    wait_status(lambda: conn.block_storage.get_volume(vol.id), "available")
    exc = refusal(lambda: admin.block_storage.delete_type(vtype, ignore_missing=False), 400)
    _bad_request(exc, "Target volume type is still in use.")
