"""Empty server groups through the command line: a cancelled job with 0 etcd hosts leaves an empty
``k8s-etcd-srvgrp`` (no prefix, no members, no state, no creation time); GitLab's list of live jobs decides."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.simulator.scenarios.kubespray import ELX_PUBLIC, SHARED_ROUTER
from kubespray_cleanup.windows import NOT_CONFIGURED, WINDOW_OWNER, WINDOW_RULE
from tests.e2e.conftest import FAST, Stage
from tests.gitlab.conftest import JOB_TOKEN, PROJECT_ID, READ_TOKEN

ETCD = "k8s-etcd-srvgrp"
CANCELLED, OTHER, LIVE, CLEANUP = 4801, 4802, 4803, 4899
_SHAPE = {"project": "elastx", "masters": 1, "nodes": 1, "server_group": True, "etcd_server_group": True}


def _scenario(path: Path, *, live_cluster: bool = False) -> str:
    """Job 4801 was cancelled 40 minutes ago and left no state: its master and node groups have members, its
    etcd group (etcd_server_group_policy set, number_of_etcd 0) is empty. ``live_cluster``: job 4803 runs, with
    its own empty etcd group in its (locked) state."""
    clusters = [{"job": CANCELLED, "fate": "lost", "age_minutes": 40, **_SHAPE}]
    if live_cluster:
        clusters.append({"job": LIVE, "fate": "live", "age_minutes": 10, **_SHAPE})
    path.write_text(yaml.safe_dump({
        "name": "empty-server-groups", "extends": "empty",
        "external_network": {"name": "elx-public1", "id": ELX_PUBLIC, "cidr": "198.51.100.0/24",
                             "gateway_ip": "198.51.100.1"},
        "shared_routers": [{"project": "elastx", "name": "kubespray-ci-router", "id": SHARED_ROUTER}],
        "clusters": clusters}))
    return str(path)


def _etcd_groups(st: Stage) -> dict[str, list[Any]]:
    return {str(g["id"]): list(g.get("members") or []) for g in st.sim.store.iter("server_groups")
            if g.get("name") == ETCD}


def _env(gitlab: GitLabServer, **extra: str) -> dict[str, str]:
    return {"CI_SERVER_URL": gitlab.url, "CI_PROJECT_ID": str(PROJECT_ID), **extra}


def _run(st: Stage, env: dict[str, str], *args: str) -> tuple[Any, dict[str, Any]]:
    report = st.tmp / "report.json"
    result = st.run("--project", "elastx", "--report", str(report), *args, *FAST, env=env)
    return result, json.loads(report.read_text())["plan"]


def _entry(plan: dict[str, Any], group_id: str) -> dict[str, Any]:
    return next(e for e in plan["actions"] + plan["kept"] if e["id"] == group_id)


def test_cancelled_jobs_empty_etcd_group_goes_when_no_job_is_live(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """(a) GitLab: 4801 canceled, no live job: the empty group is deleted with the rest of the cluster."""
    st = stage(_scenario(tmp_path / "s.yaml"))
    (group, members), = _etcd_groups(st).items()
    assert members == [] and len(list(st.sim.store.iter("server_groups"))) == 3
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"}])
    result, plan = _run(st, _env(gitlab, GITLAB_TOKEN=READ_TOKEN))
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert list(st.sim.store.iter("server_groups")) == []
    entry = _entry(plan, group)
    assert (entry["decision"], entry["owner"], entry["found_by"]) == ("delete", WINDOW_OWNER, WINDOW_RULE)
    routes = {r for (_, r) in gitlab.model.requests}
    assert "/projects/:id/jobs" in routes


def test_another_running_job_without_a_state_keeps_it(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """(b) Job 4802 has been running for minutes and wrote no state yet: it may have made the group; kept, the
    rest of the cancelled cluster deleted, exit code 0 (nothing that should go is left)."""
    st = stage(_scenario(tmp_path / "s.yaml"))
    (group, _), = _etcd_groups(st).items()
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"}, {"id": OTHER, "status": "running"}])
    result, plan = _run(st, _env(gitlab, GITLAB_TOKEN=READ_TOKEN))
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert set(_etcd_groups(st)) == {group}
    assert [g["name"] for g in st.sim.store.iter("server_groups")] == [ETCD]
    entry = _entry(plan, group)
    assert entry["decision"] == "keep" and entry["owner"] is None
    assert entry["reason"] == (f"job {OTHER} is running and no state of it lists {ETCD} yet: "
                               "its creation window is open")


def test_running_job_with_its_own_group_in_a_gitlab_state_lets_the_leaked_one_go(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """(c) Job 4803 runs; its GitLab-managed state (locked) lists its own k8s-etcd-srvgrp: the cancelled job's
    empty group of the same name is deleted, 4803's stays untouched, and so does the rest of 4803's cluster."""
    st = stage(_scenario(tmp_path / "s.yaml", live_cluster=True))
    state_name = f"{LIVE}/terraform.tfstate"
    document = st.sim.scenario.states[state_name]
    own = {str(i["attributes"]["id"]) for r in document["resources"] if r["type"] == "openstack_compute_servergroup_v2"
           and r["name"] == "k8s_etcd" for i in r["instances"]}
    groups = _etcd_groups(st)
    assert len(groups) == 2 and len(own) == 1 and own < set(groups) and all(m == [] for m in groups.values())
    leaked = (set(groups) - own).pop()
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"}, {"id": LIVE, "status": "running"}],
                         states={str(LIVE): {"content": json.dumps(document), "locked": True,
                                             "updated_minutes_ago": 1}})
    live_names = {n for n in st.names() if n.startswith(f"{LIVE}-")}
    result, plan = _run(st, _env(gitlab, GITLAB_TOKEN=READ_TOKEN), "--gitlab-states")
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert set(_etcd_groups(st)) == own
    assert _entry(plan, leaked)["found_by"] == WINDOW_RULE
    assert _entry(plan, own.pop())["reason"].startswith("in live state gitlab:")
    assert live_names <= st.names()
    assert not {n for n in st.names() if n.startswith(f"{CANCELLED}-")}


def test_without_gitlab_it_is_kept_with_the_reason(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """(d) No GitLab configured: nothing can prove that no running job made it; kept, the run still exits 0."""
    st = stage(_scenario(tmp_path / "s.yaml"))
    (group, _), = _etcd_groups(st).items()
    result, plan = _run(st, {}, "--min-age", "30m")
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert set(_etcd_groups(st)) == {group}
    assert _entry(plan, group)["reason"] == NOT_CONFIGURED


@pytest.mark.parametrize("failure", ["job-token-forbidden", "unreachable"])
def test_gitlab_refusing_or_down_keeps_it_with_one_warning(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path, failure: str) -> None:
    """(e) In the cleanup job with only CI_JOB_TOKEN (the jobs list refused, 403), or with GitLab down: kept,
    one warning line, no traceback."""
    st = stage(_scenario(tmp_path / "s.yaml"))
    (group, _), = _etcd_groups(st).items()
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"},
                               {"id": CLEANUP, "status": "running", "token": JOB_TOKEN}])
    env = _env(gitlab, CI_JOB_TOKEN=JOB_TOKEN, CI_JOB_ID=str(CLEANUP))
    if failure == "unreachable":
        gitlab.stop()
        env["GITLAB_TOKEN"] = READ_TOKEN
    result, plan = _run(st, env, "--min-age", "30m")
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert set(_etcd_groups(st)) == {group}
    warnings = [line for line in result.output.splitlines() if line.strip().startswith("warning: GitLab")]
    assert len(warnings) == 1, result.output
    assert ("403" in warnings[0]) if failure != "unreachable" else ("unreachable" in warnings[0])
    assert "Traceback" not in result.output and JOB_TOKEN not in result.output
    assert _entry(plan, group)["reason"].startswith("GitLab's list of live jobs is unavailable (GitLab ")


def test_job_token_allowed_to_list_jobs_leaves_out_the_cleanup_job_itself(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """With READ_JOBS the job token lists live jobs; the only one running is the cleanup job (CI_JOB_ID), which
    makes no cluster: the group goes."""
    st = stage(_scenario(tmp_path / "s.yaml"))
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"},
                               {"id": CLEANUP, "status": "running", "token": JOB_TOKEN}])
    gitlab.model.job_token_can_list_jobs = True
    result, _ = _run(st, _env(gitlab, CI_JOB_TOKEN=JOB_TOKEN, CI_JOB_ID=str(CLEANUP)))
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert _etcd_groups(st) == {}


def test_dry_run_text_shows_the_group_under_its_own_heading(
        stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    st = stage(_scenario(tmp_path / "s.yaml"))
    gitlab = make_gitlab(jobs=[{"id": CANCELLED, "status": "canceled"}])
    result = st.run("--project", "elastx", "--dry-run", env=_env(gitlab, GITLAB_TOKEN=READ_TOKEN))
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert f"\n  {WINDOW_OWNER}:\n" in result.output
    assert f"leaked: no live job can still claim {ETCD} (GitLab lists no other live job)" in result.output
