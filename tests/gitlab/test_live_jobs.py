"""GitLab's list of started live jobs, for empty server groups' creation windows (against the simulated GitLab)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kubespray_cleanup.config import get_profile
from kubespray_cleanup.errors import ConfigError
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig, GitLabJobs, gitlab_config
from tests.gitlab.conftest import JOB_TOKEN, READ_TOKEN

STATUSES = ("created", "pending", "waiting_for_resource", "manual", "preparing", "running", "canceling", "success",
            "failed", "canceled")


def test_only_started_unfinished_jobs_are_listed_page_by_page(make_gitlab: Callable[..., GitLabServer]) -> None:
    """250 jobs of every status: the preparing, running and canceling ones, read over their pages; jobs that have
    not started (created, pending, manual ...) and finished ones are not asked for."""
    server = make_gitlab(jobs=[{"id": n, "status": STATUSES[n % len(STATUSES)]} for n in range(1, 2501)])
    live = GitLabJobs(GitLabConfig(url=server.url, project="42", token=READ_TOKEN, own_job="7")).live_jobs()
    assert live.jobs is not None and live.own_job == "7"
    assert {j.status for j in live.jobs} == {"preparing", "running", "canceling"}
    assert len(live.jobs) == 750 and live.jobs[0].name == "tf-elastx_ubuntu24-calico"
    assert server.api_requests() == 8  # 750 jobs, 100 a page


def test_own_job_comes_from_ci_job_id() -> None:
    config = gitlab_config(environ={"CI_SERVER_URL": "https://gitlab.example", "CI_PROJECT_ID": "42",
                                    "CI_JOB_ID": "4899"})
    assert config is not None and config.own_job == "4899"


def test_job_token_refused_the_list_is_unknown_with_the_fix(make_gitlab: Callable[..., GitLabServer]) -> None:
    server = make_gitlab(jobs=[{"id": 4899, "status": "running", "token": JOB_TOKEN}])
    live = GitLabJobs(GitLabConfig(url=server.url, project="42", job_token=JOB_TOKEN)).live_jobs()
    assert live.jobs is None and "403" in live.why and "GITLAB_TOKEN" in live.why
    server.model.job_token_can_list_jobs = True
    live = GitLabJobs(GitLabConfig(url=server.url, project="42", job_token=JOB_TOKEN, own_job="4899")).live_jobs()
    assert live.jobs is not None and [j.id for j in live.jobs] == ["4899"]


def test_a_failed_lookup_is_not_asked_again(make_gitlab: Callable[..., GitLabServer]) -> None:
    """Once GitLab failed this run (the owners' statuses), the live list is unknown without another request."""
    server = make_gitlab(jobs=[{"id": 1, "status": "running"}])
    server.model.failure = 502
    jobs = GitLabJobs(GitLabConfig(url=server.url, project="42", token=READ_TOKEN, max_retries=0))
    assert jobs.lookup(["1"]).warning is not None
    asked = server.api_requests()
    live = jobs.live_jobs()
    assert live.jobs is None and "502" in live.why and server.api_requests() == asked


def test_profile_takes_cluster_jobs_and_server_groups(tmp_path: Path) -> None:
    config = tmp_path / "tf-cleanup.yaml"
    config.write_text("profiles:\n  lab:\n    extends: elastx\n    gitlab: {cluster_jobs: '^tf-'}\n"
                      "    server_groups: [k8s-gpu-srvgrp]\n")
    profile = get_profile("lab", str(config))
    assert profile.gitlab["cluster_jobs"] == "^tf-" and profile.server_groups == ("k8s-gpu-srvgrp",)
    config.write_text("profiles:\n  lab:\n    gitlab: {cluster_jobs: '(tf-'}\n")
    with pytest.raises(ConfigError, match="cluster_jobs: bad regex"):
        get_profile("lab", str(config))
