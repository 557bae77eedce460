"""A simulated cloud in which every record is attributed to the pipeline that made it, and the truth about it.

``build_world(document)`` seeds a ``Store`` from a scenario document: its base (projects, external
network, shared routers) through ``load_scenario``, then each ``clusters:`` entry through the same
``kubespray.build_clusters`` the loader calls, one at a time, so every new record is attributed to
its job; then ``leaked_fips:`` and the test-only ``links:`` (cross-cluster security-group rules,
volumes attached across clusters, pre-created ports, state entries dropped).

``World.truth()`` derives from the records, not from the planner's decisions, the nodes the cleanup
sees (``kind:id`` as the planner names them), the ordering the simulator enforces between them, what
must be kept (running pipelines, protected objects, the other project, and everything those depend
on), and what is dangling and must go. Shared with the engine on purpose: its lists of Neutron-owned
port types (never cleanup nodes) and its state parser (to hand the planner the scenario's states).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx

from kubespray_cleanup.kinds.base import AUTO_PORT_OWNERS, ROUTER_INTERFACE_OWNERS, SERVICE_PORT_OWNERS
from kubespray_cleanup.simulator import cinder, neutron, nova
from kubespray_cleanup.simulator.scenarios import Scenario, kubespray, load_scenario, resolve
from kubespray_cleanup.simulator.server import SimulatorServer
from kubespray_cleanup.simulator.store import Record, Store
from kubespray_cleanup.sources.terraform_state import StateFile, parse_state

SHARED_ROUTER = kubespray.SHARED_ROUTER
ORPHAN = "orphan-fip"  # owner of top-level leaked_fips: leaked, in no state, no pipeline
BASE = ""  # owner of what the scenario base made (external network, shared router, default groups)
MIN_AGE = timedelta(hours=2)  # the elastx profile's default min_age
_MANAGED_PORT_OWNERS = AUTO_PORT_OWNERS | SERVICE_PORT_OWNERS
_TABLE_KINDS = {"servers": "server", "networks": "network", "subnets": "subnet", "routers": "router",
                "security_groups": "security_group", "floating_ips": "floating_ip", "server_groups": "server_group",
                "volumes": "volume", "snapshots": "snapshot", "load_balancers": "load_balancer"}


def base_document(**overrides: Any) -> dict[str, Any]:
    """The base every generated topology shares: the two projects, elx-public1 and the shared CI router."""
    doc: dict[str, Any] = {
        "name": "topology", "extends": "empty",
        "external_network": {"name": "elx-public1", "id": kubespray.ELX_PUBLIC, "cidr": "198.51.100.0/24",
                             "gateway_ip": "198.51.100.1"},
        "shared_routers": [{"project": "elastx", "name": "kubespray-ci-router", "id": SHARED_ROUTER}],
        "clusters": [], "leaked_fips": [], "links": {},
    }
    doc.update(overrides)
    return doc


def cluster_age(entry: dict[str, Any]) -> timedelta:
    return timedelta(minutes=float(entry.get("age_minutes", 0)), hours=float(entry.get("age_hours", 0)),
                     days=float(entry.get("age_days", 0))) or timedelta(hours=1)


@dataclass
class World:
    store: Store
    scenario: Scenario
    document: dict[str, Any]
    owner: dict[tuple[str, Any], str]  # (table, store id) -> job id, ORPHAN or BASE
    projects: dict[str, str]  # name -> id
    running: set[str]  # jobs whose pipeline is (or may be) still running
    leaked: set[str]  # jobs whose pipeline is gone (dead, lost, partial), plus ORPHAN
    job_project: dict[str, str]  # job -> project name
    protected_names: tuple[str, ...] = ()
    _states: list[StateFile] | None = field(default=None, repr=False)

    # --- records and nodes ------------------------------------------------------------------------
    def records(self, table: str) -> list[Record]:
        return list(self.store.table(table).values())

    def project_of(self, table: str, record: Record) -> str:
        job = self.owner.get((table, record["id"]), BASE)
        if job in self.job_project:
            return self.projects[self.job_project[job]]
        return str(record.get("project_id") or record.get("tenant_id") or "")

    def node_key(self, table: str, record: Record) -> str | None:
        """The planner's node name for a record, or None when the cleanup never handles it directly."""
        if table == "ports":
            owner = str(record.get("device_owner") or "")
            if owner in ROUTER_INTERFACE_OWNERS:
                return f"router_interface:{record['id']}"
            if owner in _MANAGED_PORT_OWNERS or str(record.get("name", "")).startswith(("octavia-lb-", "ovn-lb-")):
                return None
            return f"port:{record['id']}"
        if table == "keypairs":
            return f"keypair:{record['name']}"
        kind = _TABLE_KINDS.get(table)
        return f"{kind}:{record['id']}" if kind else None

    def truth(self, project: str = "elastx") -> Truth:
        return Truth(self, self.projects[project])

    # --- states --------------------------------------------------------------------------------------
    def state_files(self) -> list[StateFile]:
        """The scenario's states as the CLI would read them from ``write_states``' directory (parsed once)."""
        if self._states is None:
            self._states = []
            for name, doc in sorted(self.scenario.states.items()):
                mtime = datetime.fromtimestamp(self.scenario.state_mtimes.get(name, 0.0), UTC)
                self._states.append(parse_state(json.dumps(doc), name, modified_at=mtime,
                                                locked=name in self.scenario.state_locks))
        return self._states

    def serve(self, *, latency: str = "fast", time_scale: float = 200.0, faults: str | None = None,
              request_log: Any = None, rate_limit: str | None = None) -> SimulatorServer:
        """A started simulator serving this world's store (the server is made empty, then given the store)."""
        server = SimulatorServer("empty", latency=latency, time_scale=time_scale, faults=faults,
                                 request_log=request_log, rate_limit=rate_limit)
        self.store.time_scale = time_scale
        self.store.token_ttl = server.store.token_ttl
        server.store = server.simulator.store = self.store
        server.scenario = self.scenario
        return server.start()


@dataclass
class Truth:
    """Nodes the cleanup of one project sees, the enforced order between them, kept and dangling sets."""

    world: World
    project_id: str
    nodes: dict[str, tuple[str, Record]] = field(default_factory=dict)  # key -> (table, record)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)  # a -> b: a must be gone before b is deleted

    def __post_init__(self) -> None:
        w = self.world
        for table in (*_TABLE_KINDS, "ports", "keypairs"):
            for record in w.records(table):
                key = w.node_key(table, record)
                if key is not None and w.project_of(table, record) == self.project_id:
                    self.nodes[key] = (table, record)
        self.graph.add_nodes_from(self.nodes)
        for before, after in self._edges():
            if before in self.nodes and after in self.nodes and before != after:
                self.graph.add_edge(before, after)

    def _edges(self) -> Iterator[tuple[str, str]]:
        store = self.world.store
        interfaces: dict[tuple[str, str], str] = {}
        for port in store.table("ports").values():
            key = self.world.node_key("ports", port)
            if key is None:
                continue
            subnets = [str(ip["subnet_id"]) for ip in port.get("fixed_ips") or ()]
            yield key, f"network:{port['network_id']}"
            for subnet in subnets:
                yield key, f"subnet:{subnet}"
            if key.startswith("router_interface:"):
                yield key, f"router:{port['device_id']}"
                for subnet in subnets:
                    interfaces[(str(port["device_id"]), subnet)] = key
                continue
            for sg in port.get("security_groups") or ():
                yield key, f"security_group:{sg}"
            if port.get("device_id") and store.get("servers", str(port["device_id"])) is not None:
                yield f"server:{port['device_id']}", key
        for volume in store.table("volumes").values():
            for attachment in volume.get("attachments") or ():
                yield f"server:{attachment['server_id']}", f"volume:{volume['id']}"
        for server in store.table("servers").values():
            if server.get("key_name"):
                yield f"server:{server['id']}", f"keypair:{server['key_name']}"
        for group in store.table("server_groups").values():
            for member in group.get("members") or ():
                yield f"server:{member}", f"server_group:{group['id']}"
        for sub in store.table("subnets").values():
            yield f"subnet:{sub['id']}", f"network:{sub['network_id']}"
        for rule in store.table("security_group_rules").values():
            if rule.get("remote_group_id"):
                yield f"security_group:{rule['security_group_id']}", f"security_group:{rule['remote_group_id']}"
        for lb in store.table("load_balancers").values():
            yield f"load_balancer:{lb['id']}", f"subnet:{lb.get('vip_subnet_id')}"
            yield f"load_balancer:{lb['id']}", f"network:{lb.get('vip_network_id')}"
        for fip in store.table("floating_ips").values():
            if fip.get("router_id") and fip.get("port_id"):
                yield f"floating_ip:{fip['id']}", f"router:{fip['router_id']}"
                holder = store.get("ports", str(fip["port_id"])) or {}
                for ip in holder.get("fixed_ips") or ():
                    if ip.get("ip_address") == fip.get("fixed_ip_address"):
                        iface = interfaces.get((str(fip["router_id"]), str(ip["subnet_id"])))
                        if iface:
                            yield f"floating_ip:{fip['id']}", iface

    # --- what must stay, what must go ------------------------------------------------------------
    def _owner(self, key: str) -> str:
        table, record = self.nodes[key]
        return self.world.owner.get((table, record["id"]), BASE)

    @cached_property
    def seeds(self) -> set[str]:
        """Kept for a reason of their own: a running pipeline's, the base's, protected by name."""
        w = self.world
        kept = set()
        for key, (_, record) in self.nodes.items():
            owner = self._owner(key)
            if owner not in w.leaked or record.get("name") in w.protected_names:
                kept.add(key)
        return kept

    @cached_property
    def declared(self) -> nx.DiGraph:
        """What depends on what: the enforced order plus what a port needs to stay useful (the router interface
        routing its subnets, its floating IPs). Terraform's ``dependencies`` are ordering, not need: not here."""
        graph = self.graph.copy()
        store = self.world.store
        routed: dict[str, list[str]] = {}
        for key, (_, record) in self.nodes.items():
            if key.startswith("router_interface:"):
                for ip in record.get("fixed_ips") or ():
                    routed.setdefault(str(ip["subnet_id"]), []).append(key)
        for key, (_, record) in self.nodes.items():
            if key.startswith("port:"):
                for ip in record.get("fixed_ips") or ():
                    graph.add_edges_from((key, iface) for iface in routed.get(str(ip["subnet_id"]), ()))
                graph.add_edges_from((key, f"floating_ip:{fip['id']}") for fip in store.table("floating_ips").values()
                                     if fip.get("port_id") == record["id"] and f"floating_ip:{fip['id']}" in self.nodes)
        return graph

    @cached_property
    def kept(self) -> set[str]:
        """The seeds and everything they depend on (ports, volumes, groups, subnets, interfaces, routers ...)."""
        kept = set(self.seeds)
        for key in self.seeds:
            kept |= nx.descendants(self.declared, key)
        return kept

    @cached_property
    def dangling(self) -> set[str]:
        return {k for k in self.nodes if self._owner(k) in self.world.leaked} - self.kept

    def ids(self, keys: Iterable[str]) -> set[str]:
        """Store ids (keypairs: names) of ``keys``."""
        return {str(self.nodes[k][1]["name"] if k.startswith("keypair:") else self.nodes[k][1]["id"])
                for k in keys}

    def present(self, key: str) -> bool:
        table, record = self.nodes[key]
        if table == "keypairs":
            return any(k.get("name") == record["name"] and k.get("_user_id") == record.get("_user_id")
                       for k in self.world.store.table("keypairs").values())
        return self.world.store.get(table, record["id"]) is not None

    def order_violations(self, order: list[str]) -> list[str]:
        """Enforced edges the order breaks (both ends scheduled, the later one first).

        A kept floating IP is scheduled as its association; edges inside a cycle (mutual
        security-group references) have no order and are skipped.
        """
        position = {k.replace("floating_ip_association:", "floating_ip:"): i for i, k in enumerate(order)}
        cyclic = {n for scc in nx.strongly_connected_components(self.graph) if len(scc) > 1 for n in scc}
        return [f"{a} must precede {b}" for a, b in self.graph.edges
                if a in position and b in position and position[a] > position[b]
                and not (a in cyclic and b in cyclic)]

    def other_project_ids(self) -> set[str]:
        """Ids of every record the world attributes to a project other than this one."""
        found = set()
        for table in self.world.store.tables:
            for record in self.world.store.table(table).values():
                project = self.world.project_of(table, record)
                if project and project != self.project_id and isinstance(record.get("id"), str):
                    found.add(record["id"])
        return found


# --- building ----------------------------------------------------------------------------------------
def _ids(store: Store) -> set[tuple[str, Any]]:
    return {(table, rid) for table, rows in store.tables.items() for rid in rows}


def build_world(document: dict[str, Any] | str, protected_names: Iterable[str] = ()) -> World:
    """Seed a store from a scenario document (or built-in name), attributing every record to its job."""
    doc = resolve(document) if isinstance(document, str) else dict(document)
    base = {k: v for k, v in doc.items() if k not in ("clusters", "leaked_fips", "links", "protected_names")}
    store = Store()
    with tempfile.TemporaryDirectory(prefix="world-") as tmp:
        path = Path(tmp) / "base.json"
        path.write_text(json.dumps(base))
        scenario = load_scenario(store, str(path))
    projects = {p.name: p for p in store.projects.values()}
    owner: dict[tuple[str, Any], str] = dict.fromkeys(_ids(store), BASE)
    running: set[str] = set()
    leaked: set[str] = {ORPHAN}
    job_project: dict[str, str] = {}
    routers = {"shared_routers": doc.get("shared_routers") or []}
    for entry in sorted(doc.get("clusters") or [], key=lambda e: -cluster_age(e)):
        job = str(entry["job"])
        if job in job_project:
            raise ValueError(f"job {job} appears twice (state files are named by job)")
        before = _ids(store)
        kubespray.build_clusters(store, scenario, {"clusters": [entry], **routers}, projects)
        owner.update(dict.fromkeys(_ids(store) - before, job))
        job_project[job] = str(entry["project"])
        young = cluster_age(entry) < MIN_AGE + timedelta(minutes=5)
        (running if entry.get("fate") == "live" or young else leaked).add(job)
    if doc.get("leaked_fips"):
        before = _ids(store)
        kubespray.build_clusters(store, scenario, {"leaked_fips": doc["leaked_fips"], **routers}, projects)
        owner.update(dict.fromkeys(_ids(store) - before, ORPHAN))
    world = World(store, scenario, doc, owner, {n: p.id for n, p in projects.items()}, running, leaked,
                  job_project, tuple(protected_names) + tuple(doc.get("protected_names") or ()))
    _links(world, doc.get("links") or {})
    return world


def _of(world: World, job: str, table: str, predicate: Any = None) -> list[Record]:
    return [r for (t, rid), o in world.owner.items() if t == table and o == job
            for r in [world.store.get(table, rid)] if r is not None and (predicate is None or predicate(r))]


def _when(world: World, job: str, minutes: float) -> datetime:
    entry = next(e for e in world.document["clusters"] if str(e["job"]) == job)
    return datetime.now(UTC) - cluster_age(entry) + timedelta(minutes=minutes)


def _links(world: World, links: dict[str, Any]) -> None:
    """Cross-cluster objects; a link whose ends do not exist (no server, other project) is skipped."""
    store, elastx = world.store, world.projects["elastx"]
    for n, ref in enumerate(links.get("sg_refs") or ()):
        (src_job, src_sg), (dst_job, dst_sg) = ref["from"], ref["to"]
        src = [g for g in _of(world, str(src_job), "security_groups") if g["name"] == f"{src_job}-{src_sg}"]
        dst = [g for g in _of(world, str(dst_job), "security_groups") if g["name"] == f"{dst_job}-{dst_sg}"]
        if src and dst:
            before = _ids(store)
            neutron.create_security_group_rule(store, src[0]["id"], direction="ingress", protocol="tcp",
                                               port_range_min=10250 + n, port_range_max=10250 + n,
                                               remote_group_id=dst[0]["id"],
                                               created_at=_when(world, str(src_job), 5))
            world.owner.update(dict.fromkeys(_ids(store) - before, str(src_job)))
    for n, link in enumerate(links.get("volumes") or ()):
        job, host = str(link["owner"]), str(link["server_of"])
        servers = sorted(_of(world, host, "servers"), key=lambda s: s["name"])
        if not servers or world.job_project.get(job) != "elastx" or world.job_project.get(host) != "elastx":
            continue
        before = _ids(store)
        volume = cinder.create_volume(store, elastx, f"{job}-shared-volume-{n + 1}", 5,
                                      created_at=_when(world, job, 6))
        nova.attach_volume(store, servers[0]["id"], volume["id"])
        world.owner.update(dict.fromkeys(_ids(store) - before, job))
    for n, link in enumerate(links.get("ports") or ()):
        job, net_of = str(link["owner"]), str(link["network_of"])
        nets = _of(world, net_of, "networks")
        subnets = _of(world, net_of, "subnets")
        if not nets or not subnets or world.job_project.get(job) != "elastx" or \
                world.job_project.get(net_of) != "elastx":
            continue
        groups = [g["id"] for g in _of(world, job, "security_groups") if g["name"] == f"{job}-k8s"]
        before = _ids(store)
        neutron.create_port(store, nets[0]["id"], elastx, name=f"{job}-k8s-node-{60 + n}",
                            fixed_ips=[{"subnet_id": subnets[0]["id"]}], security_group_ids=groups,
                            created_at=_when(world, job, 7))
        world.owner.update(dict.fromkeys(_ids(store) - before, job))
    for drop in links.get("state_drops") or ():
        state = world.scenario.states.get(f"{drop['job']}/{kubespray.STATE_FILE}")
        if state is None:
            continue
        every, offset = int(drop["every"]), int(drop["offset"])
        kept = [r for i, r in enumerate(state["resources"]) if r["mode"] != "managed" or (i + offset) % every]
        if any(r["mode"] == "managed" for r in kept):  # a state with no resource left is another case
            state["resources"] = kept
