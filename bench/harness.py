"""A freshly seeded simulator in its own process per run, so the cloud and the contender never share a GIL.

The process is ``tf-cleanup simulator serve`` plus two read-only listings every real cloud answers and the
simulator lacks (Neutron ``service-providers``, Cinder ``backups``): empty, as on a cloud without VPNaaS or
backups. Without them openstacksdk's ``project_cleanup`` stops at its first call; they are added only when the
simulator does not serve them itself. Ids and other random values follow the bench seed, so every contender
meets the very same cloud (same ids, same listing order) run after run.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.simulator.scenarios.bench import bench_document

_LAUNCH = "import sys; from bench.harness import launch; launch(sys.argv[1:])"
ROOT = Path(__file__).resolve().parents[1]
# (method, path) -> (collection key of the empty listing) that project_cleanup reads and the simulator may lack.
EMPTY_LISTINGS = {
    ("GET", "/network/v2.0/service-providers"): "service_providers",
    ("GET", "/volume/v3/<project_id>/backups"): "backups",
    ("GET", "/volume/v3/<project_id>/backups/detail"): "backups",
}


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>", "<>", path.rstrip("/"))


def add_missing_listings(routes: Any) -> list[str]:
    """Register :data:`EMPTY_LISTINGS` the simulator does not serve; returns the ones added."""
    from kubespray_cleanup.simulator.http import json_response

    served = {(rule.split(" ", 1)[0], _shape(rule.split(" ", 1)[1])) for rule in routes.handlers}
    added = []
    for (method, path), key in EMPTY_LISTINGS.items():
        if (method, _shape(path)) not in served:
            routes.add(method, path, lambda ctx, _key=key, **_: json_response({_key: []}))
            added.append(f"{method} {path}")
    return added


def seed_ids(seed: str) -> None:
    """Make the simulator's uuid4 ids and its ``random`` draws (MACs, VLAN ids, keys) repeatable."""
    from kubespray_cleanup.simulator.store import Store

    random.seed(f"bench-random-{seed}")
    ids = random.Random(f"bench-ids-{seed}")
    lock = threading.Lock()

    def new_uuid() -> uuid.UUID:
        with lock:
            return uuid.UUID(int=ids.getrandbits(128), version=4)

    Store.new_id = staticmethod(lambda: str(new_uuid()))  # type: ignore[method-assign]
    Store.new_hex_id = staticmethod(lambda: new_uuid().hex)  # type: ignore[method-assign]


def launch(argv: list[str]) -> None:
    """``tf-cleanup <argv>`` with :func:`add_missing_listings` (and seeded ids) in every simulator it builds."""
    from kubespray_cleanup.cli import main
    from kubespray_cleanup.simulator.app import Simulator

    if os.environ.get("BENCH_SIM_SEED"):
        seed_ids(os.environ["BENCH_SIM_SEED"])

    register = Simulator._register_services

    def register_all(self: Simulator) -> None:
        register(self)
        add_missing_listings(self.routes)

    Simulator._register_services = register_all  # type: ignore[method-assign]
    sys.argv = ["tf-cleanup", *argv]
    main()


@dataclass(frozen=True)
class Scenario:
    """One bench size: a scenario document and which job ids are leaked or live."""

    clusters: int
    live: int
    seed: int
    document: dict[str, Any] = field(hash=False, compare=False)

    @classmethod
    def make(cls, clusters: int, live: int, seed: int, variants: bool = False) -> Scenario:
        return cls(clusters, live, seed, bench_document(clusters, live, seed, variants))

    @property
    def leaked_jobs(self) -> frozenset[str]:
        return frozenset(str(c["job"]) for c in self.document["clusters"] if c.get("fate") != "live")

    @property
    def live_jobs(self) -> frozenset[str]:
        return frozenset(str(c["job"]) for c in self.document["clusters"] if c.get("fate") == "live")

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.document, sort_keys=False))
        return path


class SimProcess:
    """``tf-cleanup simulator serve`` on a free loopback port, with its clouds.yaml and Terraform states."""

    def __init__(self, scenario_file: Path, work: Path, latency: str, time_scale: float, seed: int | str = 1,
                 startup_timeout: float = 300.0, rate_limit: str | None = None) -> None:
        self.work = work
        self.clouds_yaml = work / "clouds.yaml"
        self.states_dir = work / "states"
        self.url = ""
        self._lines: list[str] = []
        self._ready = threading.Event()
        cmd = [sys.executable, "-c", _LAUNCH, "simulator", "serve", "--port", "0", "--scenario", str(scenario_file),
               "--latency", latency, "--time-scale", str(time_scale), "--clouds-yaml", str(self.clouds_yaml),
               "--states-dir", str(self.states_dir), *(["--rate-limit", rate_limit] if rate_limit else [])]
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "BENCH_SIM_SEED": str(seed)}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=ROOT)
        threading.Thread(target=self._read_stderr, daemon=True, name="sim-stderr").start()
        if not self._ready.wait(startup_timeout) or not self.url:
            self.stop()
            raise RuntimeError("simulator did not start: " + " | ".join(self._lines[-5:]))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.append(line.rstrip())
            if " at http://" in line and not self.url:
                self.url = line.split(" at ", 1)[1].split(",", 1)[0].strip()
                self._ready.set()
        self._ready.set()  # process ended

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    # --- the /_sim control routes -----------------------------------------------------------------
    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
        return json.loads(body) if body else None

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_sim/state")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_sim/stats")
        return result

    def reset_stats(self) -> None:
        self._call("DELETE", "/_sim/stats")

    def settle(self, limit: float) -> dict[str, Any]:
        """The state once every asynchronous operation already started has finished (or ``limit`` passed)."""
        deadline = time.monotonic() + limit
        while True:
            state = self.state()
            if not state.get("_pending_events") or time.monotonic() > deadline:
                return state
            time.sleep(0.05)
