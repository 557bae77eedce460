"""``tf-cleanup --project elastx`` end to end: real openstacksdk against the simulator, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import FAST, Stage


def _cluster_names(stage: Stage, fate: str, project: str = "elastx") -> set[str]:
    """Names of the resources of ``project``'s pipelines with this fate that still exist."""
    jobs = [str(j) for j in stage.sim.scenario.clusters.get(fate, [])]
    owner = stage.sim.store.project_by_name(project)
    assert owner is not None
    names = {str(r.get("name")) for rows in stage.sim.store.snapshot().values() for r in rows
             if r.get("name") and owner.id in (r.get("project_id"), r.get("tenant_id"), r.get("_user_project"))}
    return {n for n in names if any(n.startswith(f"{j}-") or n in (f"ci-{j}", f"kubernetes-{j}") for j in jobs)}


def _cleans_leaked_keeps_live(st: Stage) -> None:
    """Run the cleanup: exit 0, no 409, dead/lost/partial pipelines gone, live ones as they were."""
    live_before = _cluster_names(st, "live")
    assert live_before
    result = st.run("--project", "elastx", "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert st.conflicts() == 0
    for fate in ("dead", "lost", "partial"):
        assert not _cluster_names(st, fate), fate
    assert _cluster_names(st, "live") == live_before


def test_demo_scenario_cleans_dangling_with_zero_conflicts(stage: Callable[..., Stage]) -> None:
    """Dead, lost and partial pipelines vanish; live ones and the other project survive; no 409 is served."""
    st = stage("demo")
    _cleans_leaked_keeps_live(st)
    assert _cluster_names(st, "dead", project="other")
    assert "kubespray-ci-router" in st.names()
    assert "default" in st.names()


def test_dry_run_changes_nothing(stage: Callable[..., Stage]) -> None:
    """--dry-run prints the plan and sends no write request."""
    st = stage("demo")
    before = st.ids()
    result = st.run("--project", "elastx", "--state", str(st.states), "--dry-run")
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert "delete" in result.output
    assert st.ids() == before
    assert st.requests("DELETE") == 0 and st.requests("PUT") == 0 and st.requests("POST") <= 1


def test_dry_run_json_is_the_plan(stage: Callable[..., Stage]) -> None:
    """--output json on a dry run prints the Plan with its order, actions, kept resources and edges."""
    st = stage("demo")
    result = st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--output", "json")
    doc = json.loads(result.stdout)
    plan = doc["plan"]
    assert plan["order"] and plan["edges"]
    assert {a["decision"] for a in plan["actions"]} <= {"delete", "detach"}
    reasons = {k["reason"] for k in plan["kept"]}
    assert any("live" in r for r in reasons)


def test_shared_router_is_never_sent_a_delete(stage: Callable[..., Stage]) -> None:
    """Only remove_router_interface reaches the shared router; no DELETE on any router."""
    st = stage("demo")
    st.run("--project", "elastx", "--state", str(st.states), *FAST)
    routes = st.sim.simulator.stats_json()["routes"]
    assert not [r for r in routes if r["method"] == "DELETE" and "/routers/" in r["route"]]
    assert any("remove_router_interface" in r["route"] for r in routes)


def test_second_run_has_nothing_to_do(stage: Callable[..., Stage]) -> None:
    """After a clean run the same command finds nothing dangling, sends no write, and exits 0 (a clean project
    keeps a CI job green)."""
    st = stage("demo")
    assert st.run("--project", "elastx", "--state", str(st.states), *FAST).exit_code == ExitCode.CLEAN
    writes = st.requests("DELETE") + st.requests("PUT")
    again = st.run("--project", "elastx", "--state", str(st.states), *FAST)
    assert again.exit_code == ExitCode.CLEAN, again.output
    assert "Nothing to delete." in again.output
    assert st.requests("DELETE") + st.requests("PUT") == writes


def test_report_file_lists_every_outcome(stage: Callable[..., Stage]) -> None:
    """--report writes the plan and one outcome per action."""
    st = stage("demo")
    report = st.tmp / "report.json"
    st.run("--project", "elastx", "--state", str(st.states), "--report", str(report), *FAST)
    doc: dict[str, Any] = st.report(report)
    assert len(doc["result"]["outcomes"]) == len(doc["plan"]["order"])
    assert doc["result"]["counts"] == {"done": len(doc["plan"]["order"])}


def test_graph_export_dot_and_mermaid(stage: Callable[..., Stage]) -> None:
    """--graph writes the DAG with labelled edges."""
    st = stage("demo")
    dot, mermaid = st.tmp / "g.dot", st.tmp / "g.mmd"
    st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--graph", "dot", str(dot))
    st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--graph", "mermaid", str(mermaid))
    assert dot.read_text().startswith("digraph") and "port.device_id" in dot.read_text()
    assert mermaid.read_text().startswith("flowchart") and "-->" in mermaid.read_text()


@pytest.mark.parametrize("scenario", ["kubespray", "bench"])
def test_built_in_scenarios_clean_with_zero_conflicts(stage: Callable[..., Stage], scenario: str) -> None:
    """Every leaked pipeline of the scenario goes, the live ones stay, and the cloud never answers 409."""
    _cleans_leaked_keeps_live(stage(scenario))


def test_no_credentials_or_tokens_in_any_output(stage: Callable[..., Stage]) -> None:
    """Neither the clouds.yaml passwords nor an issued token appear on stdout, stderr or in the report."""
    st = stage("demo")
    report = st.tmp / "report.json"
    result = st.run("--project", "elastx", "--state", str(st.states), "--report", str(report), "-v", *FAST)
    secrets = {c["auth"]["password"] for c in st.sim.clouds()["clouds"].values()}
    secrets |= set(st.sim.store.tokens)
    assert secrets
    text = result.output + report.read_text()
    assert not [s for s in secrets if s in text]
