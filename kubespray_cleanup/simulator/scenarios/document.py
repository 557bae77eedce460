"""Scenarios: declarative YAML/JSON files (or inventory dumps) that seed a simulator's store.

A scenario file::

    name: demo
    extends: empty              # optional base scenario (built-in name or path)
    projects: [elastx, other]   # each gets a user "<project>-ci" (password "<project>-password")
    external_network: {name: public, cidr: 198.51.100.0/24}
    shared_routers: [{project: elastx, name: kubespray-ci-router}]
    clusters:                   # Kubespray CI clusters built like contrib/terraform/openstack does
      - {job: 4711, project: elastx, state: live}
    inventory: dump.json        # raw records, shaped like shared/fixtures elastx-cluster.inventory.json
    resources: {networks: [...]} # raw records per table
    quotas:                     # limits per project and service (catalog type), over the services' defaults
      elastx: {compute: {instances: 4}, network: {floatingip: 2}, block-storage: {gigabytes: 50},
               load-balancer: {load_balancer: 1}}

Every project also gets its ``default`` security group; the ``admin`` cloud sees all projects.
A bare inventory dump (a JSON/YAML file with ``servers``/``ports`` ... at top level) is a scenario too.
Projects an inventory makes from its records' tenant ids are named ``project-<first 8 hex digits>``
and get a CI user and cloud like the listed ones; that user has the id the dump's servers (or, failing
those, its keypairs) name, so the dump's keypairs are that user's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

BUILTIN = ("empty", "demo", "kubespray", "kubespray-full", "bench", "gitlab")


@dataclass(frozen=True)
class Credential:
    cloud: str
    username: str
    password: str
    project: str


@dataclass
class Scenario:
    name: str
    description: str = ""
    credentials: list[Credential] = field(default_factory=list)
    # Terraform state documents the scenario's clusters left behind: file name -> state v4 dict.
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Cluster job ids by fate (live, dead, lost, partial) for demos and tests.
    clusters: dict[str, list[str]] = field(default_factory=dict)
    # POSIX mtime per state file: live = load time, dead/partial = when the apply last persisted it.
    state_mtimes: dict[str, float] = field(default_factory=dict)
    # ``.terraform.tfstate.lock.info`` JSON per state file whose pipeline still runs (the live ones).
    state_locks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Project name per cluster job id.
    cluster_projects: dict[str, str] = field(default_factory=dict)
    # GitLab job status per job id (``gitlab_jobs:``), for the simulated GitLab beside the cloud.
    gitlab_jobs: dict[str, str] = field(default_factory=dict)


class ScenarioError(ValueError):
    """A scenario name or file cannot be used."""


def _read(spec: str) -> dict[str, Any]:
    if spec in BUILTIN:
        text = importlib_resources.files("kubespray_cleanup.simulator.scenarios").joinpath(f"{spec}.yaml").read_text()
        source = spec
    else:
        path = Path(spec)
        if not path.is_file():
            raise ScenarioError(f"unknown scenario {spec!r} (built-in: {', '.join(BUILTIN)})")
        text = path.read_text()
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario {source}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario {source}: expected a mapping at top level")
    if "servers" in data or "ports" in data:  # a bare inventory dump
        data = {"name": Path(spec).stem, "inventory_data": data}
    data.setdefault("_base_dir", str(Path(spec).parent) if spec not in BUILTIN else "")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + [v for v in value if v not in merged[key]]
        else:
            merged[key] = value
    return merged


def resolve(spec: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The scenario document with its ``extends`` chain merged in."""
    if spec in _seen:
        raise ScenarioError(f"scenario {spec}: extends itself")
    data = _read(spec)
    base = data.pop("extends", None)
    if base:
        data = _merge(resolve(str(base), _seen + (spec,)), data)
    return data


def ago(hours: float = 0.0, minutes: float = 0.0) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours, minutes=minutes)


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
