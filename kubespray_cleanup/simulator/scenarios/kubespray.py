"""Seed Kubespray CI clusters (contrib/terraform/openstack, elastx job) and the Terraform states they left."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kubespray_cleanup.simulator import neutron, nova
from kubespray_cleanup.simulator.neutron.model import touch
from kubespray_cleanup.simulator.scenarios import hosts
from kubespray_cleanup.simulator.scenarios import tfstate as tf
from kubespray_cleanup.simulator.scenarios import tfstate_document as tfdoc
from kubespray_cleanup.simulator.scenarios.bench import ELX_PUBLIC, SHARED_ROUTER, bench_document
from kubespray_cleanup.simulator.scenarios.cluster import (
    DNS_SERVERS,
    FLAVOR_NAME,
    IMAGE_NAME,
    PERSIST_INTERVAL,
    STATE_FILE,
    ClusterApply,
    ClusterSpec,
    ClusterSpecError,
    Site,
)
from kubespray_cleanup.simulator.scenarios.document import Scenario
from kubespray_cleanup.simulator.scenarios.extras import csi_volumes, free_fip, loadbalancer, occm, volumes
from kubespray_cleanup.simulator.store import Project, Record, Store, iso

__all__ = ["ELX_PUBLIC", "SHARED_ROUTER", "STATE_FILE", "bench_document", "build_clusters", "write_states"]

# --- scenario entry point ------------------------------------------------------------------------------
def build_clusters(store: Store, scenario: Scenario, data: Mapping[str, Any], projects: Mapping[str, Project]) -> None:
    """Build every ``clusters:`` entry (and top-level ``leaked_fips:``) into ``store``; fill the scenario's states."""
    specs = sorted((ClusterSpec.parse(entry) for entry in data.get("clusters") or []), key=lambda s: -s.age)
    site = _site(store, data)
    _backdate_shared_routers(site, specs)
    saved = store.wall_offset
    try:
        for spec in specs:
            project = projects.get(spec.project) or store.project_by_name(spec.project)
            if project is None:
                raise ClusterSpecError(f"cluster {spec.job}: unknown project {spec.project!r}")
            apply = _build(site, spec, project)
            _remember(scenario, spec, apply)
        for entry in data.get("leaked_fips") or []:
            _leaked_fip(site, dict(entry), projects)
    finally:
        store.wall_offset = saved


def _site(store: Store, data: Mapping[str, Any]) -> Site:
    external = next((n for n in sorted(store.iter("networks"), key=lambda n: n["created_at"])
                     if n.get("router:external")), None)
    if external is None:
        raise ClusterSpecError("clusters need an external_network in the scenario")
    shared: dict[str, list[Record]] = {}
    for entry in data.get("shared_routers") or []:
        project = store.project_by_name(str(entry["project"]))
        named = (r for r in store.iter("routers", name=entry["name"]) if project and r["project_id"] == project.id)
        found = store.get("routers", str(entry["id"])) if entry.get("id") else next(named, None)
        if found is not None:
            shared.setdefault(found["project_id"], []).append(found)
    flavor = _pick(store, "flavors", FLAVOR_NAME)
    image = _pick(store, "images", IMAGE_NAME)
    return Site(store, datetime.now(UTC), external, shared, flavor, image,
                 {s["cidr"] for s in store.iter("subnets")})


def _backdate_shared_routers(site: Site, specs: list[ClusterSpec]) -> None:
    """The CI's shared router was made long before any job (seeding creates it "now")."""
    if not specs:
        return
    when = iso(site.now - specs[0].age - timedelta(days=400))
    for routers in site.shared_routers.values():
        for router in routers:
            router["created_at"] = min(str(router["created_at"]), when)


def _pick(store: Store, table: str, name: str) -> Record:
    rows = sorted(store.iter(table), key=lambda r: str(r["id"]))
    found = next((r for r in rows if r.get("name") == name), rows[0] if rows else None)
    if found is None:
        raise ClusterSpecError(f"clusters need at least one entry in {table}")
    return found


def _remember(scenario: Scenario, spec: ClusterSpec, apply: ClusterApply) -> None:
    scenario.clusters.setdefault(spec.fate, []).append(spec.job)
    scenario.cluster_projects[spec.job] = spec.project
    if spec.fate == "lost":
        return
    name = f"{spec.job}/{STATE_FILE}"
    stamp = apply.end if spec.fate != "partial" else (apply.cut or apply.end - timedelta(seconds=PERSIST_INTERVAL))
    records = [r for r in apply.records if r.done <= stamp]
    outputs = tfdoc.outputs(records, external_network_id=apply.site.external["id"],
                            subnet_id=apply.refs["subnet"]["id"], router_id=apply.refs["router_id"])
    serial = 2 + int((stamp - apply.start).total_seconds() // PERSIST_INTERVAL)
    scenario.states[name] = tfdoc.document(records, outputs=outputs, lineage=apply.uuid(), serial=serial,
                                        version=spec.tofu_version)
    if spec.fate == "live":
        scenario.state_mtimes[name] = time.time()
        scenario.state_locks[name] = {
            "ID": apply.uuid(), "Operation": "OperationTypeApply", "Info": "",
            "Who": f"root@runner-{apply.rng.randrange(16**8):08x}-project-6-concurrent-0",
            "Version": spec.tofu_version,
            "Created": apply.start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{apply.rng.randrange(10**9):09d}Z",
            "Path": STATE_FILE,
        }
    else:
        scenario.state_mtimes[name] = stamp.timestamp()


def write_states(scenario: Scenario, directory: Path) -> list[Path]:
    """Write each state file (with its mtime) and a ``.terraform.tfstate.lock.info`` beside locked ones."""
    written: list[Path] = []
    for name, state in sorted(scenario.states.items()):
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tfdoc.serialize(state))
        mtime = scenario.state_mtimes.get(name, time.time())
        os.utime(path, (mtime, mtime))
        written.append(path)
        lock = scenario.state_locks.get(name)
        if lock is not None:
            lock_path = path.with_name(f".{path.name}.lock.info")
            lock_path.write_text(json.dumps(lock))
            written.append(lock_path)
    return written


# --- one cluster ------------------------------------------------------------------------------------------
def _build(site: Site, spec: ClusterSpec, project: Project) -> ClusterApply:
    user = site.store.user_by_name(f"{spec.project}-ci")
    apply = ClusterApply(site, spec, project, user.id if user is not None else "")
    _network(apply)
    _ips(apply)
    _compute(apply)
    if spec.load_balancer:
        loadbalancer(apply)
    apply.end = apply.tick(1, 2)
    if spec.occm_lb:
        occm(apply)
    csi_volumes(apply)
    for _ in range(spec.extra_leaked_fips):
        free_fip(apply, apply.tick(30, 600))
    return apply


def _cidr(apply: ClusterApply) -> str:
    if apply.spec.subnet_cidr:
        apply.site.used_cidrs.add(apply.spec.subnet_cidr)
        return apply.spec.subnet_cidr
    while True:  # TF_VAR_subnet_cidr="10.$((RANDOM%256)).$((RANDOM%256)).0/24"; a clash would fail the apply
        cidr = f"10.{apply.rng.randrange(256)}.{apply.rng.randrange(256)}.0/24"
        if cidr not in apply.site.used_cidrs:
            apply.site.used_cidrs.add(cidr)
            return cidr


def _router(apply: ClusterApply) -> Record:
    choice, shared = apply.spec.router, apply.site.shared_routers.get(apply.pid, [])
    if choice != "own" and shared:
        found = shared[0] if choice is None else next((r for r in shared if r["name"] == choice), None)
        if found is None:
            raise ClusterSpecError(f"cluster {apply.spec.job}: no shared router named {choice!r}")
        apply.tick(2, 3)
        apply.record(tf.NET + "data.openstack_networking_router_v2.k8s", tf.router_data(found), index=0)
        return found
    when = apply.tick(2, 3)
    own = neutron.create_router(apply.store, apply.pid, f"{apply.spec.job}-router",
                                external_network_id=apply.site.external["id"], created_at=when)
    apply.record(tf.NET + "openstack_networking_router_v2.k8s", tf.router(own), index=0,
                 private=tf.private(create=10, delete=10, update=10))
    return own


def _network(apply: ClusterApply) -> None:
    job, store = apply.spec.job, apply.store
    router = _router(apply)
    net = neutron.create_network(store, apply.pid, apply.spec.network_name or f"ci-{job}", created_at=apply.tick(2, 3),
                                 mtu=1450)
    apply.record(tf.NET + "openstack_networking_network_v2.k8s", tf.network(net), index=0,
                 private=tf.private(create=10, delete=10))
    subnet = neutron.create_subnet(store, net["id"], _cidr(apply), name=f"{job}-internal-network",
                                   created_at=apply.tick(2, 4), dns_nameservers=list(DNS_SERVERS))
    apply.record(tf.NET + "openstack_networking_subnet_v2.k8s", tf.subnet(subnet), index=0,
                 private=tf.private(create=10, delete=10))
    apply.tick(3, 6)
    interface = neutron.add_router_interface(store, router["id"], subnet_id=subnet["id"])
    apply.record(tf.NET + "openstack_networking_router_interface_v2.k8s",
                 tf.router_interface(interface, router["id"], subnet["id"]), index=0,
                 private=tf.private(create=10, delete=10))
    apply.refs.update(router_id=router["id"], network=net, subnet=subnet)


def _ips(apply: ClusterApply) -> None:
    apply.tick(1, 1)
    apply.record(tf.IPS + "null_resource.dummy_dependency",
                 tf.null_resource(str(apply.rng.getrandbits(63)), f" {apply.refs['router_id']} "))
    hosts.floating_ips(apply)


def _public_key(apply: ClusterApply) -> str:
    """An ``ssh-keygen -t rsa`` style public key (random modulus), as the CI job generates one per run."""
    def blob(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    def mpint(value: int) -> bytes:
        return blob(value.to_bytes((value.bit_length() + 8) // 8, "big"))

    modulus = apply.rng.getrandbits(2048) | (1 << 2047) | 1
    key = base64.b64encode(blob(b"ssh-rsa") + mpint(65537) + mpint(modulus)).decode()
    return f"ssh-rsa {key} root@runner-{apply.spec.job}"


def _compute(apply: ClusterApply) -> None:
    apply.tick(1, 2)
    image = apply.site.image
    for name, most_recent in (("gfs_image", True), ("image_master", False), ("vm_image", True)):
        apply.record(tf.CMP + f"data.openstack_images_image_v2.{name}", tf.image(image, most_recent), index=0)
    apply.record(tf.CMP + "data.cloudinit_config.cloudinit", tf.cloudinit())
    keypair = nova.create_keypair(apply.store, apply.user_id, f"kubernetes-{apply.spec.job}", _public_key(apply),
                                  created_at=apply.tick(1, 2))
    apply.record(tf.CMP + "openstack_compute_keypair_v2.k8s", tf.keypair(keypair), private=tf.private())
    apply.refs["keypair"] = keypair
    _security_groups(apply)
    hosts.server_groups(apply)
    hosts.ports(apply)
    hosts.servers(apply)
    hosts.associate(apply)
    volumes(apply)
    hosts.glusterfs_volumes(apply)


def _security_groups(apply: ClusterApply) -> None:
    job, store, groups = apply.spec.job, apply.store, {}
    extra = apply.spec.extra_sec_groups
    wanted = list(tf.SECURITY_GROUPS) + ([("k8s_master_extra", 0, f"k8s-master-{extra}", "Kubernetes Master"),
                                          ("worker_extra", 0, f"k8s-worker-{extra}", "Kubernetes worker nodes")]
                                         if extra else [])
    for resource, index, suffix, description in wanted:
        group = neutron.create_security_group(store, apply.pid, f"{job}-{suffix}", description=f"{job} - {description}",
                                              created_at=apply.tick(1, 2))
        for rule_id in _newest_rules(store, group["id"]):  # delete_default_rules = true
            store.remove("security_group_rules", rule_id)
            touch(store, group)
        apply.record(tf.CMP + f"openstack_networking_secgroup_v2.{resource}", tf.security_group(group), index=index,
                     private=tf.private(delete=10))
        groups[resource] = group
    for spec in tf.RULES:
        group = groups[spec.group]
        rule = neutron.create_security_group_rule(
            store, group["id"], direction=spec.direction, ethertype=spec.ethertype, protocol=spec.protocol,
            port_range_min=spec.port_min, port_range_max=spec.port_max, remote_ip_prefix=spec.remote_ip,
            remote_group_id=group["id"] if spec.remote_self else None, created_at=apply.tick(1, 2))
        apply.record(tf.CMP + f"openstack_networking_secgroup_rule_v2.{spec.resource}",
                     tf.security_group_rule(rule), index=spec.index, private=tf.private(delete=10))
    apply.refs["groups"] = groups


def _newest_rules(store: Store, group_id: str) -> list[str]:
    """Ids of the rules Neutron just added to a new group (the table's last rows; no full scan)."""
    found = []
    for rule in reversed(store.table("security_group_rules").values()):
        if rule["security_group_id"] != group_id:
            break
        found.append(str(rule["id"]))
    return found


def _leaked_fip(site: Site, entry: dict[str, Any], projects: Mapping[str, Project]) -> None:
    """A floating IP some long-gone job left behind: DOWN, no port, in no state."""
    project = projects.get(str(entry.get("project"))) or site.store.project_by_name(str(entry.get("project")))
    if project is None:
        raise ClusterSpecError(f"leaked_fips: unknown project {entry.get('project')!r}")
    age = timedelta(days=float(entry.get("age_days", 0)), hours=float(entry.get("age_hours", 0)))
    when = site.now - age
    site.store.wall_offset = when - datetime.now(UTC)
    neutron.create_floating_ip(site.store, project.id, site.external["id"], created_at=when,
                               description=str(entry.get("description", "")))

