"""The GitLab options through the command line: the job's environment configures GitLab, statuses decide."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubespray_cleanup.simulator.gitlab import GitLabServer
from tests.e2e.conftest import FAST, Stage
from tests.gitlab.conftest import PROJECT_ID, READ_TOKEN
from tests.gitlab.scenario import gitlab_jobs, owned_by, write_scenario


def test_cli_in_a_job_environment_uses_job_statuses(stage: Callable[..., Stage],
                                                     make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """CI_SERVER_URL, CI_PROJECT_ID and GITLAB_TOKEN are enough: young finished jobs' clusters go in one run,
    old running ones stay, GitLab is asked once per owner, and the token appears nowhere in the output."""
    st = stage(str(write_scenario(tmp_path / "gitlab-jobs.yaml")))
    gitlab = make_gitlab(jobs=gitlab_jobs())
    env = {"CI_SERVER_URL": gitlab.url, "CI_PROJECT_ID": str(PROJECT_ID), "GITLAB_TOKEN": READ_TOKEN}
    result = st.run("--project", "elastx", "--state", str(st.states), *FAST, env=env)
    assert result.exit_code == 0, result.output
    names = st.names()
    assert not owned_by(names, 5001) and not owned_by(names, 5002)
    assert owned_by(names, 5004) and owned_by(names, 5005)
    jobs = sum(n for (_, route), n in gitlab.model.requests.items() if "/jobs/" in route)
    assert jobs == 7  # one per owner in question (the run lock is asked for once more, and refused: read_api)
    assert READ_TOKEN not in result.output


def test_cli_with_gitlab_down_warns_once_and_keeps_young(stage: Callable[..., Stage],
                                                          make_gitlab: Callable[..., GitLabServer],
                                                          tmp_path: Path) -> None:
    """--gitlab-url/--gitlab-project pointing at a failing GitLab: one warning line, young clusters kept."""
    st = stage(str(write_scenario(tmp_path / "gitlab-jobs.yaml")))
    gitlab = make_gitlab(jobs=gitlab_jobs())
    gitlab.model.failure = 503
    result = st.run("--project", "elastx", "--state", str(st.states), "--gitlab-url", gitlab.url,
                    "--gitlab-project", str(PROJECT_ID), "--dry-run", env={"GITLAB_TOKEN": READ_TOKEN})
    warnings = [line for line in result.output.splitlines() if line.strip().startswith("warning: GitLab")]
    assert len(warnings) == 1 and "503" in warnings[0], result.output
    assert owned_by(st.names(), 5001)
