"""Inventory dumps as scenarios: the shared elastx dump served to its own project's CI user through openstacksdk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubespray_cleanup.simulator.scenarios import load_scenario, seed
from kubespray_cleanup.simulator.server import SimulatorServer
from kubespray_cleanup.simulator.store import Store

DUMP = Path(__file__).resolve().parents[1] / "data" / "inventory" / "elastx-cluster.inventory.json"
PROJECT_ID = "564c6b461c6b44b1bb19cdb9c2d928e4"
CLOUD = f"project-{PROJECT_ID[:8]}"
USER_ID = "5bb7fb0fd8d9015b0725460b8ce504db"


def _ids(rows: list[dict[str, Any]], project: str | None = None) -> set[Any]:
    return {r["id"] for r in rows if project is None or (r.get("project_id") or r.get("tenant_id")) == project}


@pytest.fixture(scope="module")
def inventory() -> dict[str, Any]:
    """The dump as written by the fixture generator."""
    data: dict[str, Any] = json.loads(DUMP.read_text())
    return data


@pytest.fixture(scope="module")
def dump_sim() -> Iterator[SimulatorServer]:
    """A simulator whose scenario is the bare dump file, shared by this module's read-only tests."""
    server = SimulatorServer(str(DUMP)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ci(dump_sim: SimulatorServer) -> Any:
    """openstacksdk Connection of the dump project's CI user."""
    return dump_sim.connect(CLOUD)


def test_bare_dump_loads_as_a_scenario_named_after_the_file(dump_sim: SimulatorServer,
                                                           inventory: dict[str, Any]) -> None:
    """Every record of the dump is in the store, under the dump's ids; the scenario is named after the file."""
    assert dump_sim.scenario.name == "elastx-cluster.inventory"
    for table, rows in inventory.items():
        assert _ids(rows) <= set(dump_sim.store.table(table)), table
    project = dump_sim.store.projects[PROJECT_ID]
    assert project.name == CLOUD


def test_dump_projects_get_a_ci_cloud_each_plus_admin(dump_sim: SimulatorServer) -> None:
    """clouds.yaml has one cloud per project made from the dump's tenant ids, and admin."""
    clouds = dump_sim.clouds()["clouds"]
    assert set(clouds) == {"admin", CLOUD, "project-b1cb1816"}
    assert clouds[CLOUD]["auth"]["username"] == f"{CLOUD}-ci"
    assert clouds[CLOUD]["auth"]["project_name"] == CLOUD
    user = dump_sim.store.user_by_name(f"{CLOUD}-ci")
    assert user is not None and user.id == USER_ID


def test_ci_user_lists_the_dumps_servers_ports_networks_groups_and_fips(ci: Any, inventory: dict[str, Any]) -> None:
    """The project's CI user sees exactly the dump's records of its project (plus the external network)."""
    assert {s.id for s in ci.compute.servers()} == _ids(inventory["servers"], PROJECT_ID)
    assert {p.id for p in ci.network.ports()} == _ids(inventory["ports"], PROJECT_ID)
    assert {n.id for n in ci.network.networks() if not n.is_router_external} == _ids(inventory["networks"], PROJECT_ID)
    assert {g.id for g in ci.network.security_groups()} == _ids(inventory["security_groups"], PROJECT_ID)
    assert {f.id for f in ci.network.ips()} == _ids(inventory["floating_ips"], PROJECT_ID)
    assert {r.name for r in ci.network.routers()} == {"kubespray-ci-router"}


def test_dump_servers_render_with_their_ports_addresses_and_floating_ips(ci: Any) -> None:
    """A dumped server shows its port's fixed IP and floating IP in addresses, ACTIVE, with its keypair name."""
    server = ci.compute.find_server("4711-k8s-master-1", ignore_missing=False)
    assert server.status == "ACTIVE" and server.key_name == "kubernetes-4711"
    kinds = sorted(a["OS-EXT-IPS:type"] for entries in server.addresses.values() for a in entries)
    assert kinds == ["fixed", "floating"]
    (port,) = list(ci.network.ports(device_id=server.id))
    assert port.name == "4711-k8s-master-1"
    (fip,) = list(ci.network.ips(port_id=port.id))
    assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]


def test_dump_keypair_is_visible_to_the_projects_ci_user(ci: Any, dump_sim: SimulatorServer) -> None:
    """Keypairs are per user: the dump's kubernetes-4711 (user 5bb7...) is the CI user's, not admin's."""
    assert [k.name for k in ci.compute.keypairs()] == ["kubernetes-4711"]
    assert ci.compute.find_keypair("kubernetes-4711", ignore_missing=False).user_id == USER_ID
    assert list(dump_sim.connect("admin").compute.keypairs()) == []


def test_admin_sees_the_dump_projects_records(dump_sim: SimulatorServer, inventory: dict[str, Any]) -> None:
    """The admin cloud lists every dumped port, across both projects and the unowned gateway port."""
    admin = dump_sim.connect("admin")
    assert {p.id for p in admin.network.ports()} == _ids(inventory["ports"])


def test_scenario_file_naming_the_dump_keeps_its_own_project_and_ci_user(tmp_path: Path) -> None:
    """A scenario that names project elastx with the dump's id and ``inventory: <file>``: elastx-ci owns the keypair."""
    (tmp_path / "dump.json").write_text(DUMP.read_text())
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"name": "with-dump", "projects": [{"name": "elastx", "id": PROJECT_ID}],
                                        "inventory": "dump.json"}))
    server = SimulatorServer(str(scenario)).start()
    try:
        assert set(server.clouds()["clouds"]) == {"elastx", "admin", "project-b1cb1816"}
        conn = server.connect("elastx")
        assert [k.name for k in conn.compute.keypairs()] == ["kubernetes-4711"]
        assert sorted(s.name for s in conn.compute.servers()) == ["4711-k8s-master-1", "4711-k8s-node-1"]
    finally:
        server.stop()


def test_load_inventory_reports_made_projects_with_their_acting_user(inventory: dict[str, Any]) -> None:
    """seed.load_inventory returns each project it made with the user id the dump shows acting there."""
    store = Store()
    made = seed.load_inventory(store, inventory)
    assert [(p.name, user) for p, user in made] == [(CLOUD, USER_ID), ("project-b1cb1816", None)]
    assert seed.load_inventory(Store(), {"servers": []}) == []


def test_inventory_scenario_through_load_scenario_makes_users(inventory: dict[str, Any], tmp_path: Path) -> None:
    """load_scenario on a YAML copy of the dump gives the same identity as the JSON file."""
    copy = tmp_path / "dump.yaml"
    copy.write_text(yaml.safe_dump(inventory))
    store = Store()
    scenario = load_scenario(store, str(copy))
    assert {c.cloud for c in scenario.credentials} == {"admin", CLOUD, "project-b1cb1816"}
    assert store.users[USER_ID].roles == {PROJECT_ID: ["member"]}


def test_indexed_lookups_match_a_scan_after_api_updates() -> None:
    """After ports move between devices and FIPs between ports through the API, indexed lookups equal a scan."""
    server = SimulatorServer(str(DUMP)).start()
    try:
        conn = server.connect(CLOUD)
        net = next(n for n in conn.network.networks() if n.name == "ci-4711")
        master = conn.compute.find_server("4711-k8s-master-1", ignore_missing=False)
        spare = conn.network.create_port(network_id=net.id, name="spare")
        conn.network.update_port(spare, device_id=master.id, device_owner="compute:sto1")
        (fip, *_) = [f for f in conn.network.ips() if f.port_id]
        conn.network.update_ip(fip, port_id=spare.id)
        conn.network.delete_port(conn.network.find_port("4711-k8s-node-1", ignore_missing=False))
        store = server.store
        with store.lock:
            for table, fields in (("ports", ("network_id", "device_id")), ("floating_ips", ("port_id", "router_id")),
                                  ("subnets", ("network_id",)), ("security_groups", ("project_id", "name"))):
                rows = list(store.table(table).values())
                for name in fields:
                    for value in {r.get(name) for r in rows} | {"none-such"}:
                        scan = [r["id"] for r in rows if r.get(name) == value]
                        assert [r["id"] for r in store.iter(table, **{name: value})] == scan, (table, name, value)
            bound = [p["id"] for p in store.iter("ports", device_id=master.id)]
        assert sorted(bound) == sorted(p.id for p in conn.network.ports(device_id=master.id))
        assert spare.id in bound and len(bound) == 2
    finally:
        server.stop()
