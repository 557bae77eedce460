"""Built-in scenarios: Kubespray CI clusters in the simulator, seen through openstacksdk, and the states they left."""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from openstack import exceptions as sdk_exc

from kubespray_cleanup.simulator.scenarios import ScenarioError, kubespray, load_scenario
from kubespray_cleanup.simulator.scenarios import tfstate_document as kubespray_state
from kubespray_cleanup.simulator.server import SimulatorServer
from kubespray_cleanup.simulator.store import Store

FIXTURE = Path("/work/shared/fixtures/kubespray-elastx/elastx-cluster.tfstate")
ROUTER = "ab95917c-41fb-4881-b507-3a6dfe9403df"
Factory = Callable[..., SimulatorServer]


@pytest.fixture(scope="module")
def demo() -> Iterator[SimulatorServer]:
    """The demo scenario, shared by the read-only tests of this module."""
    server = SimulatorServer("demo").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kubespray_sim() -> Iterator[SimulatorServer]:
    """The kubespray scenario, shared by the read-only tests of this module."""
    server = SimulatorServer("kubespray").start()
    yield server
    server.stop()


def _conn(sim: SimulatorServer, cloud: str) -> Any:
    """One openstacksdk connection per simulator and cloud (authentication and discovery happen once)."""
    cache: dict[str, Any] = sim.__dict__.setdefault("_test_connections", {})
    if cloud not in cache:
        cache[cloud] = sim.connect(cloud)
    return cache[cloud]


def _parse_state() -> Any:
    """``parse_state`` of the state reader, or skip while it is not importable."""
    try:
        module = importlib.import_module("kubespray_cleanup.sources.terraform_state")
    except ImportError:
        pytest.skip("kubespray_cleanup.sources.terraform_state is not available")
    return module.parse_state


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=UTC)


def _counts(conn: Any) -> dict[str, int]:
    return {
        "servers": len(list(conn.compute.servers())),
        "networks": len([n for n in conn.network.networks() if n.name.startswith("ci-")]),
        "keypairs": len(list(conn.compute.keypairs())),
        "floating_ips": len(list(conn.network.ips())),
        "security_groups": len(list(conn.network.security_groups())),
        "routers": len(list(conn.network.routers())),
        "ports": len(list(conn.network.ports())),
        "load_balancers": len(list(conn.load_balancer.load_balancers())),
        "volumes": len(list(conn.block_storage.volumes())),
    }


def _instances(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``address[index]`` -> instance, for every managed instance of a state document."""
    found = {}
    for res in state["resources"]:
        if res["mode"] != "managed":
            continue
        for inst in res["instances"]:
            index = "" if inst.get("index_key") is None else f"[{inst['index_key']}]"
            found[f"{res['module']}.{res['type']}.{res['name']}{index}"] = inst
    return found


# --- counts per scenario, kind and project ---------------------------------------------------------------
def test_demo_elastx_sees_its_five_clusters_and_two_leaked_fips(demo: SimulatorServer) -> None:
    """demo: elastx lists 5 clusters' objects (10 servers), 13 FIPs, 2 LBs, 1 volume and only the shared router."""
    sim = demo
    assert _counts(_conn(sim, "elastx")) == {
        "servers": 10, "networks": 5, "keypairs": 5, "floating_ips": 13, "security_groups": 21, "routers": 1,
        "ports": 22, "load_balancers": 2, "volumes": 1,
    }
    assert sim.scenario.clusters == {"dead": ["4650", "4700"], "lost": ["4690"], "partial": ["4705"],
                                     "live": ["4709", "4712"]}


def test_demo_other_project_holds_one_cluster_with_its_own_router(demo: SimulatorServer) -> None:
    """demo: project other lists only job 4650, which made router 4650-router (no shared router there)."""
    other = _conn(demo, "other")
    assert _counts(other) == {"servers": 2, "networks": 1, "keypairs": 1, "floating_ips": 2, "security_groups": 5,
                              "routers": 1, "ports": 4, "load_balancers": 0, "volumes": 0}
    assert [r.name for r in other.network.routers()] == ["4650-router"]


def test_demo_stays_under_300_records(demo: SimulatorServer) -> None:
    """demo is small enough to read in a demo: fewer than 300 records in all tables."""
    assert sum(demo.store.count().values()) < 300


def test_kubespray_scenario_is_one_dead_and_one_live_cluster(kubespray_sim: SimulatorServer) -> None:
    """kubespray: jobs 4711 (dead, state kept) and 4712 (live), 1 master + 1 node with FIPs each."""
    sim = kubespray_sim
    assert _counts(_conn(sim, "elastx")) == {
        "servers": 4, "networks": 2, "keypairs": 2, "floating_ips": 4, "security_groups": 9, "routers": 1,
        "ports": 8, "load_balancers": 0, "volumes": 0,
    }
    assert sim.scenario.clusters == {"dead": ["4711"], "live": ["4712"]}
    assert sorted(sim.scenario.states) == ["4711/terraform.tfstate", "4712/terraform.tfstate"]


def test_bench_default_is_ten_leaked_and_two_live(make_sim: Factory) -> None:
    """bench.yaml: 10 leaked clusters (dead/lost/partial) + 2 live; 2 LBs, 4 volumes, 24 servers."""
    sim = make_sim("bench")
    counts = _counts(_conn(sim, "elastx"))
    assert (counts["servers"], counts["networks"], counts["load_balancers"], counts["volumes"]) == (24, 12, 2, 4)
    assert {fate: len(jobs) for fate, jobs in sim.scenario.clusters.items()} == {
        "dead": 4, "lost": 3, "partial": 3, "live": 2}


def test_empty_scenario_has_no_cluster(make_sim: Factory) -> None:
    """empty: no servers, no CI networks, no states."""
    sim = make_sim("empty")
    assert _counts(_conn(sim, "elastx"))["servers"] == 0 and sim.scenario.states == {}


# --- names, wiring and ages of one cluster ------------------------------------------------------------------
def test_cluster_objects_carry_kubespray_names(kubespray_sim: SimulatorServer) -> None:
    """Job 4711: ci-4711, 4711-internal-network (DNS), 4 SGs, kubernetes-4711, ports and servers 4711-k8s-*-1."""
    conn = _conn(kubespray_sim, "elastx")
    net = conn.network.find_network("ci-4711", ignore_missing=False)
    subnet = conn.network.find_subnet("4711-internal-network", ignore_missing=False)
    assert subnet.network_id == net.id and subnet.cidr == "10.24.153.0/24"
    assert subnet.dns_nameservers == ["1.1.1.1", "8.8.8.8", "8.8.4.4"]
    groups = {g.name: g for g in conn.network.security_groups() if g.name.startswith("4711-")}
    assert sorted(groups) == ["4711-bastion", "4711-k8s", "4711-k8s-master", "4711-k8s-worker"]
    assert groups["4711-k8s"].description == "4711 - Kubernetes"
    assert conn.compute.find_keypair("kubernetes-4711", ignore_missing=False).name == "kubernetes-4711"
    ports = {p.name: p for p in conn.network.ports(network_id=net.id) if p.name}
    assert sorted(ports) == ["4711-k8s-master-1", "4711-k8s-node-1"]
    assert sorted(ports["4711-k8s-master-1"].security_group_ids) == sorted(
        [groups["4711-k8s-master"].id, groups["4711-k8s"].id])
    assert sorted(ports["4711-k8s-node-1"].security_group_ids) == sorted(
        [groups["4711-k8s-worker"].id, groups["4711-k8s"].id])


def test_k8s_group_rules_reference_the_group_itself(kubespray_sim: SimulatorServer) -> None:
    """<job>-k8s has ingress rules with remote_group_id = itself; Neutron's default egress rules were removed."""
    conn = _conn(kubespray_sim, "elastx")
    group = conn.network.find_security_group("4711-k8s", ignore_missing=False)
    rules = list(conn.network.security_group_rules(security_group_id=group.id))
    assert len(rules) == 5
    assert sorted(r.ether_type for r in rules if r.remote_group_id == group.id) == ["IPv4", "IPv6"]
    worker = conn.network.find_security_group("4711-k8s-worker", ignore_missing=False)
    icmp = [r for r in conn.network.security_group_rules(security_group_id=worker.id) if r.protocol == "ipv6-icmp"]
    assert len(icmp) == 1 and icmp[0].port_range_min is None and icmp[0].port_range_max is None


def test_servers_are_booted_on_their_ports_with_kubespray_metadata(kubespray_sim: SimulatorServer) -> None:
    """Servers sit on the pre-created ports (compute:*), with kubespray_groups and the spaced router id."""
    conn = _conn(kubespray_sim, "elastx")
    master = conn.compute.find_server("4711-k8s-master-1", ignore_missing=False)
    node = conn.compute.find_server("4711-k8s-node-1", ignore_missing=False)
    assert master.metadata == {"depends_on": f" {ROUTER} ", "kubespray_groups": "etcd,kube_control_plane,,k8s_cluster",
                               "ssh_user": "ubuntu", "use_access_ip": "0"}
    assert node.metadata["kubespray_groups"] == "kube_node,k8s_cluster,"
    assert master.key_name == "kubernetes-4711" and master.status == "ACTIVE"
    port = conn.network.find_port("4711-k8s-master-1", ignore_missing=False)
    assert port.device_id == master.id and port.device_owner.startswith("compute:")


def test_floating_ips_are_associated_to_the_node_ports(kubespray_sim: SimulatorServer) -> None:
    """Each master/node FIP is ACTIVE on its port, routed through the shared router."""
    conn = _conn(kubespray_sim, "elastx")
    for name in ("4711-k8s-master-1", "4711-k8s-node-1"):
        port = conn.network.find_port(name, ignore_missing=False)
        (fip,) = list(conn.network.ips(port_id=port.id))
        assert fip.status == "ACTIVE" and fip.router_id == ROUTER
        assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]


def test_subnet_is_attached_to_the_shared_router(kubespray_sim: SimulatorServer) -> None:
    """The cluster subnet has a network:router_interface port on kubespray-ci-router at the gateway IP."""
    conn = _conn(kubespray_sim, "elastx")
    subnet = conn.network.find_subnet("4711-internal-network", ignore_missing=False)
    (rif,) = list(conn.network.ports(device_owner="network:router_interface", network_id=subnet.network_id))
    assert rif.device_id == ROUTER and rif.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.24.153.1"}]


def test_created_at_is_the_cluster_age_spread_in_creation_order(kubespray_sim: SimulatorServer) -> None:
    """Job 4711 (6 h old): network < subnet < SGs < ports < servers, all within ~3 min after now - 6 h."""
    conn = _conn(kubespray_sim, "elastx")
    start = datetime.now(UTC) - timedelta(hours=6)
    net = conn.network.find_network("ci-4711", ignore_missing=False)
    times = [
        _when(net.created_at),
        _when(conn.network.find_subnet("4711-internal-network", ignore_missing=False).created_at),
        _when(conn.network.find_security_group("4711-k8s", ignore_missing=False).created_at),
        _when(conn.network.find_port("4711-k8s-master-1", ignore_missing=False).created_at),
        _when(conn.compute.find_server("4711-k8s-master-1", ignore_missing=False).created_at),
        _when(conn.compute.find_server("4711-k8s-node-1", ignore_missing=False).created_at),
    ]
    assert times == sorted(times)
    assert start - timedelta(seconds=5) <= times[0] and times[-1] <= start + timedelta(minutes=3)


def test_shared_router_predates_every_cluster(demo: SimulatorServer) -> None:
    """The shared router was made long before the oldest job, and updated by the newest interface."""
    conn = _conn(demo, "elastx")
    router = conn.network.get_router(ROUTER)
    oldest = min(_when(n.created_at) for n in conn.network.networks() if n.name.startswith("ci-"))
    assert _when(router.created_at) < oldest - timedelta(days=300)


# --- the load balancers, volumes and leaked FIPs -----------------------------------------------------------
def test_kubespray_api_load_balancer_fronts_the_private_masters(demo: SimulatorServer) -> None:
    """Job 4700: 4700-api-loadbalancer, api-listener:6443, api-pool, member = the no-FIP master, FIP on the VIP."""
    conn = _conn(demo, "elastx")
    lb = conn.load_balancer.find_load_balancer("4700-api-loadbalancer", ignore_missing=False)
    (listener,) = [li for li in conn.load_balancer.listeners() if li.load_balancers == [{"id": lb.id}]]
    assert (listener.name, listener.protocol, listener.protocol_port) == ("api-listener", "TCP", 6443)
    pool = conn.load_balancer.find_pool("api-pool", ignore_missing=False)
    (member,) = list(conn.load_balancer.members(pool))
    master = conn.network.find_port("4700-k8s-master-nf-1", ignore_missing=False)
    assert member.address == master.fixed_ips[0]["ip_address"] and member.name == "4700-k8s-master-nf-1"
    assert conn.load_balancer.find_health_monitor("Api Monitor", ignore_missing=False).pools == [{"id": pool.id}]
    (fip,) = list(conn.network.ips(port_id=lb.vip_port_id))
    assert fip.status == "ACTIVE"


def test_node_volumes_are_attached_to_their_nodes(demo: SimulatorServer) -> None:
    """Job 4700: volume 4700-k8s-node-1-volume is in-use, attached to 4700-k8s-node-1."""
    conn = _conn(demo, "elastx")
    (vol,) = list(conn.block_storage.volumes(name="4700-k8s-node-1-volume"))
    node = conn.compute.find_server("4700-k8s-node-1", ignore_missing=False)
    assert vol.status == "in-use" and [a["server_id"] for a in vol.attachments] == [node.id]


def test_occm_load_balancer_and_its_fip_are_named_like_the_cloud_provider(demo: SimulatorServer) -> None:
    """Job 4690 (lost): kube_service_cluster.local_default_ingress-nginx with node members and a described FIP."""
    conn = _conn(demo, "elastx")
    name = "kube_service_cluster.local_default_ingress-nginx"
    lb = conn.load_balancer.find_load_balancer(name, ignore_missing=False)
    assert lb.description == "Kubernetes external service default/ingress-nginx from cluster cluster.local"
    pool = conn.load_balancer.find_pool(f"pool_0_{name}", ignore_missing=False)
    node = conn.network.find_port("4690-k8s-node-1", ignore_missing=False)
    assert [m.address for m in conn.load_balancer.members(pool)] == [node.fixed_ips[0]["ip_address"]]
    (fip,) = list(conn.network.ips(port_id=lb.vip_port_id))
    assert fip.description == ("Floating IP for Kubernetes external service default/ingress-nginx from cluster "
                               "cluster.local")


def test_leaked_fips_are_down_portless_and_days_old(demo: SimulatorServer) -> None:
    """demo: two DOWN FIPs without port, created about 3 and 11 days ago."""
    conn = _conn(demo, "elastx")
    now = datetime.now(UTC)
    ages = sorted((now - _when(f.created_at)).days for f in conn.network.ips() if f.port_id is None)
    assert ages == [3, 11]


def test_other_projects_cluster_is_invisible_to_elastx(demo: SimulatorServer) -> None:
    """Job 4650 (project other): elastx lists none of it and GETs of its ids answer 404; admin sees it."""
    sim = demo
    elastx, admin = _conn(sim, "elastx"), _conn(sim, "admin")
    net = admin.network.find_network("ci-4650", ignore_missing=False)
    server = next(s for s in admin.compute.servers(all_projects=True) if s.name == "4650-k8s-master-1")
    assert elastx.network.find_network("ci-4650") is None
    with pytest.raises(sdk_exc.NotFoundException):
        elastx.network.get_network(net.id)
    with pytest.raises(sdk_exc.NotFoundException):
        elastx.compute.get_server(server.id)
    assert elastx.compute.find_keypair("kubernetes-4650") is None
    assert all(not r.name.startswith("4650") for r in elastx.network.routers())


# --- Terraform states ---------------------------------------------------------------------------------------
def test_states_parse_with_the_state_reader(demo: SimulatorServer) -> None:
    """Every state of demo parses; tenant ids are the cluster's project; no unknown OpenStack types."""
    parse_state = _parse_state()
    sim = demo
    projects = {p.name: p.id for p in sim.store.projects.values()}
    for name, state in sim.scenario.states.items():
        parsed = parse_state(kubespray_state.serialize(state), name)
        job = name.split("/")[0]
        assert parsed.unknown_types == () and parsed.entries
        assert {e.project_id for e in parsed.entries if e.project_id} == {projects[sim.scenario.cluster_projects[job]]}


def _exists(conn: Any, entry: Any) -> bool:
    kind = entry.kind.value
    finders: dict[str, Callable[[str], Any]] = {
        "server": lambda i: conn.compute.find_server(i), "port": lambda i: conn.network.find_port(i),
        "floating_ip": lambda i: conn.network.find_ip(i), "router_interface": lambda i: conn.network.find_port(i),
        "network": lambda i: conn.network.find_network(i), "subnet": lambda i: conn.network.find_subnet(i),
        "security_group": lambda i: conn.network.find_security_group(i),
        "security_group_rule": lambda i: conn.network.find_security_group_rule(i),
        "keypair": lambda i: conn.compute.find_keypair(i), "volume": lambda i: conn.block_storage.find_volume(i),
        "load_balancer": lambda i: conn.load_balancer.find_load_balancer(i),
        "router": lambda i: conn.network.find_router(i), "server_group": lambda i: conn.compute.find_server_group(i),
    }
    return finders[kind](entry.id) is not None


def test_every_managed_id_of_a_dead_state_exists(demo: SimulatorServer) -> None:
    """Dead states (incl. project other): each managed id exists (keypair by name, interface = port, assoc = FIP)."""
    parse_state = _parse_state()
    sim = demo
    for job in sim.scenario.clusters["dead"]:
        project = sim.scenario.cluster_projects[job]
        conn = _conn(sim, project)
        parsed = parse_state(kubespray_state.serialize(sim.scenario.states[f"{job}/terraform.tfstate"]), job)
        missing = [e.address for e in parsed.entries if e.kind is not None and not _exists(conn, e)]
        assert missing == [], f"{job}: {missing}"


def test_state_identifies_router_interface_by_port_and_associate_by_fip(kubespray_sim: SimulatorServer) -> None:
    """Router interface id = the interface port id; floatingip_associate id = the FIP id (on its port)."""
    sim = kubespray_sim
    conn = _conn(sim, "elastx")
    found = _instances(sim.scenario.states["4711/terraform.tfstate"])
    rif = found["module.network.openstack_networking_router_interface_v2.k8s[0]"]["attributes"]
    port = conn.network.get_port(rif["id"])
    assert rif["port_id"] == port.id and port.device_owner == "network:router_interface"
    assoc = found["module.compute.openstack_networking_floatingip_associate_v2.k8s_node[0]"]["attributes"]
    assert conn.network.get_ip(assoc["id"]).port_id == assoc["port_id"]


def test_state_keeps_apply_time_drift(kubespray_sim: SimulatorServer) -> None:
    """State has port device_id '', FIP port_id '', rule nulls as ''/0 and the spaced router id, unlike the API."""
    sim = kubespray_sim
    state = sim.scenario.states["4711/terraform.tfstate"]
    found = _instances(state)
    port = found["module.compute.openstack_networking_port_v2.k8s_master_port[0]"]["attributes"]
    fip = found["module.ips.openstack_networking_floatingip_v2.k8s_master[0]"]["attributes"]
    rule = found["module.compute.openstack_networking_secgroup_rule_v2.k8s"]["attributes"]
    assert (port["device_id"], port["device_owner"], fip["port_id"], fip["fixed_ip"]) == ("", "", "", "")
    assert (rule["protocol"], rule["port_range_min"], rule["remote_ip_prefix"]) == ("", 0, "")
    assert state["outputs"]["router_id"]["value"] == f" {ROUTER} "
    null = found["module.ips.null_resource.dummy_dependency"]["attributes"]
    assert null["triggers"] == {"dependency_id": f" {ROUTER} "}


def test_state_is_opentofu_shaped(kubespray_sim: SimulatorServer) -> None:
    """Provider addresses are registry.opentofu.org, attributes use tenant_id, count resources have index keys."""
    state = kubespray_sim.scenario.states["4711/terraform.tfstate"]
    assert list(state) == ["version", "terraform_version", "serial", "lineage", "outputs", "resources",
                           "check_results"]
    assert all(r["provider"].startswith('provider["registry.opentofu.org/') for r in state["resources"])
    attributes = [i["attributes"] for r in state["resources"] if r["mode"] == "managed" for i in r["instances"]]
    assert not any("project_id" in a for a in attributes)
    assert len(_instances(state)) == 31 and sum(len(r["instances"]) for r in state["resources"]) == 36


def test_state_matches_the_shared_fixture_shape(kubespray_sim: SimulatorServer) -> None:
    """Job 4711's state has the fixture's addresses, attribute keys, private blobs and dependencies."""
    if not FIXTURE.is_file():
        pytest.skip("shared fixture not present")
    fixture = json.loads(FIXTURE.read_text())
    mine = kubespray_sim.scenario.states["4711/terraform.tfstate"]

    def shape(doc: dict[str, Any]) -> list[Any]:
        return [(r["module"], r["mode"], r["type"], r["name"], r.get("each"), r["provider"],
                 [(i.get("index_key"), sorted(i["attributes"]), i.get("private"), i.get("dependencies"),
                   list(i)) for i in r["instances"]]) for r in doc["resources"]]

    assert shape(mine) == shape(fixture)
    assert mine["serial"] == fixture["serial"] and sorted(mine["outputs"]) == sorted(fixture["outputs"])


def test_partial_state_lacks_the_newest_resources(demo: SimulatorServer) -> None:
    """Job 4705 (partial): master, FIPs and ports are in state; node server and FIP associates are not."""
    sim = demo
    found = _instances(sim.scenario.states["4705/terraform.tfstate"])
    assert "module.compute.openstack_compute_instance_v2.k8s_master[0]" in found
    assert "module.ips.openstack_networking_floatingip_v2.k8s_node[0]" in found
    assert "module.compute.openstack_compute_instance_v2.k8s_node[0]" not in found
    assert not [a for a in found if "floatingip_associate" in a]
    assert _conn(sim, "elastx").compute.find_server("4705-k8s-node-1") is not None


def test_partial_state_was_written_by_opentofu_1_9_as_one_line(tmp_path: Path) -> None:
    """tofu_version 1.9.1 serializes compact (one line); 1.12 pretty-prints."""
    store = Store()
    scenario = load_scenario(store, "demo")
    paths = {p.name if p.name.startswith(".") else p.parent.name: p
             for p in kubespray.write_states(scenario, tmp_path)}
    assert paths["4705"].read_text().count("\n") == 1
    assert paths["4700"].read_text().count("\n") > 100


def test_lost_cluster_has_no_state(demo: SimulatorServer) -> None:
    """Job 4690 (lost): its objects exist but no state document names them."""
    sim = demo
    assert "4690/terraform.tfstate" not in sim.scenario.states
    assert _conn(sim, "elastx").compute.find_server("4690-k8s-master-1") is not None


def test_live_states_are_fresh_and_locked_dead_ones_are_old(demo: SimulatorServer) -> None:
    """Live states: mtime now and a lock; dead/partial: mtime = end of their apply, no lock."""
    sim = demo
    scenario, now = sim.scenario, time.time()
    assert sorted(scenario.state_locks) == ["4709/terraform.tfstate", "4712/terraform.tfstate"]
    assert all(now - scenario.state_mtimes[n] < 60 for n in scenario.state_locks)
    dead = scenario.state_mtimes["4700/terraform.tfstate"]
    assert 6 * 3600 - 300 < now - dead < 6 * 3600
    assert scenario.state_mtimes["4705/terraform.tfstate"] < now - 5 * 3600 + 300


def test_live_cluster_older_than_four_hours_is_still_locked(demo: SimulatorServer) -> None:
    """Job 4709: created 4.5 h ago (past Kubespray's age cutoff) yet its state is fresh and locked."""
    sim = demo
    net = _conn(sim, "elastx").network.find_network("ci-4709", ignore_missing=False)
    assert datetime.now(UTC) - _when(net.created_at) > timedelta(hours=4)
    assert "4709/terraform.tfstate" in sim.scenario.state_locks


def test_write_states_sets_mtimes_and_lock_files(tmp_path: Path) -> None:
    """write_states writes <job>/terraform.tfstate with the scenario mtime, and lock info beside live ones."""
    scenario = load_scenario(Store(), "demo")
    written = kubespray.write_states(scenario, tmp_path)
    for name, mtime in scenario.state_mtimes.items():
        assert abs(os.stat(tmp_path / name).st_mtime - mtime) < 1e-3
    locks = sorted(str(p.relative_to(tmp_path)) for p in written if p.name.endswith(".lock.info"))
    assert locks == ["4709/.terraform.tfstate.lock.info", "4712/.terraform.tfstate.lock.info"]
    info = json.loads((tmp_path / locks[0]).read_text())
    assert sorted(info) == ["Created", "ID", "Info", "Operation", "Path", "Version", "Who"]
    assert info["Operation"] == "OperationTypeApply" and info["Path"] == "terraform.tfstate"


def test_written_states_load_with_their_lock_and_mtime(tmp_path: Path) -> None:
    """The state reader's load_state_file sees the lock and the mtime write_states set."""
    try:
        module = importlib.import_module("kubespray_cleanup.sources.terraform_state")
    except ImportError:
        pytest.skip("kubespray_cleanup.sources.terraform_state is not available")
    scenario = load_scenario(Store(), "kubespray")
    kubespray.write_states(scenario, tmp_path)
    live = module.load_state_file(tmp_path / "4712" / "terraform.tfstate")
    dead = module.load_state_file(tmp_path / "4711" / "terraform.tfstate")
    assert live.locked and not dead.locked
    assert abs(dead.modified_at.timestamp() - scenario.state_mtimes["4711/terraform.tfstate"]) < 1e-3


# --- scenario files and the bench generator -----------------------------------------------------------------
def test_bench_yaml_is_bench_document_10_2_1() -> None:
    """The shipped bench.yaml equals bench_document(leaked=10, live=2, seed=1)."""
    from importlib import resources

    text = resources.files("kubespray_cleanup.simulator").joinpath("scenarios/bench.yaml").read_text()
    assert yaml.safe_load(text) == kubespray.bench_document(10, 2, 1)


def test_bench_document_mixes_fates_volumes_and_load_balancers() -> None:
    """bench_document: leaked fates rotate dead/lost/partial, volumes every 3rd, an LB every 5th, ids ascend."""
    clusters = kubespray.bench_document(20, 3, 5)["clusters"]
    assert [c["fate"] for c in clusters[:4]] == ["dead", "lost", "partial", "dead"]
    assert [c["fate"] for c in clusters[20:]] == ["live"] * 3
    assert sum(1 for c in clusters if c.get("load_balancer")) == 4
    assert sum(1 for c in clusters if c.get("volumes_per_node")) == 7
    jobs = [c["job"] for c in clusters]
    assert jobs == sorted(jobs) and len(set(jobs)) == 23


def test_bench_with_100_clusters_loads_with_a_state_per_surviving_pipeline(tmp_path: Path) -> None:
    """A 100-cluster bench document seeds over 3000 records and the states of its dead and live pipelines.

    How fast it loads is measured by bench.simulator_load, not asserted here.
    """
    path = tmp_path / "bench100.yaml"
    path.write_text(yaml.safe_dump(kubespray.bench_document(98, 2, 7)))
    store = Store()
    scenario = load_scenario(store, str(path))
    assert sum(store.count().values()) > 3000 and len(scenario.states) > 60


def test_unknown_cluster_option_is_rejected(tmp_path: Path) -> None:
    """A clusters: entry with an unknown option fails loading with a message naming it."""
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"extends": "empty", "clusters": [{"job": 1, "project": "elastx", "mastrs": 2}]}))
    with pytest.raises(ScenarioError, match="unknown option"):
        load_scenario(Store(), str(path))


def test_own_router_bastion_and_server_groups_options(tmp_path: Path) -> None:
    """router: own, bastions and server_group build <job>-router, a bastion and the fixed-name server groups."""
    path = tmp_path / "opts.yaml"
    path.write_text(yaml.safe_dump({"extends": "empty", "clusters": [
        {"job": 77, "project": "elastx", "fate": "dead", "router": "own", "bastions": 1, "server_group": True,
         "masters": 2}]}))
    store = Store()
    scenario = load_scenario(store, str(path))
    assert [r["name"] for r in store.iter("routers")] == ["77-router"]
    assert sorted(g["name"] for g in store.iter("server_groups")) == ["k8s-master-srvgrp", "k8s-node-srvgrp"]
    found = _instances(scenario.states["77/terraform.tfstate"])
    assert "module.network.openstack_networking_router_v2.k8s[0]" in found
    assert "module.compute.openstack_compute_instance_v2.bastion[0]" in found
    assert "module.compute.openstack_compute_instance_v2.k8s_master[1]" in found
    assert "module.compute.openstack_compute_servergroup_v2.k8s_master[0]" in found
