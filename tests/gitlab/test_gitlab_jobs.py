"""The job-status source on its own: configuration, token modes, economy, caching and failure rules."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kubespray_cleanup.errors import UsageError
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import LIVE, UNKNOWN, GitLabConfig, GitLabJobs, gitlab_config, liveness_of
from tests.gitlab.conftest import JOB_TOKEN, PROJECT_ID, PROJECT_PATH, READ_TOKEN

CI_ENV = {"CI_SERVER_URL": "https://gitlab.example", "CI_API_V4_URL": "https://gitlab.example/api/v4",
          "CI_PROJECT_ID": "42", "CI_PROJECT_PATH": PROJECT_PATH, "CI_JOB_TOKEN": JOB_TOKEN,
          "GITLAB_TOKEN": READ_TOKEN}


def test_config_comes_from_the_job_environment() -> None:
    """In a job: server, project id and path, the read_api token and the job token, all from the environment."""
    config = gitlab_config(environ=CI_ENV)
    assert config is not None
    assert (config.url, config.project, config.project_path) == ("https://gitlab.example", "42", PROJECT_PATH)
    assert config.token == READ_TOKEN and config.job_token == JOB_TOKEN


def test_options_override_profile_which_overrides_environment(tmp_path: Path) -> None:
    """--gitlab-url/--gitlab-project beat the profile's gitlab:, which beats CI_*; --gitlab-token-file beats env."""
    token_file = tmp_path / "token"
    token_file.write_text("glpat-from-file\n")
    env = {**CI_ENV, "OTHER_TOKEN": "glpat-other"}
    profile = {"url": "https://profile.example", "project": "7", "token_env": "OTHER_TOKEN"}
    by_profile = gitlab_config(profile=profile, environ=env)
    assert by_profile is not None and (by_profile.url, by_profile.project) == ("https://profile.example", "7")
    assert by_profile.token == "glpat-other"
    by_option = gitlab_config(url="https://option.example/", project="group/project", token_file=str(token_file),
                              profile=profile, environ=env)
    assert by_option is not None
    assert (by_option.url, by_option.project, by_option.project_path) == ("https://option.example", "group/project",
                                                                          "group/project")
    assert by_option.token == "glpat-from-file"


def test_no_gitlab_outside_ci_and_half_config_is_a_usage_error() -> None:
    """Nothing configured: None (age decides). Only one of URL and project: a usage error naming the missing one."""
    assert gitlab_config(environ={}) is None
    with pytest.raises(UsageError, match="gitlab-project"):
        gitlab_config(url="https://gitlab.example", environ={})


def test_tokens_never_show_in_repr() -> None:
    """A config printed or logged shows no token."""
    config = gitlab_config(environ=CI_ENV)
    assert READ_TOKEN not in repr(config) and JOB_TOKEN not in repr(config)


@pytest.mark.parametrize(("status", "liveness"), [("manual", LIVE), ("scheduled", LIVE), ("bogus_new", LIVE),
                                                  ("not_found", UNKNOWN), ("canceling", LIVE), ("skipped", "finished")])
def test_statuses_map_to_liveness(status: str, liveness: str) -> None:
    """manual, scheduled and statuses GitLab may add count as live; only the four final ones as finished."""
    assert liveness_of(status) == liveness


def test_hundred_owners_cost_hundred_requests_once(make_gitlab: Callable[..., GitLabServer]) -> None:
    """100 leaked jobs: exactly one request each, concurrently; a second lookup in the run is served from cache."""
    server = make_gitlab(jobs=[{"id": 10_000 + n, "status": "failed"} for n in range(100)])
    jobs = GitLabJobs(GitLabConfig(url=server.url, project=str(PROJECT_ID), token=READ_TOKEN))
    owners = [str(10_000 + n) for n in range(100)] + ["not-a-job"]
    started = time.monotonic()
    lookup = jobs.lookup(owners)
    elapsed = time.monotonic() - started
    assert lookup.warning is None and {s.status for s in lookup.statuses.values()} == {"failed", "not_found"}
    assert server.api_requests() == 100
    jobs.lookup(owners)
    assert server.api_requests() == 100
    assert elapsed < 10


def test_job_token_reads_the_jobs_list_page_by_page(make_gitlab: Callable[..., GitLabServer]) -> None:
    """Only CI_JOB_TOKEN (with READ_JOBS): the list endpoint, newest first, stopping below the oldest owner."""
    server = make_gitlab(jobs=[{"id": n, "status": "success" if n % 2 else "running", "token": JOB_TOKEN if n == 500
                               else None} for n in range(1, 501)])
    server.model.job_token_can_list_jobs = True
    jobs = GitLabJobs(GitLabConfig(url=server.url, project=PROJECT_PATH, job_token=JOB_TOKEN))
    lookup = jobs.lookup(["499", "420", "380", "99999"])
    assert {o: s.status for o, s in lookup.statuses.items()} == {"499": "success", "420": "running",
                                                                 "380": "running", "99999": "not_found"}
    assert server.api_requests() == 2  # ids 500..401, then 400..301


def test_job_token_without_read_jobs_warns_once_with_the_fix(make_gitlab: Callable[..., GitLabServer]) -> None:
    """The jobs list refuses the job token: every owner unknown, one warning saying to set GITLAB_TOKEN."""
    server = make_gitlab(jobs=[{"id": 7, "status": "running", "token": JOB_TOKEN}])
    lookup = GitLabJobs(GitLabConfig(url=server.url, project="42", job_token=JOB_TOKEN)).lookup(["1", "2"])
    assert {s.liveness for s in lookup.statuses.values()} == {UNKNOWN}
    assert lookup.warning is not None and "GITLAB_TOKEN" in lookup.warning and "read_api" in lookup.warning
    assert JOB_TOKEN not in lookup.warning


def test_first_failure_stops_further_requests(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GitLab answering 500: no retry storm, at most one request per worker, then every owner falls back."""
    server = make_gitlab(jobs=[{"id": n, "status": "failed"} for n in range(1, 101)])
    server.model.failure = 500
    config = GitLabConfig(url=server.url, project="42", token=READ_TOKEN, max_parallel=4)
    lookup = GitLabJobs(config).lookup([str(n) for n in range(1, 101)])
    assert lookup.warning is not None and "500" in lookup.warning
    assert server.api_requests() <= 4 * (config.max_retries + 1)


def test_profile_takes_a_gitlab_section(tmp_path: Path) -> None:
    """``gitlab: {url, project, token_env}`` in a profile; a numeric project is kept as text; unknown keys fail."""
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.errors import ConfigError

    config = tmp_path / "tf-cleanup.yaml"
    config.write_text("profiles:\n  lab:\n    extends: elastx\n    gitlab: {url: 'https://gitlab.example', "
                      "project: 42, token_env: LAB_TOKEN}\n")
    profile = get_profile("lab", str(config))
    assert dict(profile.gitlab) == {"url": "https://gitlab.example", "project": "42", "token_env": "LAB_TOKEN"}
    settings = gitlab_config(profile=profile.gitlab, environ={"LAB_TOKEN": "glpat-lab"})
    assert settings is not None and settings.token == "glpat-lab"
    config.write_text("profiles:\n  lab:\n    gitlab: {server: x}\n")
    with pytest.raises(ConfigError, match="unknown key 'server'"):
        get_profile("lab", str(config))
