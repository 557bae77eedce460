"""Serve the simulator on 127.0.0.1: in a thread for tests, in the foreground for ``simulator serve``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from kubespray_cleanup.simulator.app import Simulator
from kubespray_cleanup.simulator.deployment import Deployment
from kubespray_cleanup.simulator.faults import FaultSpec
from kubespray_cleanup.simulator.keepalive import LoopbackServer
from kubespray_cleanup.simulator.latency import LatencyProfile
from kubespray_cleanup.simulator.ratelimit import RateLimiter, RateLimitSpec
from kubespray_cleanup.simulator.scenarios import Scenario, load_scenario
from kubespray_cleanup.simulator.store import Store

ADMIN_CLOUD = "admin"


class SimulatorServer(LoopbackServer):
    """A running simulator: its URL, its scenario's credentials and a ``clouds.yaml`` writer."""

    def __init__(self, scenario: str = "empty", host: str = "127.0.0.1", port: int = 0,
                 latency: LatencyProfile | str = "none", time_scale: float = 1.0,
                 faults: FaultSpec | str | None = None, request_log: IO[str] | None = None,
                 deployment: Deployment | None = None,
                 rate_limit: RateLimiter | RateLimitSpec | str | None = None) -> None:
        self.store = Store(time_scale=time_scale)
        if deployment is not None:  # before seeding: routers are created DVR/HA by the deployment's defaults
            self.store.deployment = deployment
        started = time.perf_counter()
        self.scenario: Scenario = load_scenario(self.store, scenario)
        self.load_seconds = time.perf_counter() - started
        self.simulator = Simulator(self.store, latency=latency, faults=faults, request_log=request_log,
                                   rate_limit=rate_limit)
        super().__init__(self.simulator, host, port)

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def clouds(self) -> dict[str, Any]:
        """``clouds.yaml`` content: one cloud per project (password auth) plus ``admin``."""
        clouds: dict[str, Any] = {}
        for cred in self.scenario.credentials:
            clouds[cred.cloud] = {
                "auth_type": "password",
                "auth": {"auth_url": self.auth_url, "username": cred.username, "password": cred.password,
                         "project_name": cred.project, "user_domain_name": "Default",
                         "project_domain_name": "Default"},
                "region_name": "RegionOne",
                "interface": "public",
                "identity_api_version": 3,
            }
        return {"clouds": clouds}

    def write_clouds_yaml(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.clouds(), sort_keys=False))
        return path

    def connect(self, cloud: str) -> Any:
        """An openstacksdk Connection for one of this simulator's clouds."""
        import openstack.config
        import openstack.connection

        config = openstack.config.OpenStackConfig(load_yaml_config=False, load_envvars=False)
        region = config.get_one(cloud=None, **self.clouds()["clouds"][cloud])
        return openstack.connection.Connection(config=region)


@contextlib.contextmanager
def running_simulator(scenario: str = "empty", **kwargs: Any) -> Iterator[SimulatorServer]:
    """Start a simulator on a free loopback port for the duration of a ``with`` block."""
    server = SimulatorServer(scenario, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
