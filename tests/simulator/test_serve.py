"""``tf-cleanup simulator serve`` as a real process: URL on stderr, written files, SIGTERM, one-line errors."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openstack.config
import openstack.connection
import pytest
import requests
import yaml

_READY = re.compile(r"^simulator: scenario (\S+) \((\d+) resources, loaded in [0-9.]+ s\) at (http://127\.0\.0\.1:\d+)")
_COMMAND = [sys.executable, "-m", "kubespray_cleanup", "simulator", "serve"]


class Served:
    """A running ``simulator serve`` process and what it printed when ready."""

    def __init__(self, proc: subprocess.Popen[str], url: str, scenario: str, resources: int) -> None:
        self.proc, self.url, self.scenario, self.resources = proc, url, scenario, resources

    def stop(self, timeout: float = 5.0) -> tuple[int, float, str]:
        """SIGTERM; returns exit code, seconds until exit and the rest of stderr."""
        began = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, rest = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, rest = self.proc.communicate(timeout=5)
        return self.proc.returncode, time.perf_counter() - began, rest


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Factory: start ``simulator serve --port 0 ARGS`` and wait (up to 20 s) for the line that names its URL."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Served:
        proc = subprocess.Popen([*_COMMAND, "--port", "0", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stderr is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], deadline - time.monotonic())
            line = proc.stderr.readline() if ready else ""
            if not line:
                break
            match = _READY.match(line)
            if match:
                return Served(proc, match.group(3), match.group(1), int(match.group(2)))
        raise AssertionError("simulator serve did not print its URL")

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_COMMAND, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)


def test_serve_on_port_zero_prints_a_reachable_loopback_url(serve: Callable[..., Served]) -> None:
    """--port 0 picks a free port; the ready line on stderr names the URL, which answers like Keystone."""
    served = serve()
    assert served.scenario == "empty" and served.resources > 0
    body = requests.get(f"{served.url}/identity/v3", timeout=5).json()
    assert body["version"]["id"] == "v3.14"
    assert served.proc.poll() is None


def test_clouds_yaml_has_a_cloud_per_project_and_admin_usable_by_openstacksdk(serve: Callable[..., Served],
                                                                             tmp_path: Path) -> None:
    """--clouds-yaml: clouds elastx, other and admin; openstacksdk reads the file and lists servers per project."""
    clouds = tmp_path / "conf" / "clouds.yaml"
    served = serve("--scenario", "kubespray", "--clouds-yaml", str(clouds))
    doc = yaml.safe_load(clouds.read_text())
    assert set(doc["clouds"]) == {"elastx", "other", "admin"}
    assert all(c["auth"]["auth_url"] == f"{served.url}/identity/v3" for c in doc["clouds"].values())
    config = openstack.config.OpenStackConfig(config_files=[str(clouds)], load_envvars=False)
    conn = openstack.connection.Connection(config=config.get_one(cloud="elastx"))
    assert sorted(s.name for s in conn.compute.servers()) == [
        "4711-k8s-master-1", "4711-k8s-node-1", "4712-k8s-master-1", "4712-k8s-node-1"]
    other = openstack.connection.Connection(config=config.get_one(cloud="other"))
    assert list(other.compute.servers()) == []
    admin = openstack.connection.Connection(config=config.get_one(cloud="admin"))
    assert len(list(admin.compute.servers(all_projects=True))) == 4


def test_states_dir_and_request_log_are_written(serve: Callable[..., Served], tmp_path: Path) -> None:
    """--states-dir gets each pipeline's terraform.tfstate; --request-log gets one JSON line per API request."""
    states, log = tmp_path / "states", tmp_path / "requests.jsonl"
    served = serve("--scenario", "kubespray", "--states-dir", str(states), "--request-log", str(log))
    assert sorted(p.relative_to(states).as_posix() for p in states.rglob("*.tfstate")) == [
        "4711/terraform.tfstate", "4712/terraform.tfstate"]
    assert json.loads((states / "4711" / "terraform.tfstate").read_text())["version"] == 4
    requests.get(f"{served.url}/network/v2.0/networks", timeout=5)
    requests.get(f"{served.url}/_sim/stats", timeout=5)
    code, _, _ = served.stop()
    assert code == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [("GET", "/network/v2.0/networks", 401)]
    assert {"ts", "route", "ms"} <= set(lines[0])


def test_sigterm_stops_serve_with_exit_code_zero_within_two_seconds(serve: Callable[..., Served]) -> None:
    """SIGTERM while serving (even with a keep-alive client connected): exit 0 in under 2 s, 'stopped' on stderr."""
    served = serve()
    session = requests.Session()
    assert session.get(f"{served.url}/identity/v3", timeout=5).status_code == 200
    code, took, rest = served.stop()
    session.close()
    assert code == 0 and took < 2.0
    assert rest.strip().splitlines()[-1] == "simulator: stopped"
    assert "Traceback" not in rest


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "only listens on loopback"),
    (["--host", "192.0.2.10"], "only listens on loopback"),
    (["--scenario", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["--latency", "glacial"], "unknown latency profile 'glacial'"),
    (["--faults", "500=2"], "fault probabilities must be within 0..1"),
    (["--faults", "explode=1"], "unknown fault spec key 'explode'"),
    (["--rate-limit", "60,burst=0"], "expected burst=N (N >= 1) or per=project|service"),
    (["--request-log", "/nonexistent-dir/requests.jsonl"], "cannot open request log"),
])
def test_bad_options_give_a_one_line_error_without_traceback(args: list[str], message: str) -> None:
    """Non-loopback hosts and bad scenario/latency/faults/log options: exit 3 and one 'error:' line on stderr."""
    result = _run("--port", "0", *args)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and message in lines[0], result.stderr
    assert result.stdout == ""


def test_broken_scenario_file_gives_a_one_line_error(tmp_path: Path) -> None:
    """A scenario file that is not YAML, or not a mapping, is refused in one line naming the file."""
    for name, text in (("broken.yaml", "name: [unclosed\n"), ("list.yaml", "- just\n- a list\n")):
        path = tmp_path / name
        path.write_text(text)
        result = _run("--port", "0", "--scenario", str(path))
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 3 and len(lines) == 1 and str(path) in lines[0], result.stderr


def test_serve_defaults_to_asynchronous_deletes() -> None:
    """``simulator serve`` without --latency uses the ``fast`` profile: deletes finish asynchronously, as on
    every real Nova, Cinder and Octavia; ``none`` stays available for unit-speed runs."""
    from kubespray_cleanup.cli import main
    from kubespray_cleanup.simulator.latency import PROFILES

    serve = main.commands["simulator"].commands["serve"]  # type: ignore[attr-defined]
    default = next(p.default for p in serve.params if p.name == "latency")
    assert default == "fast" and PROFILES[default].operation("server.delete") > 0
    assert PROFILES["none"].operation("server.delete") == 0
