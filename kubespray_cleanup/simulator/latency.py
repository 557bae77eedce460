"""Latency profiles: per-request delay and per-operation durations, in simulated seconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class LatencyProfile:
    """How long requests and asynchronous operations take (before ``--time-scale``).

    ``request`` is the base delay of every API request; ``services`` overrides it
    per service prefix (``network``, ``compute`` ...); ``operations`` are the
    durations of asynchronous work (``server.delete``, ``volume.delete``,
    ``load_balancer.delete``, ``load_balancer.child_delete``, ``server.build``, ``server.release``: how
    long after a deleted server leaves the list its ports are unbound and volumes detached ...).
    """

    name: str
    request: float = 0.0
    services: dict[str, float] = field(default_factory=dict)
    operations: dict[str, float] = field(default_factory=dict)

    def request_delay(self, method: str, route: str) -> float:
        path = route.split(" ", 1)[-1]
        service = path.strip("/").split("/", 1)[0]
        return self.services.get(service, self.request)

    def operation(self, name: str) -> float:
        return self.operations.get(name, 0.0)


# Relative durations follow openstack-dependencies.md §11: Neutron is synchronous and fast,
# Nova deletes take seconds, Cinder seconds, Octavia cascade deletes tens of seconds.
_REALISTIC_OPERATIONS = {
    "server.build": 15.0,
    "server.delete": 6.0,
    # Nova's lag: the deleted server leaves the list a moment before its ports are unbound and volumes detached.
    "server.release": 1.0,
    "volume.create": 3.0,
    "volume.delete": 4.0,
    "volume.detach": 2.0,
    "snapshot.create": 2.0,
    "snapshot.delete": 2.0,
    "load_balancer.create": 30.0,
    "load_balancer.delete": 20.0,
    "load_balancer.child_delete": 3.0,
}

PROFILES: dict[str, LatencyProfile] = {
    "none": LatencyProfile("none"),
    "fast": LatencyProfile("fast", request=0.0, operations={k: v / 10 for k, v in _REALISTIC_OPERATIONS.items()}),
    "realistic": LatencyProfile(
        "realistic",
        request=0.05,
        services={"identity": 0.08, "network": 0.04, "compute": 0.06, "volume": 0.06, "load-balancer": 0.05,
                  "image": 0.03},
        operations=dict(_REALISTIC_OPERATIONS),
    ),
}


def get_profile(spec: str) -> LatencyProfile:
    """A built-in profile by name, or one loaded from a YAML/JSON file path."""
    if spec in PROFILES:
        return PROFILES[spec]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"unknown latency profile {spec!r} (built-in: {', '.join(sorted(PROFILES))})")
    data: Any = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"latency profile {spec}: expected a mapping")
    return LatencyProfile(
        name=str(data.get("name", path.stem)),
        request=float(data.get("request", 0.0)),
        services={str(k): float(v) for k, v in (data.get("services") or {}).items()},
        operations={str(k): float(v) for k, v in (data.get("operations") or {}).items()},
    )
