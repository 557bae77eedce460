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
    load_balancer: bool = False
    occm_lb: bool = False
    occm_service: str = "ingress-nginx"
    subnet_cidr: str | None = None
    router: str | None = None  # None: the project's shared router (its own if it has none); "own"; a router name
    extra_leaked_fips: int = 0
    tofu_version: str = tf.TOFU_VERSION

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

    def record(self, address: str, attributes: dict[str, Any], *, index: int | None = None,
               private: str | None = None) -> None:
        self.records.append(tf.Recorded(address, index, attributes, self.when, private))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
