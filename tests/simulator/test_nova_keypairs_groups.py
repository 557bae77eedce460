"""Nova keypairs (per user, microversion-dependent answers) and server groups, through openstacksdk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator import nova
from kubespray_cleanup.simulator.server import SimulatorServer

PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0xA0k9Rl0fN3Hh9+3aGgG1y5pJ9v8jz1tT3l3sVZm "
              "runner@ci")


def _user_id(conn: Any) -> str:
    return str(conn.session.get_user_id())


def test_keypair_missing_is_404_keypair_not_found_for_user(elastx: Any) -> None:
    """V2: GET/DELETE of an unknown keypair -> 404 "Keypair {name} not found for user {user_id}"."""
    user = _user_id(elastx)
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.delete_keypair("kubernetes-1", ignore_missing=False)
    assert err.value.status_code == 404
    assert err.value.response.json() == {"itemNotFound": {
        "code": 404, "message": f"Keypair kubernetes-1 not found for user {user}"}}
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.get_keypair("kubernetes-1")
    assert err.value.details == f"Keypair kubernetes-1 not found for user {user}"


def test_keypairs_are_per_user(elastx: Any, other: Any, admin: Any) -> None:
    """Each user lists only its own keypairs; the same name may exist for two users."""
    elastx.compute.create_keypair(name="kubernetes-4711", public_key=PUBLIC_KEY)
    other.compute.create_keypair(name="kubernetes-4711", public_key=PUBLIC_KEY)
    other.compute.create_keypair(name="kubernetes-4712", public_key=PUBLIC_KEY)
    assert [k.name for k in elastx.compute.keypairs()] == ["kubernetes-4711"]
    assert [k.name for k in admin.compute.keypairs()] == []
    elastx.compute.delete_keypair("kubernetes-4711")
    assert [k.name for k in other.compute.keypairs()] == ["kubernetes-4711", "kubernetes-4712"]
    with pytest.raises(exceptions.ForbiddenException) as err:
        list(elastx.compute.keypairs(user_id=_user_id(other)))
    assert err.value.details == "Policy doesn't allow os_compute_api:os-keypairs:index to be performed."
    assert len(list(admin.compute.keypairs(user_id=_user_id(other)))) == 2


def test_keypair_get_shows_created_at_and_internal_id(elastx: Any) -> None:
    """GET shows created_at, deleted and Nova's integer id; the list entry does not."""
    made = elastx.compute.create_keypair(name="k", public_key=PUBLIC_KEY)
    assert made.fingerprint.count(":") == 15 and made.user_id == _user_id(elastx)
    body = elastx.compute.get("/os-keypairs/k", microversion="2.10").json()["keypair"]
    assert isinstance(body["id"], int) and body["deleted"] is False and body["created_at"]
    listed = elastx.compute.get("/os-keypairs", microversion="2.10").json()["keypairs"][0]["keypair"]
    assert set(listed) == {"name", "public_key", "fingerprint", "type"}


def test_keypair_generated_when_no_public_key(elastx: Any) -> None:
    """Before 2.92 Nova generates the key and returns private_key once."""
    made = elastx.compute.create_keypair(name="gen")
    assert made.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert elastx.compute.get_keypair("gen").private_key is None


def test_keypair_duplicate_name_is_409(elastx: Any) -> None:
    """Importing a name the user already has -> 409 "Key pair '{name}' already exists."."""
    elastx.compute.create_keypair(name="dup", public_key=PUBLIC_KEY)
    with pytest.raises(exceptions.ConflictException) as err:
        elastx.compute.create_keypair(name="dup", public_key=PUBLIC_KEY)
    assert err.value.details == "Key pair 'dup' already exists."


def test_keypair_delete_is_202_before_2_2_and_204_from_2_2(elastx: Any) -> None:
    """DELETE /os-keypairs/{name}: 202 for microversion 2.0-2.1, 204 from 2.2."""
    for name in ("a", "b"):
        elastx.compute.create_keypair(name=name, public_key=PUBLIC_KEY)
    old = elastx.compute.delete("/os-keypairs/a", microversion="2.1")
    new = elastx.compute.delete("/os-keypairs/b", microversion="2.2")
    assert (old.status_code, new.status_code) == (202, 204)
    assert new.headers["OpenStack-API-Version"] == "compute 2.2"


def test_keypair_list_paginates_from_2_35(elastx: Any) -> None:
    """From 2.35 keypairs page by name with keypairs_links; earlier versions list everything."""
    for index in range(3):
        elastx.compute.create_keypair(name=f"kp{index}", public_key=PUBLIC_KEY)
    page = elastx.compute.get("/os-keypairs?limit=2", microversion="2.35").json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["kp0", "kp1"]
    assert "marker=kp1" in page["keypairs_links"][0]["href"]
    rest = elastx.compute.get("/os-keypairs?limit=2&marker=kp1", microversion="2.35").json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["kp2"] and "keypairs_links" not in rest
    legacy = elastx.compute.get("/os-keypairs?limit=2", microversion="2.34").json()
    assert len(legacy["keypairs"]) == 3


def test_server_group_missing_is_404_instance_group_not_found(elastx: Any, other: Any) -> None:
    """V2: unknown (or foreign) group -> 404 "Instance group {uuid} could not be found."."""
    missing = "6b7b1a34-6a43-4a52-8f0a-2b1c38a2d9f0"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.delete_server_group(missing, ignore_missing=False)
    assert err.value.status_code == 404
    assert err.value.response.json() == {"itemNotFound": {
        "code": 404, "message": f"Instance group {missing} could not be found."}}
    group = other.compute.create_server_group(name="theirs", policy="anti-affinity")
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.compute.get_server_group(group.id)
    assert err.value.details == f"Instance group {group.id} could not be found."


def test_server_group_shapes_and_delete(elastx: Any) -> None:
    """2.64 shows policy/rules, older versions policies/metadata; DELETE -> 204."""
    group = elastx.compute.create_server_group(name="k8s-master-srvgrp", policy="anti-affinity")
    assert (group.policy, group.rules, group.project_id) == ("anti-affinity", {}, elastx.current_project_id)
    old = elastx.compute.get(f"/os-server-groups/{group.id}", microversion="2.1").json()["server_group"]
    assert old == {"id": group.id, "name": "k8s-master-srvgrp", "policies": ["anti-affinity"], "members": [],
                   "metadata": {}}
    response = elastx.compute.delete(f"/os-server-groups/{group.id}")
    assert response.status_code == 204
    assert list(elastx.compute.server_groups()) == []


def test_server_group_list_all_projects_for_admin(elastx: Any, other: Any, admin: Any) -> None:
    """Groups list per project; admin with all_projects sees every project's groups."""
    mine = elastx.compute.create_server_group(name="a", policy="affinity")
    theirs = other.compute.create_server_group(name="b", policy="soft-anti-affinity")
    assert [g.id for g in elastx.compute.server_groups(all_projects=True)] == [mine.id]
    assert [g.id for g in admin.compute.server_groups()] == []
    assert {g.id for g in admin.compute.server_groups(all_projects=True)} == {mine.id, theirs.id}


def test_seeded_keypair_and_group_via_model_functions(sim: SimulatorServer, elastx: Any) -> None:
    """Scenario seeding's model functions produce what the API serves (old created_at kept)."""
    user, project_id = _user_id(elastx), elastx.current_project_id  # authenticate before taking the store lock
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with sim.store.lock:
        nova.create_keypair(sim.store, user, "kubernetes-1", PUBLIC_KEY, created_at=when)
        nova.create_server_group(sim.store, project_id, user, "g", group_id="g-1", created_at=when)
    assert elastx.compute.get_keypair("kubernetes-1").created_at == "2026-01-02T03:04:05.000000"
    assert elastx.compute.get_server_group("g-1").name == "g"
