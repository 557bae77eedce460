"""GitLab-managed states from the command line: read as a source, purged once their resources are gone (and,
with --force, when the cloud is gone), the GitLab state lock as the run lock, and the bundled serve-gitlab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gitlab as python_gitlab

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator.cli import gitlab_seed
from kubespray_cleanup.simulator.gitlab import GitLabServer
from tests.e2e.conftest import FAST, Stage
from tests.gitlab.conftest import API_TOKEN, PROJECT_ID, READ_TOKEN


def _setup(stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer]) -> tuple[Stage, GitLabServer,
                                                                                           dict[str, str]]:
    """The ``gitlab`` scenario's cloud, and a GitLab holding its jobs and its states (named after the jobs)."""
    st = stage("gitlab")
    seed = gitlab_seed(st.sim.scenario, with_states=True)
    gitlab = make_gitlab(jobs=seed["jobs"], states=seed["states"])
    env = {"CI_SERVER_URL": gitlab.url, "CI_PROJECT_ID": str(PROJECT_ID), "GITLAB_TOKEN": API_TOKEN}
    return st, gitlab, env


def _states(gitlab: GitLabServer) -> dict[str, Any]:
    return {n: s for n, s in gitlab.model.projects[PROJECT_ID].states.items() if not n.startswith("tf-cleanup-lock")}


def test_gitlab_states_alone_keep_the_live_jobs(stage: Callable[..., Stage],
                                               make_gitlab: Callable[..., GitLabServer]) -> None:
    """--gitlab-states without any state file: the locked states in GitLab keep their jobs' clusters."""
    st, _, env = _setup(stage, make_gitlab)
    result = st.run("--project", "elastx", "--gitlab-states", "--dry-run", "--output", "json", env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output
    plan = json.loads(result.stdout)["plan"]
    live = {s["owner"] for s in plan["states"] if s["live"]}
    assert {"4709", "4712"} <= live
    assert not [a for a in plan["actions"] if str(a["name"]).startswith(("4709-", "4712-"))]


def test_purge_removes_exactly_the_states_whose_resources_are_gone(stage: Callable[..., Stage],
                                                                  make_gitlab: Callable[..., GitLabServer]) -> None:
    """A dry run says what would be purged and purges nothing; the real run purges the finished jobs' states,
    keeps the locked ones, and the report lists every decision."""
    st, gitlab, env = _setup(stage, make_gitlab)
    before = set(_states(gitlab))
    dry = st.run("--project", "elastx", "--purge", "--dry-run", env=env)
    assert dry.exit_code == ExitCode.CLEAN, dry.output
    assert "would purge: 4700" in dry.output and set(_states(gitlab)) == before
    report = st.tmp / "report.json"
    result = st.run("--project", "elastx", "--purge", "--report", str(report), *FAST, env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output
    left = set(_states(gitlab))
    assert {"4709", "4712"} <= left  # locked: live pipelines
    assert not {"4700", "4705"} & left  # finished, every resource gone
    decisions = {d["name"]: d for d in st.report(report)["purge"]}
    assert decisions["4700"]["outcome"] == "purged" and decisions["4709"]["reason"] == "locked"
    assert st.conflicts() == 0


def test_purge_force_with_the_cloud_gone_purges_and_says_so(stage: Callable[..., Stage],
                                                          make_gitlab: Callable[..., GitLabServer]) -> None:
    """Credentials that no longer work: nothing is deleted from the cloud, each unlocked finished job's state is
    purged with the reason, locked ones stay, and the exit code still says the cloud was unreachable."""
    st, gitlab, env = _setup(stage, make_gitlab)
    broken = {**env, "OS_CLIENT_CONFIG_FILE": str(st.tmp / "absent.yaml"), "OS_AUTH_URL": "http://127.0.0.1:9/v3",
              "OS_USERNAME": "gone", "OS_PASSWORD": "gone", "OS_PROJECT_NAME": "gone"}
    without_force = st.run("--project", "elastx", "--purge", *FAST, env=broken)
    assert without_force.exit_code == ExitCode.CLOUD and set(_states(gitlab)) >= {"4700", "4709"}
    result = st.run("--project", "elastx", "--purge", "--force", *FAST, env=broken)
    assert result.exit_code == ExitCode.CLOUD, result.output
    assert "nothing was deleted from it" in result.output
    assert "purged because of --force" in result.output
    left = set(_states(gitlab))
    assert {"4709", "4712"} <= left and "4700" not in left
    assert st.requests("DELETE") == 0


def test_gitlab_state_lock_is_the_run_lock(stage: Callable[..., Stage],
                                           make_gitlab: Callable[..., GitLabServer]) -> None:
    """With GitLab configured the run holds tf-cleanup-lock-<project> in GitLab; a held one stops it (exit 7)."""
    st, gitlab, env = _setup(stage, make_gitlab)
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    name = f"tf-cleanup-lock-{project.id}"
    gitlab.model.set_state(PROJECT_ID, name, b"", lock={"ID": "other", "Who": "ci@runner-9", "Operation": "x",
                                                         "Created": "2026-12-05T10:00:00Z"})
    held = st.run("--project", "elastx", "--lock-timeout", "1s", *FAST, env=env)
    assert held.exit_code == ExitCode.LOCKED, held.output
    assert "runner-9" in held.output and st.requests("DELETE") == 0
    gitlab.model.projects[PROJECT_ID].states[name].lock = None
    result = st.run("--project", "elastx", *FAST, env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output
    locks = {m: n for (m, r), n in gitlab.model.requests.items() if r.endswith("/lock")}
    assert locks.get("POST", 0) >= 2 and locks.get("DELETE", 0) >= 1  # taken (refused once), then released
    assert gitlab.model.projects[PROJECT_ID].states[name].lock is None


def test_read_only_token_falls_back_to_the_file_lock(stage: Callable[..., Stage],
                                                      make_gitlab: Callable[..., GitLabServer]) -> None:
    """A read_api token cannot lock in GitLab: one warning, the file lock serves, the run goes on."""
    st, _, env = _setup(stage, make_gitlab)
    result = st.run("--project", "elastx", *FAST, env={**env, "GITLAB_TOKEN": READ_TOKEN})
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert "gitlab_lock_unavailable" in result.output and READ_TOKEN not in result.output


def test_serve_gitlab_serves_the_scenario_jobs_until_sigterm(tmp_path: Path) -> None:
    """``tf-cleanup simulator serve-gitlab``: the scenario's job statuses over the real Jobs API; SIGTERM ends it."""
    proc = subprocess.Popen([sys.executable, "-m", "kubespray_cleanup", "simulator", "serve-gitlab", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "CI": ""})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = line.split(" at ", 1)[1].split(";", 1)[0]
        token = line.rsplit("token ", 1)[1].split(" ", 1)[0]
        client = python_gitlab.Gitlab(url, private_token=token)
        job = client.projects.get(42, lazy=True).jobs.get(4716)
        assert job.status == "running"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
