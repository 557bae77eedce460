"""One Kubespray CI cluster as a scenario describes it (``ClusterSpec``) and as OpenTofu applies it
(``ClusterApply``: the apply's clock and the instances it writes to state), plus what all clusters share."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from kubespray_cleanup.simulator.scenarios import tfstate as tf
from kubespray_cleanup.simulator.scenarios.document import ScenarioError
from kubespray_cleanup.simulator.store import Project, Record, Store

FATES = ("live", "dead", "lost", "partial")
DNS_SERVERS = ["1.1.1.1", "8.8.8.8", "8.8.4.4"]
FLAVOR_NAME = "v1-standard-2"
IMAGE_NAME = "ubuntu-24.04-server-latest"
PERSIST_INTERVAL = 20  # seconds between OpenTofu state writes during an apply
STATE_FILE = "terraform.tfstate"


class ClusterSpecError(ScenarioError):
    """A ``clusters:`` entry of a scenario cannot be built."""


@dataclass(frozen=True)
class ClusterSpec:
    """One CI job's cluster, as a scenario's ``clusters:`` entry describes it."""

    job: str
    project: str
    fate: str
    age: timedelta
    masters: int = 1
    nodes: int = 1
    bastions: int = 0
    masters_with_fip: bool = True
    volumes_per_node: int = 0
    volume_size: int = 10
    server_group: bool = False
    etcd_server_group: bool = False  # etcd_server_group_policy set: k8s-etcd-srvgrp made even with 0 etcd hosts
    load_balancer: bool = False
    occm_lb: bool = False
    occm_service: str = "ingress-nginx"
    subnet_cidr: str | None = None
    router: str | None = None  # None: the project's shared router (its own if it has none); "own"; a router name
    extra_leaked_fips: int = 0
    tofu_version: str = tf.TOFU_VERSION
    # the rest of Kubespray's module (contrib/terraform/openstack); 0 / empty: not made, as in the elastx job
    masters_nf: int = 0  # C-k8s-master-nf-N (beside ``masters``)
    masters_ne: int = 0  # C-k8s-master-ne-N, with floating IPs
    masters_ne_nf: int = 0  # C-k8s-master-ne-nf-N
    etcd: int = 0  # C-etcd-N
    nodes_nf: int = 0  # C-k8s-node-nf-N
    gfs_nodes: int = 0  # C-gfs-node-nf-N, each with C-glusterfs_volume-N
    master_map: tuple[str, ...] = ()  # k8s_masters keys: C-k8s-K
    node_map: tuple[str, ...] = ()  # k8s_nodes keys: C-k8s-node-K
    extra_sec_groups: str | None = None  # extra_sec_groups_name: C-k8s-master-X, C-k8s-worker-X
    additional_server_groups: tuple[str, ...] = ()  # k8s-K-srvgrp, the k8s_nodes map hosts' groups
    root_volume_size: int = 0  # *_root_volume_size_in_gb: every host boots from a volume
    network_name: str | None = None  # var.network_name; None: the elastx CI's ci-<job>
    csi_volumes: int = 0  # volumes the Cinder CSI driver made after the apply (pvc-..., in no state)

    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> ClusterSpec:
        data = dict(entry)
        age = timedelta(minutes=float(data.pop("age_minutes", 0)), hours=float(data.pop("age_hours", 0)),
                        days=float(data.pop("age_days", 0)))
        known = {f.name for f in fields(cls)} - {"age"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ClusterSpecError(f"cluster {data.get('job')}: unknown option(s) {', '.join(unknown)}")
        if "job" not in data or "project" not in data:
            raise ClusterSpecError(f"cluster {data}: 'job' and 'project' are required")
        fate = str(data.pop("fate", "dead"))
        if fate not in FATES:
            raise ClusterSpecError(f"cluster {data['job']}: fate {fate!r} is not one of {', '.join(FATES)}")
        data["job"], data["project"] = str(data["job"]), str(data["project"])
        for key in ("master_map", "node_map", "additional_server_groups"):
            if key in data:
                data[key] = tuple(str(k) for k in data[key] or ())
        return cls(fate=fate, age=age if age > timedelta(0) else timedelta(hours=1), **data)


@dataclass
class Site:
    """What every cluster of a scenario shares: external network, routers, flavor, image, the clock's now."""

    store: Store
    now: datetime
    external: Record
    shared_routers: dict[str, list[Record]]  # project id -> routers
    flavor: Record
    image: Record
    used_cidrs: set[str]


class ClusterApply:
    """One ``tofu apply -parallelism=1``: a clock the store follows, and the instances written to state."""

    def __init__(self, site: Site, spec: ClusterSpec, project: Project, user_id: str) -> None:
        self.site, self.store, self.spec, self.project, self.user_id = site, site.store, spec, project, user_id
        self.pid = project.id
        self.rng = random.Random(f"kubespray-ci-{spec.project}-{spec.job}")
        self.start = site.now - spec.age
        self.when = self.start
        self.records: list[tf.Recorded] = []
        self.refs: dict[str, Any] = {}
        self.cut: datetime | None = None
        self.end = self.start
        self.at(self.start)

    def at(self, when: datetime) -> datetime:
        self.when = min(when, self.site.now)
        self.store.wall_offset = self.when - datetime.now(UTC)
        return self.when

    def tick(self, low: int, high: int) -> datetime:
        return self.at(self.when + timedelta(seconds=self.rng.randint(low, high)))

    def record(self, address: str, attributes: dict[str, Any], *, index: int | str | None = None,
               private: str | None = None) -> None:
        self.records.append(tf.Recorded(address, index, attributes, self.when, private))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
