"""Isolation: another project's objects and live pipelines' objects are never written, even with matching names.

Project ``other`` gets twins of leaked pipeline 4700's objects (same names: ``ci-4700``, ``4700-k8s``,
``4700-k8s-node-1`` ...) plus an orphan floating IP; elastx gets a young pipeline without state and a
pipeline kept by ``--live-owner``. The request log proves that no write request names any of them,
also when the cleanup runs with an admin token that lists every project's network objects.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator import cinder, neutron, nova
from kubespray_cleanup.simulator.scenarios import resolve
from tests.reliability.checks import Expectation
from tests.reliability.conftest import FAST, WorldStage
from tests.reliability.world import World, build_world

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # openstacksdk's own


def _twins_in_other(world: World) -> set[str]:
    """Objects in project other named exactly like leaked pipeline 4700's; their ids."""
    store, other = world.store, world.projects["other"]
    user = store.user_by_name("other-ci")
    assert user is not None
    old = datetime.now(UTC) - timedelta(days=2)
    ext = next(n["id"] for n in store.iter("networks") if n.get("router:external"))
    flavor = next(iter(store.table("flavors").values()))["id"]
    image = next(iter(store.table("images").values()))["id"]
    with store.lock:
        net = neutron.create_network(store, other, "ci-4700", created_at=old)
        subnet = neutron.create_subnet(store, net["id"], "10.250.7.0/24", name="4700-internal-network",
                                       created_at=old)
        group = neutron.create_security_group(store, other, "4700-k8s", created_at=old)
        port = neutron.create_port(store, net["id"], other, name="4700-k8s-node-1", created_at=old,
                                   fixed_ips=[{"subnet_id": subnet["id"]}], security_group_ids=[group["id"]])
        spare = neutron.create_port(store, net["id"], other, name="4700-k8s-master-1", created_at=old,
                                    fixed_ips=[{"subnet_id": subnet["id"]}], security_group_ids=[group["id"]])
        nova.create_keypair(store, user.id, "kubernetes-4700", created_at=old)
        server = nova.create_server(store, other, user.id, "4700-k8s-master-1", flavor_id=flavor, image_id=image,
                                    networks=({"port": spare["id"]},), key_name="kubernetes-4700",
                                    security_groups=("4700-k8s",), created_at=old)
        volume = cinder.create_volume(store, other, "4700-k8s-node-1-volume", 10, created_at=old)
        fip = neutron.create_floating_ip(store, other, ext, created_at=old)
    return {net["id"], subnet["id"], group["id"], port["id"], spare["id"], server["id"], volume["id"], fip["id"]}


def _world() -> World:
    doc = resolve("demo")
    doc["clusters"] = [*doc["clusters"], {"job": 4720, "project": "elastx", "fate": "lost", "age_minutes": 40}]
    return build_world(doc)


@pytest.mark.parametrize("mode", ["project-member", "admin-token", "live-owner"])
def test_other_project_and_live_pipelines_are_never_written(world_stage: Callable[..., WorldStage],
                                                            record_figures: Callable[..., None], mode: str) -> None:
    """No write request names an object of project other (name twins included) or of a live pipeline."""
    world = _world()
    twins = _twins_in_other(world)
    args = ["--project", "elastx", *FAST]
    if mode == "live-owner":  # pipeline 4690 lost its state 9 h ago; the operator says it still runs
        world.leaked.discard("4690")
        world.running.add("4690")
        args += ["--live-owner", "4690"]
    expect = Expectation.of(world)
    assert twins <= expect.kept_ids
    log = io.StringIO()
    stage = world_stage(world=world, request_log=log)
    args += ["--state", str(stage.states)]
    if mode == "admin-token":  # the admin user scoped to elastx: Neutron and Cinder list every project
        doc = yaml.safe_load(stage.clouds.read_text())
        doc["clouds"]["elastx"]["auth"].update(username="admin", password="admin-password")
        stage.clouds.write_text(yaml.safe_dump(doc))
        expect.dangling = {k for k in expect.dangling if not k.startswith("keypair:")}  # keypairs are per user
    report = stage.tmp / "report.json"
    result = stage.run(*args, "--report", str(report))
    assert result.exit_code == ExitCode.CLEAN, result.output[-3000:]
    kept = json.loads(report.read_text())["plan"]["kept"]
    foreign_seen = [k for k in kept if str(k["reason"]).startswith("another project")]
    if mode == "admin-token":  # the twins were listed, matched the name patterns, and were protected
        assert {k["id"] for k in foreign_seen} >= twins - _compute_and_volume(world, twins)
    assert stage.conflicts() == 0
    assert expect.foreign_writes(log.getvalue()) == []
    assert expect.touched() == []
    assert expect.leftovers() == []
    other_user = world.store.user_by_name("other-ci")
    assert other_user is not None
    assert [k for k in world.store.table("keypairs").values()
            if k["name"] == "kubernetes-4700" and k["_user_id"] == other_user.id]
    writes = sum(1 for line in log.getvalue().splitlines() if '"method": "GET"' not in line)
    record_figures(isolation_mode=mode, protected_ids=len(expect.kept_ids), writes=writes, foreign_writes=0,
                   name_twins=len(twins), other_project_listed=len(foreign_seen))



def _compute_and_volume(world: World, ids: set[str]) -> set[str]:
    """Of ``ids``, the servers and volumes: Nova and Cinder list only the token's project, even for admins."""
    return {rid for table in ("servers", "volumes") for rid in ids if rid in world.store.table(table)}
