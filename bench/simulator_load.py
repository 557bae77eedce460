"""Load test of the bundled OpenStack simulator: it must never be a benchmark's bottleneck.

``python -m bench.simulator_load`` seeds a Kubespray CI scenario of ~300 clusters (>10,000 records),
serves it with ``tf-cleanup simulator serve`` in a subprocess on 127.0.0.1, and drives it with
concurrent clients (threads, one HTTP session and keep-alive connection each) doing a fixed mix of
filtered lists and gets, bounded in request count and wall time. It prints the load time, requests/s,
client-side p50/p95/p99 latency, the simulator's own time per request (measured inside the WSGI app,
``/_sim/stats``) and the simulator's peak RSS.

``--profile FILE`` instead runs the scenario load and the same request mix in this process, serially
through the WSGI app (no sockets), under cProfile, and prints the hottest functions.

Traffic goes only to the loopback address the simulator printed; every loop is bounded.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from kubespray_cleanup.simulator.scenarios.bench import bench_document

_URL_LINE = re.compile(r"loaded in ([0-9.]+) s\) at (http://\S+?)(?:,|$)")
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Call:
    kind: str
    path: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --- the scenario and the simulator process -------------------------------------------------------
def write_scenario(directory: Path, clusters: int, live: int, seed: int) -> Path:
    path = directory / "bench-load.yaml"
    path.write_text(yaml.safe_dump(bench_document(clusters - live, live, seed), sort_keys=False))
    return path


def start_simulator(scenario: Path, timeout: float) -> tuple[subprocess.Popen[str], str, float, float]:
    """``tf-cleanup simulator serve --port 0``; returns the process, its URL, load and startup seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubespray_cleanup", "simulator", "serve", "--host", "127.0.0.1", "--port", "0",
         "--latency", "none", "--scenario", str(scenario)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = started + timeout
    seen: list[str] = []
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.perf_counter()))
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line.rstrip())
        match = _URL_LINE.search(line)
        if match:
            url = match.group(2)
            if urlsplit(url).hostname not in _LOOPBACK:
                stop_simulator(proc)
                raise SystemExit(f"simulator printed a non-loopback URL: {url}")
            return proc, url, float(match.group(1)), time.perf_counter() - started
    stop_simulator(proc)
    raise SystemExit("simulator did not start: " + " | ".join(seen[-5:]))


def stop_simulator(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return int(proc.returncode)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of ``pid`` in MiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


# --- the workload -----------------------------------------------------------------------------------
def token(session: requests.Session, url: str, project: str) -> str:
    body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": f"{project}-ci", "password": f"{project}-password", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    answer = session.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
    answer.raise_for_status()
    return str(answer.headers["X-Subject-Token"])


def workload(state: dict[str, Any], project: str, count: int, seed: int) -> list[Call]:
    """``count`` calls drawn (reproducibly) from a mix that looks like a cleanup run's lookups."""
    project_id = next(p["id"] for p in state["_projects"] if p["name"] == project)
    mine = {table: [r for r in state.get(table, []) if r.get("project_id", r.get("tenant_id")) == project_id]
            for table in ("networks", "servers", "ports", "floating_ips", "volumes", "load_balancers", "routers")}
    nets = [n for n in mine["networks"] if str(n["name"]).startswith("ci-")]
    servers, ports = mine["servers"], mine["ports"]
    jobs = [str(n["name"])[3:] for n in nets]
    router = mine["routers"][0]["id"]
    rng = random.Random(seed)
    # (weight, kind, path maker)
    mix: list[tuple[int, str, Any]] = [
        (20, "ports?network_id", lambda: f"/network/v2.0/ports?network_id={rng.choice(nets)['id']}"),
        (12, "ports?device_id", lambda: f"/network/v2.0/ports?device_id={rng.choice(servers)['id']}"),
        (10, "port", lambda: f"/network/v2.0/ports/{rng.choice(ports)['id']}"),
        (10, "server", lambda: f"/compute/v2.1/servers/{rng.choice(servers)['id']}"),
        (8, "subnets?network_id", lambda: f"/network/v2.0/subnets?network_id={rng.choice(nets)['id']}"),
        (8, "floatingips?port_id", lambda: f"/network/v2.0/floatingips?port_id={rng.choice(ports)['id']}"),
        (8, "networks?name", lambda: f"/network/v2.0/networks?name=ci-{rng.choice(jobs)}"),
        (6, "security-groups?name", lambda: f"/network/v2.0/security-groups?name={rng.choice(jobs)}-k8s"),
        (6, "servers/detail?name", lambda: f"/compute/v2.1/servers/detail?name=%5E{rng.choice(jobs)}-"),
        (4, "volume", lambda: f"/volume/v3/{project_id}/volumes/{rng.choice(mine['volumes'])['id']}"),
        (4, "loadbalancer",
         lambda: f"/load-balancer/v2/lbaas/loadbalancers/{rng.choice(mine['load_balancers'])['id']}"),
        (2, "ports?router_interface", lambda: f"/network/v2.0/ports?device_id={router}"
                                              "&device_owner=network:router_interface"),
        (1, "networks (all)", lambda: "/network/v2.0/networks"),
        (1, "servers/detail (all)", lambda: "/compute/v2.1/servers/detail"),
    ]
    kinds = [m for m in mix if m[1] not in ("volume", "loadbalancer") or mine[
        "volumes" if m[1] == "volume" else "load_balancers"]]
    weights = [m[0] for m in kinds]
    return [Call(choice[1], choice[2]()) for choice in rng.choices(kinds, weights, k=count)]


def drive(url: str, auth: str, calls: list[Call], clients: int, max_seconds: float) -> tuple[Results, float]:
    """Run ``calls`` on ``clients`` threads until done or ``max_seconds`` passed; returns results and wall time."""
    results = Results()
    next_index = itertools.count()
    deadline = time.perf_counter() + max_seconds
    start = threading.Barrier(clients + 1)

    def client() -> None:
        session = requests.Session()
        session.headers.update({"X-Auth-Token": auth, "Accept": "application/json"})
        start.wait()
        while time.perf_counter() < deadline:
            index = next(next_index)
            if index >= len(calls):
                break
            call = calls[index]
            began = time.perf_counter()
            try:
                ok = session.get(url + call.path, timeout=60).status_code == 200
            except requests.RequestException:
                ok = False
            results.add(call.kind, time.perf_counter() - began, ok)
        session.close()

    threads = [threading.Thread(target=client, name=f"client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.perf_counter() + 65))
    return results, time.perf_counter() - began


# --- reporting ----------------------------------------------------------------------------------------
def summary(results: Results, wall: float, stats: dict[str, Any], load: float, startup: float,
            rss: tuple[float, float], peak: float, resources: int, clients: int) -> dict[str, Any]:
    every = [s for values in results.latencies.values() for s in values]
    total = int(stats.get("total") or 0)
    return {
        "resources": resources, "load_seconds": round(load, 2), "startup_seconds": round(startup, 2),
        "clients": clients, "requests": len(every), "errors": sum(results.errors.values()),
        "wall_seconds": round(wall, 2), "requests_per_second": round(len(every) / wall, 1) if wall else 0.0,
        "latency_ms": {name: round(percentile(every, pct) * 1000, 2)
                       for name, pct in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        "simulator": {
            "handler_ms_mean": round(float(stats.get("handler_seconds_total", 0.0)) / total * 1000, 3)
            if total else 0.0,
            "handler_ms_max": round(float(stats.get("handler_seconds_max", 0.0)) * 1000, 2),
            "locked_ms_mean": round(float(stats.get("locked_seconds_total", 0.0)) / total * 1000, 3)
            if total else 0.0,
            "busy_fraction": round(float(stats.get("locked_seconds_total", 0.0)) / wall, 3) if wall else 0.0,
            "rss_after_load_mb": round(rss[0], 1), "peak_rss_load_mb": round(rss[1], 1),
            "peak_rss_mb": round(peak, 1),
        },
        "by_kind": {kind: {"n": len(values), "p50_ms": round(percentile(values, 50) * 1000, 2),
                           "p95_ms": round(percentile(values, 95) * 1000, 2),
                           "errors": results.errors.get(kind, 0)}
                    for kind, values in sorted(results.latencies.items())},
    }


def print_text(report: dict[str, Any]) -> None:
    sim = report["simulator"]
    lat = report["latency_ms"]
    print(f"scenario: {report['resources']} resources, loaded in {report['load_seconds']} s "
          f"(process ready after {report['startup_seconds']} s)")
    print(f"traffic: {report['requests']} requests from {report['clients']} clients in {report['wall_seconds']} s "
          f"= {report['requests_per_second']} req/s, {report['errors']} errors")
    print(f"client latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, max {lat['max']} ms")
    print(f"simulator: {sim['handler_ms_mean']} ms in the app per request (max {sim['handler_ms_max']} ms), "
          f"{sim['locked_ms_mean']} ms holding the store lock, busy {sim['busy_fraction']:.0%} of the wall time")
    print(f"simulator CPU: {sim['cpu_ms_per_request']} ms per request (HTTP server included), "
          f"{sim['cpu_fraction']:.0%} of one core; the clients used {report['client_cpu_fraction']:.0%}")
    print(f"simulator memory: {sim['rss_after_load_mb']} MiB after load (peak {sim['peak_rss_load_mb']} MiB while "
          f"loading), peak {sim['peak_rss_mb']} MiB in all (one /_sim/state dump of every table included)")
    print(f"{'kind':<26}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for kind, row in report["by_kind"].items():
        print(f"{kind:<26}{row['n']:>6}{row['p50_ms']:>10}{row['p95_ms']:>10}{row['errors']:>8}")


# --- in-process profile -------------------------------------------------------------------------------
def profile(scenario: Path, args: argparse.Namespace) -> None:
    """Load the scenario and replay the request mix through the WSGI app serially, under cProfile."""
    from werkzeug.test import Client

    from kubespray_cleanup.simulator.app import Simulator
    from kubespray_cleanup.simulator.scenarios import load_scenario
    from kubespray_cleanup.simulator.store import Store

    profiler = cProfile.Profile()
    store = Store()
    began = time.perf_counter()
    profiler.enable()
    load_scenario(store, str(scenario))
    profiler.disable()
    load = time.perf_counter() - began
    client = Client(Simulator(store))
    body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": f"{args.project}-ci", "password": f"{args.project}-password"}}},
        "scope": {"project": {"name": args.project}}}}
    auth = client.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    state = client.get("/_sim/state").get_json()
    calls = workload(state, args.project, min(args.requests, 2000), args.seed)
    began = time.perf_counter()
    profiler.enable()
    for call in calls:
        client.get(call.path, headers={"X-Auth-Token": auth})
    profiler.disable()
    serial = time.perf_counter() - began
    profiler.dump_stats(args.profile)
    print(f"load {load:.2f} s; {len(calls)} requests serially in {serial:.2f} s "
          f"({serial / len(calls) * 1000:.2f} ms each); profile written to {args.profile}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


# --- main ------------------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.simulator_load", description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=320, help="Kubespray CI clusters in the scenario.")
    parser.add_argument("--live", type=int, default=20, help="How many of them are live.")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent client threads.")
    parser.add_argument("--requests", type=int, default=5000, help="Requests in all (upper bound).")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="Traffic stops after this many seconds.")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="Seconds to wait for the simulator.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--project", default="elastx")
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    parser.add_argument("--profile", metavar="FILE", help="Profile in-process instead (cProfile output file).")
    args = parser.parse_args(argv)
    if not 0 <= args.live <= args.clusters or args.clients < 1 or args.requests < 1:
        parser.error("need 0 <= --live <= --clusters, --clients >= 1 and --requests >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="sim-load-") as tmp:
        scenario = write_scenario(Path(tmp), args.clusters, args.live, args.seed)
        if args.profile:
            profile(scenario, args)
            return 0
        proc, url, load, startup = start_simulator(scenario, args.startup_timeout)
        try:
            rss = rss_mb(proc.pid)
            with requests.Session() as session:
                auth = token(session, url, args.project)
                state = session.get(f"{url}/_sim/state", timeout=120).json()
                resources = sum(len(v) for k, v in state.items() if not k.startswith("_") and isinstance(v, list))
                calls = workload(state, args.project, args.requests, args.seed)
                session.delete(f"{url}/_sim/stats", timeout=30)
                cpu_before, own_before = cpu_seconds(proc.pid), time.process_time()
                results, wall = drive(url, auth, calls, args.clients, args.max_seconds)
                cpu = (cpu_seconds(proc.pid) - cpu_before, time.process_time() - own_before)
                stats = session.get(f"{url}/_sim/stats", timeout=30).json()
            peak = rss_mb(proc.pid)[1]
        finally:
            code = stop_simulator(proc)
        report = summary(results, wall, stats, load, startup, rss, peak, resources, args.clients)
        served = max(1, report["requests"])
        report["simulator"]["cpu_ms_per_request"] = round(cpu[0] / served * 1000, 3)
        report["simulator"]["cpu_fraction"] = round(cpu[0] / wall, 2) if wall else 0.0
        report["client_cpu_fraction"] = round(cpu[1] / wall, 2) if wall else 0.0
        report["simulator"]["exit_code"] = code
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
