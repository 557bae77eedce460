"""A Kubespray CI project whose jobs GitLab knows: young finished jobs, old running ones, unknown ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.simulator.scenarios.kubespray import ELX_PUBLIC, SHARED_ROUTER

# job id -> (cluster spec, GitLab job status or None when GitLab does not know the job)
CLUSTERS: dict[int, tuple[dict[str, Any], str | None]] = {
    5001: ({"fate": "dead", "age_minutes": 30}, "failed"),  # young, state fresh: only GitLab can tell
    5002: ({"fate": "lost", "age_minutes": 40}, "canceled"),
    5003: ({"fate": "live", "age_hours": 5}, "running"),  # state locked
    5004: ({"fate": "lost", "age_hours": 6}, "running"),  # old, no state: only GitLab can tell it runs
    5005: ({"fate": "lost", "age_hours": 7}, "canceling"),  # its after_script destroys it
    5006: ({"fate": "lost", "age_minutes": 20}, None),  # GitLab does not know it: age decides (young: kept)
    5007: ({"fate": "lost", "age_hours": 8}, None),  # GitLab does not know it: age decides (old: deleted)
    5008: ({"fate": "dead", "age_hours": 9, "volumes_per_node": 1}, "success"),
}
FINISHED_YOUNG = (5001, 5002)
KEPT_LIVE = (5003, 5004, 5005)
DELETED = (5001, 5002, 5007, 5008)
KEPT = (5003, 5004, 5005, 5006)


def write_scenario(path: Path) -> Path:
    clusters = [{"job": job, "project": "elastx", **spec} for job, (spec, _) in CLUSTERS.items()]
    document = {
        "name": "gitlab-jobs", "description": "Kubespray CI clusters whose jobs GitLab knows", "extends": "empty",
        "external_network": {"name": "elx-public1", "id": ELX_PUBLIC, "cidr": "198.51.100.0/24",
                             "gateway_ip": "198.51.100.1"},
        "shared_routers": [{"project": "elastx", "name": "kubespray-ci-router", "id": SHARED_ROUTER}],
        "clusters": clusters,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def gitlab_jobs() -> list[dict[str, Any]]:
    return [{"id": job, "status": status, "age_minutes": 60} for job, (_, status) in CLUSTERS.items() if status]


def owned_by(names: set[str], job: int) -> set[str]:
    return {n for n in names if n.startswith(f"{job}-") or n in (f"ci-{job}", f"kubernetes-{job}")}
