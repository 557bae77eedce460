"""Each protection rule, end to end: what must never be touched survives a real run through the CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import FAST, Stage


def _logged(stage_log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stage_log.getvalue().splitlines() if line.strip()]


def _writes_to(log: io.StringIO, ids: set[str]) -> list[str]:
    """Write requests (DELETE/PUT/POST) whose path names one of ``ids``."""
    return [f"{r['method']} {r['path']}" for r in _logged(log)
            if r["method"] in ("DELETE", "PUT", "POST") and any(i in r["path"] for i in ids)]


def _records(st: Stage, table: str, **eq: Any) -> list[dict[str, Any]]:
    return [r for r in st.sim.store.snapshot().get(table, []) if all(r.get(k) == v for k, v in eq.items())]


def _config(tmp: Path, **profile: Any) -> str:
    path = tmp / "tf-cleanup.yaml"
    path.write_text(yaml.safe_dump({"profiles": {"elastx": profile}}))
    return str(path)


def test_default_security_groups_and_external_network_are_never_written(stage: Callable[..., Stage]) -> None:
    """No write request reaches a default SG, the external network, its subnet or a DHCP port."""
    log = io.StringIO()
    st = stage("demo", request_log=log)
    protected = {r["id"] for r in _records(st, "security_groups", name="default")}
    protected |= {r["id"] for r in _records(st, "networks") if r.get("router:external")}
    protected |= {r["id"] for r in _records(st, "subnets") if r.get("network_id") in protected}
    protected |= {r["id"] for r in _records(st, "ports", device_owner="network:dhcp")}
    assert st.run("--project", "elastx", "--state", str(st.states), *FAST).exit_code == ExitCode.CLEAN
    assert _writes_to(log, protected) == []
    assert {r["id"] for r in _records(st, "security_groups", name="default")} <= protected


def test_shared_router_keeps_its_gateway_and_live_interfaces(stage: Callable[..., Stage]) -> None:
    """Only leaked subnets' interfaces leave the shared router; its gateway and live interfaces stay."""
    st = stage("demo")
    router = _records(st, "routers", name="kubespray-ci-router")[0]
    live_subnets = {r["id"] for r in _records(st, "subnets") if r["name"].split("-")[0] in
                    {str(j) for j in st.sim.scenario.clusters["live"]}}
    st.run("--project", "elastx", "--state", str(st.states), *FAST)
    after = _records(st, "routers", id=router["id"])[0]
    assert after["external_gateway_info"] == router["external_gateway_info"]
    interfaces = _records(st, "ports", device_id=router["id"], device_owner="network:router_interface")
    assert {ip["subnet_id"] for p in interfaces for ip in p["fixed_ips"]} == live_subnets


def test_other_project_is_never_written_even_with_matching_names(stage: Callable[..., Stage]) -> None:
    """Project other's dead cluster 4650 carries CI names; not one write request names its objects."""
    log = io.StringIO()
    st = stage("demo", request_log=log)
    other = st.sim.store.project_by_name("other")
    assert other is not None
    foreign = {r["id"] for rows in st.sim.store.snapshot().values() for r in rows
               if other.id in (r.get("project_id"), r.get("tenant_id"))}
    assert foreign
    elastx_dead = {r["id"] for r in _records(st, "servers") if str(r.get("name", "")).startswith("4700-")}
    result = st.run("--project", "elastx", "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert _writes_to(log, elastx_dead), "the run deleted nothing: it proves nothing about project other"
    assert _writes_to(log, foreign) == []


def test_profile_protected_server_keeps_what_it_depends_on(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """A server named in protected_names stays, and so do its port, security groups, subnet and network."""
    st = stage("demo")
    config = _config(tmp_path, protected_names=["4700-k8s-master-nf-1"])
    result = st.run("--project", "elastx", "--config", config, "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    names = st.names()
    assert {"4700-k8s-master-nf-1", "4700-k8s-master", "4700-k8s", "4700-internal-network", "ci-4700"} <= names
    assert "4700-k8s-node-1" not in names
    assert st.conflicts() == 0


def test_protected_floating_ip_is_disassociated_and_kept(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """A profile-protected FIP on a leaked port is detached (not deleted), so the leaked network can go."""
    st = stage("demo")
    port = _records(st, "ports", name="4705-k8s-master-1")[0]
    fip = next(f for f in _records(st, "floating_ips") if f.get("port_id") == port["id"])
    config = _config(tmp_path, protected_ids=[fip["id"]])
    result = st.run("--project", "elastx", "--config", config, "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    kept = _records(st, "floating_ips", id=fip["id"])
    assert kept and kept[0]["port_id"] is None
    assert "ci-4705" not in st.names()
    assert st.conflicts() == 0


def test_live_owner_keeps_an_old_pipeline_without_state(stage: Callable[..., Stage]) -> None:
    """Without its state, pipeline 4709 (4.5 h old) would look leaked; --live-owner keeps all of it."""
    st = stage("demo")
    before = {n for n in st.names() if n.startswith("4709-") or n == "ci-4709"}
    result = st.run("--project", "elastx", "--live-owner", "4709", *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert before and before <= st.names()


def test_min_age_above_every_resource_means_nothing_to_do(stage: Callable[..., Stage]) -> None:
    """With --min-age longer than any pipeline's age nothing is deleted and the exit code says so."""
    st = stage("demo")
    result = st.run("--project", "elastx", "--state", str(st.states), "--min-age", "30d", *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert "Nothing to delete." in result.output
    assert st.requests("DELETE") == 0


def test_non_interactive_run_without_yes_refuses(stage: Callable[..., Stage]) -> None:
    """Outside CI, with no terminal and no --yes, the run refuses before any delete (exit 3)."""
    st = stage("demo")
    result = st.run("--project", "elastx", "--state", str(st.states), env={"CI": ""})
    assert result.exit_code == ExitCode.USAGE
    assert "--yes" in result.output
    assert st.requests("DELETE") == 0


def test_terminal_prompt_answered_no_changes_nothing(stage: Callable[..., Stage], monkeypatch: Any) -> None:
    """On a terminal the plan is shown and a 'no' leaves the cloud as it was."""
    from click.testing import CliRunner

    from kubespray_cleanup import runner
    from kubespray_cleanup.cli import main

    st = stage("demo")
    monkeypatch.setattr(runner, "stdin_is_terminal", lambda: True)
    result = CliRunner().invoke(main, ["--project", "elastx", "--state", str(st.states)], input="n\n",
                                env={"OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": ""})
    assert "Delete or detach" in result.output
    assert result.exit_code == ExitCode.INTERRUPTED
    assert st.requests("DELETE") == 0
