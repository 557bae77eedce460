"""Cinder volumes in the simulator, through openstacksdk: rules C1/C3, async statuses, attachments, quotas."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator import cinder
from kubespray_cleanup.simulator.server import SimulatorServer

C1 = ("Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
      "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a "
      "transfer, or be disassociated from snapshots after volume transfer.")
C1_FORCE = ("Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting "
            "a transfer, or be disassociated from snapshots after volume transfer.")


def _volume(conn: Any, name: str = "vol", size: int = 1) -> Any:
    vol = conn.block_storage.create_volume(size=size, name=name)
    return conn.block_storage.wait_for_status(vol, "available", interval=0.02, wait=10)


def _gone(conn: Any, volume_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while conn.block_storage.find_volume(volume_id, ignore_missing=True) is not None:
        assert time.monotonic() < deadline, "volume still there"
        time.sleep(0.02)


def _server(conn: Any) -> Any:
    net = conn.network.create_network(name="net")
    conn.network.create_subnet(network_id=net.id, cidr="10.2.0.0/24", ip_version=4)
    server = conn.compute.create_server(name="vm", flavor_id=next(iter(conn.compute.flavors())).id,
                                        image_id=next(iter(conn.image.images())).id, networks=[{"uuid": net.id}])
    return conn.compute.wait_for_server(server, interval=0.02, wait=10)


def _c1(err: pytest.ExceptionInfo[exceptions.BadRequestException], message: str = C1) -> None:
    assert err.value.status_code == 400
    assert err.value.response.json() == {"badRequest": {"code": 400, "message": message}}


def test_block_storage_discovery_advertises_3_0_to_3_70(elastx: Any) -> None:
    """The unversioned /volume root answers 300 and v3 advertises microversions 3.0-3.70."""
    data = elastx.block_storage.get_endpoint_data()
    assert (data.min_microversion, data.max_microversion) == ((3, 0), (3, 70))
    response = elastx.block_storage.get("/volumes")
    assert response.headers["OpenStack-API-Version"].startswith("volume 3.")


def test_volume_create_is_async_creating_then_available(make_sim: Callable[..., SimulatorServer]) -> None:
    """POST /volumes -> 202 'creating'; 'available' after the volume.create time."""
    conn = make_sim("empty", latency="fast", time_scale=0.5).connect("elastx")
    vol = conn.block_storage.create_volume(size=2, name="slow")
    assert vol.status == "creating"
    assert conn.block_storage.get_volume(vol.id).status == "creating"
    assert conn.block_storage.wait_for_status(vol, "available", interval=0.02, wait=10).size == 2


def test_volume_delete_while_creating_is_400_c1(make_sim: Callable[..., SimulatorServer]) -> None:
    """C1 (bad status): a volume still 'creating' refuses DELETE with the InvalidVolume 400."""
    conn = make_sim("empty", latency="fast", time_scale=0.5).connect("elastx")
    vol = conn.block_storage.create_volume(size=1)
    with pytest.raises(exceptions.BadRequestException) as err:
        conn.block_storage.delete_volume(vol, ignore_missing=False)
    _c1(err)


def test_volume_delete_attached_is_400_c1(elastx: Any) -> None:
    """C1 (attached): DELETE of an in-use volume -> 400 badRequest InvalidVolume, not 409."""
    server = _server(elastx)
    vol = _volume(elastx)
    elastx.compute.create_volume_attachment(server, vol)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.block_storage.delete_volume(vol, ignore_missing=False)
    _c1(err)


def test_volume_delete_with_snapshot_is_400_c1_and_cascade_removes_snapshots(elastx: Any) -> None:
    """C1 (has snapshots): refused without cascade; cascade=true deletes the snapshots too."""
    vol = _volume(elastx)
    snap = elastx.block_storage.create_snapshot(volume_id=vol.id, name="s")
    elastx.block_storage.wait_for_status(snap, "available", interval=0.02, wait=10)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.block_storage.delete_volume(vol, ignore_missing=False)
    _c1(err)
    elastx.block_storage.delete_volume(vol, cascade=True)
    _gone(elastx, vol.id)
    assert list(elastx.block_storage.snapshots()) == []


def test_volume_force_delete_still_refuses_attached_with_empty_status_clause(elastx: Any, admin: Any) -> None:
    """C1 with force=true (admin, µv 3.23+): status clause empty (double space), attached still refused."""
    server = _server(elastx)
    vol = _volume(elastx)
    elastx.compute.create_volume_attachment(server, vol)
    with pytest.raises(exceptions.BadRequestException) as err:
        admin.block_storage.delete_volume(vol.id, ignore_missing=False, force=True)
    _c1(err, C1_FORCE)


def test_volume_force_delete_by_non_admin_is_403(elastx: Any) -> None:
    """force=true is admin-only: 403 forbidden naming volume:force_delete."""
    vol = _volume(elastx)
    with pytest.raises(exceptions.ForbiddenException) as err:
        elastx.block_storage.delete_volume(vol, force=True)
    assert err.value.details == "Policy doesn't allow volume:force_delete to be performed."


def test_volume_missing_is_404_c3(elastx: Any, other: Any) -> None:
    """C3: unknown or foreign volume -> 404 itemNotFound "Volume {id} could not be found."."""
    missing = "a3b8c1d2-0e4f-4a5b-9c6d-7e8f9a0b1c2d"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.block_storage.delete_volume(missing, ignore_missing=False)
    assert err.value.response.json() == {"itemNotFound": {"code": 404,
                                                          "message": f"Volume {missing} could not be found."}}
    vol = _volume(elastx)
    with pytest.raises(exceptions.NotFoundException) as err:
        other.block_storage.get_volume(vol.id)
    assert err.value.details == f"Volume {vol.id} could not be found."


def test_volume_delete_is_async_deleting_then_404(make_sim: Callable[..., SimulatorServer]) -> None:
    """DELETE -> 202; status 'deleting', a second DELETE meets C1, then the volume is gone."""
    conn = make_sim("empty", latency="fast", time_scale=0.5).connect("elastx")
    vol = _volume(conn)
    conn.block_storage.delete_volume(vol)
    assert conn.block_storage.get_volume(vol.id).status == "deleting"
    with pytest.raises(exceptions.BadRequestException) as err:
        conn.block_storage.delete_volume(vol, ignore_missing=False)
    _c1(err)
    _gone(conn, vol.id)


def test_stuck_volume_ends_error_deleting_and_only_admin_force_removes_it(sim: SimulatorServer, elastx: Any,
                                                                        admin: Any) -> None:
    """``_stuck_delete``: deleting -> error_deleting; user DELETE then meets C1; admin force deletes it."""
    vol = _volume(elastx)
    with sim.store.lock:
        sim.store.get("volumes", vol.id)["_stuck_delete"] = True
    elastx.block_storage.delete_volume(vol)
    elastx.block_storage.wait_for_status(elastx.block_storage.get_volume(vol.id), "error_deleting",
                                         interval=0.02, wait=10)
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.block_storage.delete_volume(vol, ignore_missing=False)
    _c1(err)
    with sim.store.lock:
        sim.store.get("volumes", vol.id)["_stuck_delete"] = False  # the backend recovered
    admin.block_storage.delete_volume(vol.id, force=True)
    _gone(elastx, vol.id)


def test_volume_reset_status_and_force_delete_action_are_admin_only(elastx: Any, admin: Any) -> None:
    """os-reset_status / os-force_delete: 403 for users, 202 for admins."""
    vol = _volume(elastx)
    with pytest.raises(exceptions.ForbiddenException) as err:
        elastx.block_storage.reset_volume_status(vol, status="error")
    assert err.value.details == ("Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be "
                                 "performed.")
    admin.block_storage.reset_volume_status(vol.id, status="error_deleting")
    assert elastx.block_storage.get_volume(vol.id).status == "error_deleting"
    response = admin.block_storage.post(f"/volumes/{vol.id}/action", json={"os-force_delete": None})
    assert response.status_code == 202
    _gone(elastx, vol.id)


def test_volume_list_pages_with_volumes_links(elastx: Any) -> None:
    """limit/marker: a full page carries volumes_links; the SDK walks every page."""
    ids = {_volume(elastx, f"v{i}").id for i in range(5)}
    page = elastx.block_storage.get("/volumes/detail?limit=2").json()
    assert len(page["volumes"]) == 2 and page["volumes_links"][0]["rel"] == "next"
    assert {v.id for v in elastx.block_storage.volumes(limit=2)} == ids
    summary = elastx.block_storage.get("/volumes").json()["volumes"][0]
    assert set(summary) == {"id", "name", "links"}


def test_volume_list_all_tenants_for_admin_and_filter_rules(elastx: Any, other: Any, admin: Any) -> None:
    """Admin needs all_tenants to see other projects; a user's unknown filter is a 400 (µv 3.31+)."""
    mine, theirs = _volume(elastx, "mine"), _volume(other, "theirs")
    assert [v.id for v in elastx.block_storage.volumes()] == [mine.id]
    assert [v.id for v in admin.block_storage.volumes()] == []
    assert {v.id for v in admin.block_storage.volumes(all_projects=True)} == {mine.id, theirs.id}
    assert [v.id for v in elastx.block_storage.volumes(all_projects=True)] == [mine.id]  # ignored for users
    assert [v.id for v in elastx.block_storage.volumes(name="mine", status="available")] == [mine.id]
    with pytest.raises(exceptions.BadRequestException) as err:
        list(elastx.block_storage.volumes(project_id=other.current_project_id))
    assert err.value.details == "Invalid filters project_id are found in query options."


def test_attachments_api_needs_microversion_3_27(elastx: Any) -> None:
    """/attachments is a 3.27 API: 404 below it."""
    assert elastx.block_storage.get("/attachments", microversion="3.26").status_code == 404
    assert elastx.block_storage.get("/attachments", microversion="3.27").json() == {"attachments": []}


def test_attachment_delete_while_server_lives_is_409_and_stale_one_is_removable(sim: SimulatorServer,
                                                                                elastx: Any) -> None:
    """A live server's attachment: 409 "use the Compute API"; an attachment whose server is gone deletes."""
    server = _server(elastx)
    live, stale = _volume(elastx, "live"), _volume(elastx, "stale")
    elastx.compute.create_volume_attachment(server, live)
    with sim.store.lock:
        stale_id = cinder.add_attachment(sim.store, stale.id, "5f0e3c1a-2b4d-4e6f-8a9b-0c1d2e3f4a5b", "/dev/vdc",
                                         "sim-compute")
    attachments = {a.volume_id: a for a in elastx.block_storage.attachments()}
    assert set(attachments) == {live.id, stale.id}
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.block_storage.delete_attachment(attachments[live.id].id, ignore_missing=False)
    assert err.value.details == f"Detach volume from instance {server.id} using the Compute API"
    elastx.block_storage.delete_attachment(stale_id, ignore_missing=False)
    after = elastx.block_storage.get_volume(stale.id)
    assert (after.status, after.attachments) == ("available", [])
    elastx.block_storage.delete_volume(after)
    _gone(elastx, stale.id)


def test_os_detach_of_a_live_attachment_is_409(elastx: Any) -> None:
    """os-detach is refused while Nova still uses the attachment (bug 2004555)."""
    server = _server(elastx)
    vol = _volume(elastx)
    elastx.compute.create_volume_attachment(server, vol)
    attachment_id = elastx.block_storage.get_volume(vol.id).attachments[0]["attachment_id"]
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.block_storage.detach_volume(vol, attachment_id)
    assert err.value.details == f"Detach volume from instance {server.id} using the Compute API"


def test_quota_set_usage_and_limits(elastx: Any) -> None:
    """os-quota-sets?usage=true and /limits count the project's volumes and gigabytes."""
    _volume(elastx, size=3)
    quota = elastx.block_storage.get_quota_set(elastx.current_project_id, usage=True)
    assert (quota.volumes, quota.usage["volumes"], quota.usage["gigabytes"]) == (10, 1, 3)
    absolute = elastx.block_storage.get_limits().absolute
    assert (absolute.max_total_volumes, absolute.total_volumes_used) == (10, 1)


def test_url_with_another_project_is_400_malformed(elastx: Any, other: Any) -> None:
    """The project id in the URL must be the token's: 400 "Malformed request url"."""
    url = elastx.block_storage.get_endpoint().replace(elastx.current_project_id, other.current_project_id)
    response = elastx.block_storage.get(url + "/volumes")
    assert (response.status_code, response.json()["badRequest"]["message"]) == (400, "Malformed request url")
