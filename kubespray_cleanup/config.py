"""Profiles: which cloud, which resources are CI-made, who owns them, and what is never touched.

A profile is selected with ``--project NAME``. The built-in ``elastx`` profile encodes the
naming of Kubespray's elastx CI (``cluster_name=$CI_JOB_ID``, network ``ci-$CI_JOB_ID``, a shared
pre-created router, external network ``elx-public1``). A YAML config file adds or overrides
profiles::

    profiles:
      elastx:
        cloud: elastx
        min_age: 2h
        protected_names: [kubespray-ci-router]
      mylab:
        extends: elastx
        cloud: mylab
        owner_patterns:
          network: '^lab-(?P<owner>\\d+)$'
        gitlab: {url: https://gitlab.com, project: kargo-ci/kubernetes-sigs-kubespray, token_env: GITLAB_TOKEN,
                 cluster_jobs: '^tf-'}
        server_groups: [k8s-gpu-srvgrp]
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.errors import ConfigError
from kubespray_cleanup.model import Kind

# A CI job id: a bare number (10-11 digits on gitlab.com). Every name Kubespray's module gives a cluster
# ``C-...`` continues with a letter (``k8s``, ``etcd``, ``internal-network``, ``glusterfs_volume``, ``router``,
# ``api-loadbalancer``), so requiring one keeps CIDRs, addresses and dates (``10-0-0-1``, ``2026-11-25-backup``) out.
_JOB = r"(?P<owner>\d{4,12})"
_JOB_PREFIX = rf"^{_JOB}-[A-Za-z]"  # the CI project is CI-only: whatever follows, a job-prefixed name is the job's

ELASTX_PATTERNS: dict[Kind, tuple[str, ...]] = {
    **{kind: (_JOB_PREFIX,) for kind in Kind},
    Kind.NETWORK: (rf"^ci-{_JOB}$", _JOB_PREFIX),
    Kind.KEYPAIR: (rf"^kubernetes-{_JOB}$", _JOB_PREFIX),
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+|inf|nan)([eE][-+]?\d+)?\s*$", re.IGNORECASE)
MAX_DURATION = timedelta(days=3650)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int | float, what: str = "duration") -> timedelta:
    """``90s``, ``15m``, ``4h``, ``2d``, ``1w`` -> timedelta. A bare number is refused (is ``90`` seconds or
    minutes?), and so are negative, malformed and absurdly long durations: ConfigError."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ConfigError(f"{what}: {text!r} is not a duration like 30m, 4h or 2d")
    if isinstance(text, (int, float)) or _NUMBER.match(text):
        raise ConfigError(f"{what}: {text!r} has no unit: say 90s, 30m, 2h or 2d")
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{what}: {text!r} is not a duration like 30m, 4h or 2d")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise ConfigError(f"{what}: {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Profile:
    """Everything that decides what a run may delete in one project."""

    name: str
    cloud: str
    owner_patterns: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)
    external_networks: tuple[str, ...] = ()
    shared_routers: tuple[str, ...] = ()
    protected_names: tuple[str, ...] = ()
    protected_ids: tuple[str, ...] = ()
    live_owners: tuple[str, ...] = ()
    min_age: timedelta = timedelta(hours=2)
    state_max_age: timedelta = timedelta(hours=3)
    orphan_floating_ips: bool = True
    gitlab: Mapping[str, str] = field(default_factory=dict)  # url, project, token_env: where job statuses come from;
    # cluster_jobs: regex on job names, the jobs that create clusters (others never hold a server group's window)
    server_groups: tuple[str, ...] = ()  # k8s-K-srvgrp names of additional_server_groups (module: no job prefix)
    # Kubespray module variables of the cluster the next apply job creates (``tf-cleanup check``); values may
    # name CI variables (``ci-$CI_JOB_ID``). The job's own TF_VAR_* and ``--shape FILE`` override them.
    cluster_shape: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _patterns(self) -> dict[Kind, tuple[re.Pattern[str], ...]]:
        return {kind: tuple(re.compile(p) for p in self.owner_patterns.get(kind, ())) for kind in Kind}

    def owner_of_name(self, kind: Kind, name: str) -> str | None:
        """The owner (CI job id) a resource name carries, or None when it is not CI-made by name."""
        for pattern in self._patterns[kind]:
            match = pattern.match(name or "")
            if match:
                return match.group("owner")
        return None


# Kubespray's elastx CI job (tf-elastx_ubuntu24-calico): 1 master and 1 node with floating IPs, on the shared
# router, nothing else (etcd on the master, no bastion, no load balancer, no server groups).
ELASTX_SHAPE: dict[str, Any] = {
    "cluster_name": "$CI_JOB_ID", "network_name": "ci-$CI_JOB_ID", "number_of_k8s_masters": 1,
    "number_of_k8s_masters_no_etcd": 0, "number_of_k8s_masters_no_floating_ip": 0,
    "number_of_k8s_masters_no_floating_ip_no_etcd": 0, "number_of_etcd": 0, "number_of_k8s_nodes": 1,
    "number_of_k8s_nodes_no_floating_ip": 0, "number_of_bastions": 0, "number_of_gfs_nodes_no_floating_ip": 0,
    "flavor_k8s_master": "3f73fc93-ec61-4808-88df-2580d94c1a9b",  # v1-standard-2
    "flavor_k8s_node": "3f73fc93-ec61-4808-88df-2580d94c1a9b",
    "image": "ubuntu-24.04-server-latest", "router_id": "ab95917c-41fb-4881-b507-3a6dfe9403df",
    "external_net": "600b8501-78cb-4155-9c9f-23dfcba88828", "floatingip_pool": "elx-public1",
}

BUILTIN_PROFILES: dict[str, Profile] = {
    "elastx": Profile(
        name="elastx",
        cloud="elastx",
        owner_patterns=ELASTX_PATTERNS,
        external_networks=("elx-public1", "public"),
        shared_routers=("kubespray-ci-router", "ab95917c-41fb-4881-b507-3a6dfe9403df"),
        cluster_shape=ELASTX_SHAPE,
    ),
}

_FIELDS = {"cloud", "owner_patterns", "external_networks", "shared_routers", "protected_names", "protected_ids",
           "live_owners", "min_age", "state_max_age", "orphan_floating_ips", "extends", "gitlab", "cluster_shape",
           "server_groups"}
_GITLAB_FIELDS = ("url", "project", "token_env", "cluster_jobs")


def config_paths(explicit: str | None) -> list[Path]:
    """Config files in precedence order: ``--config``, ``./tf-cleanup.yaml``, the user config dir."""
    if explicit:
        return [Path(explicit)]
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [p for p in (Path("tf-cleanup.yaml"), base / "tf-cleanup" / "config.yaml") if p.is_file()]


def load_profiles(explicit: str | None = None) -> dict[str, Profile]:
    """Built-in profiles overlaid with the first config file found."""
    profiles = dict(BUILTIN_PROFILES)
    paths = config_paths(explicit)
    if not paths:
        return profiles
    path = paths[0]
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data: Any = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot read ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return profiles
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise ConfigError(f"config file {path}: expected a mapping with a 'profiles' mapping")
    for name, spec in (data.get("profiles") or {}).items():
        profiles[str(name)] = _profile_from(str(name), spec, profiles, path)
    return profiles


def _profile_from(name: str, spec: Any, known: Mapping[str, Profile], path: Path) -> Profile:
    where = f"config file {path}: profile {name}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    base_name = spec.get("extends", name if name in known else None)
    if base_name is not None and str(base_name) not in known:
        raise ConfigError(f"{where}: extends unknown profile {base_name!r}")
    base = known[str(base_name)] if base_name is not None else Profile(name=name, cloud=name)
    changes: dict[str, Any] = {"name": name}
    if "cloud" in spec:
        changes["cloud"] = _string(spec["cloud"], f"{where}: cloud")
    for key in ("external_networks", "shared_routers", "protected_names", "protected_ids", "live_owners",
                "server_groups"):
        if key in spec:
            changes[key] = _strings(spec[key], f"{where}: {key}")
    for key in ("min_age", "state_max_age"):
        if key in spec:
            changes[key] = parse_duration(spec[key], f"{where}: {key}")
    if "orphan_floating_ips" in spec:
        if not isinstance(spec["orphan_floating_ips"], bool):
            raise ConfigError(f"{where}: orphan_floating_ips must be true or false")
        changes["orphan_floating_ips"] = spec["orphan_floating_ips"]
    if "gitlab" in spec:
        changes["gitlab"] = _gitlab(spec["gitlab"], f"{where}: gitlab")
    if "cluster_shape" in spec:
        shape = spec["cluster_shape"]
        if not isinstance(shape, dict) or not all(isinstance(k, str) for k in shape):
            raise ConfigError(f"{where}: cluster_shape must map Kubespray variables to values")
        changes["cluster_shape"] = dict(shape)
    if "owner_patterns" in spec:
        changes["owner_patterns"] = {**base.owner_patterns, **_patterns(spec["owner_patterns"], where)}
    return replace(base, **changes)


def _gitlab(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with url, project, token_env, cluster_jobs")
    unknown = sorted(set(value) - set(_GITLAB_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
    if "project" in value and isinstance(value["project"], int) and not isinstance(value["project"], bool):
        value = {**value, "project": str(value["project"])}
    found = {key: _string(value[key], f"{where}.{key}") for key in _GITLAB_FIELDS if key in value}
    if "cluster_jobs" in found:
        try:
            re.compile(found["cluster_jobs"])
        except re.error as exc:
            raise ConfigError(f"{where}.cluster_jobs: bad regex ({exc})") from None
    return found


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def _patterns(value: Any, where: str) -> dict[Kind, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: owner_patterns must map kinds to regexes")
    result: dict[Kind, tuple[str, ...]] = {}
    for kind_name, pats in value.items():
        try:
            kind = Kind(str(kind_name))
        except ValueError:
            raise ConfigError(f"{where}: owner_patterns: unknown kind {kind_name!r}") from None
        strings = _strings(pats, f"{where}: owner_patterns.{kind_name}")
        for pattern in strings:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{where}: owner_patterns.{kind_name}: bad regex ({exc})") from None
            if "owner" not in compiled.groupindex:
                raise ConfigError(f"{where}: owner_patterns.{kind_name}: regex needs a (?P<owner>...) group")
        result[kind] = strings
    return result


def get_profile(name: str, config: str | None = None) -> Profile:
    profiles = load_profiles(config)
    if name not in profiles:
        raise ConfigError(f"unknown profile {name!r} (known: {', '.join(sorted(profiles))})")
    return profiles[name]
