"""Injected faults and latency profiles as a client sees them: timings, dropped connections, reproducible draws."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from keystoneauth1 import exceptions as ksa_exc

from kubespray_cleanup.simulator.server import SimulatorServer

Factory = Callable[..., SimulatorServer]


def _session(sim: SimulatorServer, project: str = "elastx") -> requests.Session:
    """A requests session holding a token of ``<project>-ci`` (token creation is never faulted)."""
    body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": f"{project}-ci", "password": f"{project}-password", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    session = requests.Session()
    answer = session.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code == 201
    session.headers["X-Auth-Token"] = answer.headers["X-Subject-Token"]
    return session


def _timed(call: Callable[[], requests.Response]) -> tuple[float, requests.Response]:
    began = time.perf_counter()
    answer = call()
    return time.perf_counter() - began, answer


def _outcome(session: requests.Session, url: str) -> str:
    """The HTTP status of a GET as text, or ``drop`` when the connection was cut."""
    try:
        return str(session.get(url, timeout=10).status_code)
    except requests.ConnectionError:
        return "drop"


def test_slow_fault_delays_the_answer_by_scaled_slow_seconds(make_sim: Factory) -> None:
    """slow=1 with slow_seconds=3 at time scale 10: each GET answers 200 after about 0.3 s; POSTs are not slowed."""
    sim = make_sim("empty", faults="slow=1.0,slow_seconds=3,methods=GET", time_scale=10.0)
    session = _session(sim)
    elapsed, answer = _timed(lambda: session.get(f"{sim.url}/network/v2.0/networks", timeout=10))
    assert answer.status_code == 200 and [n["name"] for n in answer.json()["networks"]] == ["public"]
    assert 0.29 <= elapsed < 1.5
    elapsed, answer = _timed(lambda: session.post(f"{sim.url}/network/v2.0/networks",
                                                  json={"network": {"name": "quick"}}, timeout=10))
    assert answer.status_code == 201 and elapsed < 0.25
    assert sim.simulator.faults.injected == {"slow": 1}


def test_drop_fault_cuts_the_connection_and_the_next_request_works(make_sim: Factory) -> None:
    """drop on DELETE: requests and keystoneauth get a connection error; the following GET works on a new one."""
    sim = make_sim("empty", faults="drop=1.0,methods=DELETE")
    session = _session(sim)
    with pytest.raises(requests.ConnectionError):
        session.delete(f"{sim.url}/network/v2.0/networks/anything", timeout=10)
    assert session.get(f"{sim.url}/network/v2.0/networks", timeout=10).status_code == 200
    conn = sim.connect("elastx")
    net = conn.network.create_network(name="survivor")
    with pytest.raises(ksa_exc.ConnectFailure):
        conn.network.delete_network(net.id)
    assert {n.name for n in conn.network.networks()} == {"survivor", "public"}
    assert sim.simulator.faults.injected == {"drop": 2}


def test_fault_rate_with_the_same_seed_injects_the_same_sequence(make_sim: Factory) -> None:
    """rate=0.6,seed=7 on two simulators: the same 30 GETs meet the same faults in the same order."""
    spec = "rate=0.6,seed=7,slow_seconds=0.01,retry_after=1"
    runs: list[list[str]] = []
    injected: list[dict[str, int]] = []
    for _ in range(2):
        sim = make_sim("empty", faults=spec)
        session = _session(sim)
        runs.append([_outcome(session, f"{sim.url}/network/v2.0/networks") for _ in range(30)])
        injected.append(dict(sim.simulator.faults.injected))
    assert runs[0] == runs[1] and injected[0] == injected[1]
    assert {"500", "503", "429", "drop"} <= set(runs[0]) and "200" in runs[0]
    assert sum(injected[0].values()) == len([o for o in runs[0] if o != "200"]) + injected[0].get("slow", 0)
    other = make_sim("empty", faults=spec.replace("seed=7", "seed=8"))
    other_session = _session(other)
    assert [_outcome(other_session, f"{other.url}/network/v2.0/networks") for _ in range(30)] != runs[0]


def test_methods_restrict_faults_to_the_named_methods(make_sim: Factory) -> None:
    """500=1,methods=DELETE+PUT: GET and POST succeed, DELETE and PUT answer the injected 500."""
    sim = make_sim("empty", faults="500=1.0,methods=DELETE+PUT")
    session = _session(sim)
    created = session.post(f"{sim.url}/network/v2.0/networks", json={"network": {"name": "n"}}, timeout=10)
    assert created.status_code == 201
    net_url = f"{sim.url}/network/v2.0/networks/{created.json()['network']['id']}"
    assert session.get(net_url, timeout=10).status_code == 200
    put = session.put(net_url, json={"network": {"name": "m"}}, timeout=10)
    assert put.status_code == 500 and put.json() == {"error": {"code": 500, "message": "Injected fault"}}
    assert session.delete(net_url, timeout=10).status_code == 500
    assert session.get(net_url, timeout=10).json()["network"]["name"] == "n"
    assert sim.simulator.faults.injected == {"500": 2}


def test_latency_profile_file_delays_each_request_divided_by_time_scale(make_sim: Factory, tmp_path: Path) -> None:
    """A YAML profile (network 1.0 s, others 0.3 s) at time scale 10: 5 network GETs take >= 0.5 s, compute 0.15 s."""
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml.safe_dump({"name": "file-profile", "request": 0.3, "services": {"network": 1.0}}))
    sim = make_sim("empty", latency=str(profile), time_scale=10.0)
    assert sim.simulator.latency.name == "file-profile"
    session = _session(sim)
    network, _ = _timed(lambda: [session.get(f"{sim.url}/network/v2.0/networks", timeout=10) for _ in range(5)][-1])
    compute, _ = _timed(lambda: [session.get(f"{sim.url}/compute/v2.1/flavors", timeout=10) for _ in range(5)][-1])
    assert 0.5 <= network < 0.5 + 1.0
    assert 0.15 <= compute < 0.15 + 1.0
    assert compute < network


def test_time_scale_divides_the_same_profile(make_sim: Factory, tmp_path: Path) -> None:
    """The same 0.4 s request delay: about 0.2 s per request at time scale 2, about 0.02 s at time scale 20."""
    profile = tmp_path / "flat.yaml"
    profile.write_text("request: 0.4\n")
    slow, fast = make_sim("empty", latency=str(profile), time_scale=2.0), make_sim(
        "empty", latency=str(profile), time_scale=20.0)
    slow_took, _ = _timed(lambda: _session(slow).get(f"{slow.url}/network/v2.0/networks", timeout=10))
    fast_took, _ = _timed(lambda: _session(fast).get(f"{fast.url}/network/v2.0/networks", timeout=10))
    assert 0.4 <= slow_took < 1.2  # the token request and the GET, 0.2 s each
    assert 0.04 <= fast_took < 0.3
    assert slow_took > 3 * fast_took


def test_server_delete_takes_the_realistic_duration_divided_by_time_scale(make_sim: Factory) -> None:
    """realistic profile, time scale 20: a deleted server is still listed as deleting, then 404 after about 0.3 s."""
    sim = make_sim("kubespray", latency="realistic", time_scale=20.0)
    session = _session(sim)
    servers = session.get(f"{sim.url}/compute/v2.1/servers?name=4711-k8s-node-1", timeout=10).json()["servers"]
    url = f"{sim.url}/compute/v2.1/servers/{servers[0]['id']}"
    began = time.perf_counter()
    assert session.delete(url, timeout=10).status_code == 204
    during = session.get(url, timeout=10).json()["server"]
    assert during["OS-EXT-STS:task_state"] == "deleting"
    gone_after = None
    while time.perf_counter() - began < 5:
        if session.get(url, timeout=10).status_code == 404:
            gone_after = time.perf_counter() - began
            break
        time.sleep(0.01)
    assert gone_after is not None and 0.28 <= gone_after < 0.9


def test_sim_stats_report_handler_time_without_simulated_latency(make_sim: Factory, tmp_path: Path) -> None:
    """/_sim/stats handler_seconds_* count the app's own work, not the profile's 0.1 s per request."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("request: 1.0\n")
    sim = make_sim("empty", latency=str(profile), time_scale=10.0)
    session = _session(sim)
    requests.delete(f"{sim.url}/_sim/stats", timeout=5)
    for _ in range(4):
        assert session.get(f"{sim.url}/network/v2.0/networks", timeout=10).status_code == 200
    stats = requests.get(f"{sim.url}/_sim/stats", timeout=5).json()
    assert stats["total"] == 4
    assert 0 < stats["handler_seconds_total"] < 0.2 and 0 < stats["handler_seconds_max"] < 0.1
    assert stats["handler_seconds_mean"] == pytest.approx(stats["handler_seconds_total"] / 4, abs=1e-5)
    assert 0 < stats["locked_seconds_total"] <= stats["handler_seconds_total"]
    requests.delete(f"{sim.url}/_sim/stats", timeout=5)
    assert requests.get(f"{sim.url}/_sim/stats", timeout=5).json()["handler_seconds_total"] == 0
