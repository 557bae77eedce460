"""GitLab-managed Terraform state as a source, fail-closed like files, and ``--purge`` of spent states."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from kubespray_cleanup import report
from kubespray_cleanup.cleanup import gather_states, plan_run, purge_states
from kubespray_cleanup.config import get_profile
from kubespray_cleanup.errors import StateError
from kubespray_cleanup.executor import Executor, ExecutorOptions
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig
from tests.e2e.conftest import Stage
from tests.gitlab.conftest import API_TOKEN, JOB_TOKEN, PROJECT_ID, PROJECT_PATH, READ_TOKEN

DEMO_JOBS = [{"id": 4700, "status": "failed"}, {"id": 4705, "status": "canceled"},
             {"id": 4709, "status": "running"}, {"id": 4712, "status": "running"}, {"id": 4690, "status": "failed"}]


def upload_states(stage: Stage, gitlab: GitLabServer) -> set[str]:
    """The scenario's state files as GitLab-managed states named after their job, with mtimes and locks."""
    names = set()
    for path in sorted(stage.states.rglob("terraform.tfstate")):
        name = path.parent.name
        lock = path.with_name(".terraform.tfstate.lock.info")
        gitlab.model.set_state(PROJECT_ID, name, path.read_bytes(),
                               updated_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                               lock=json.loads(lock.read_text()) if lock.exists() else None)
        names.add(name)
    return names


def _settings(gitlab: GitLabServer, token: str | None = API_TOKEN, **changes: object) -> Settings:
    config = GitLabConfig(url=gitlab.url, project=str(PROJECT_ID), token=token, project_path=PROJECT_PATH,
                          job_token=JOB_TOKEN)
    return Settings(profile=get_profile("elastx"), cloud="elastx", gitlab=config, gitlab_states=True,
                       executor=ExecutorOptions(poll_interval=0.02), **changes)  # type: ignore[arg-type]


def test_states_are_listed_in_pages_and_read_with_lock_and_owner(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GraphQL pages, REST content; a locked state is live; an empty (204) state is an empty StateFile."""
    gitlab = make_gitlab(states={"4700": '{"version": 4, "serial": 3, "resources": []}',
                                 "4712": {"content": '{"version": 4, "resources": []}', "locked": True},
                                 "4713": "", "tf-cleanup-lock-abc": ""})
    gitlab.model.graphql_page_size = 2
    states, warnings = gather_states(_settings(gitlab, token=READ_TOKEN))
    by_name = {s.source.rsplit("/", 1)[1]: s for s in states}
    assert sorted(by_name) == ["4700", "4712", "4713"] and warnings == []
    assert by_name["4712"].locked and not by_name["4700"].locked
    assert by_name["4700"].owner_hint == "4700" and by_name["4700"].serial == 3
    assert by_name["4713"].entries == ()
    assert by_name["4700"].source == "gitlab:42/4700"


def test_unreadable_state_stops_the_run_unless_ignored(make_gitlab: Callable[..., GitLabServer]) -> None:
    """A state GitLab cannot serve raises StateError; --ignore-unreadable-state turns it into one warning."""
    gitlab = make_gitlab(states={"4700": '{"version": 4, "resources": []}', "4701": "not json"})
    with pytest.raises(StateError, match="4701"):
        gather_states(_settings(gitlab))
    states, warnings = gather_states(_settings(gitlab, ignore_unreadable_state=True))
    assert [s.source for s in states] == ["gitlab:42/4700"] and len(warnings) == 1


def test_listing_needs_a_token_not_the_job_token(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GraphQL does not take CI_JOB_TOKEN: without GITLAB_TOKEN the source fails closed and says why."""
    gitlab = make_gitlab(states={"4700": "{}"})
    with pytest.raises(StateError, match="GITLAB_TOKEN"):
        gather_states(_settings(gitlab, token=None))


def test_gitlab_down_fails_closed(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GitLab answering 500 to the state list: StateError, nothing read, no token in the message."""
    gitlab = make_gitlab(states={"4700": "{}"})
    gitlab.model.failure = 500
    with pytest.raises(StateError) as caught:
        gather_states(_settings(gitlab))
    assert "500" in str(caught.value) and API_TOKEN not in str(caught.value)


def test_gitlab_states_drive_the_cleanup_and_purge(stage: Callable[..., Stage],
                                                    make_gitlab: Callable[..., GitLabServer]) -> None:
    """States from GitLab instead of files: dead clusters go, locked ones stay; --purge then removes exactly the
    states whose resources are all gone, never a locked one; another cloud project's state needs --force."""
    st = stage("demo")
    gitlab = make_gitlab(jobs=DEMO_JOBS)
    assert upload_states(st, gitlab) == {"4650", "4700", "4705", "4709", "4712"}
    settings = _settings(gitlab)
    states, warnings = gather_states(settings)
    conn = st.sim.connect("elastx")
    plan = plan_run(conn, settings, states, warnings)
    dry = purge_states(conn, replace(settings, dry_run=True), plan, states, None)
    assert {d.name for d in dry if d.purge} == {"4700", "4705"}
    assert {d.outcome for d in dry if d.purge} == {"would purge"}
    assert len(gitlab.model.projects[PROJECT_ID].states) == 5
    result = Executor(conn, plan, settings.executor).run()
    assert result.clean
    assert {n for n in st.names() if n.startswith(("4709-", "4712-"))}
    decisions = purge_states(conn, settings, plan, states, result)
    kept = {d.name: d.reason for d in decisions if not d.purge}
    assert {d.name: d.outcome for d in decisions if d.purge} == {"4700": "purged", "4705": "purged"}
    assert kept["4709"] == "locked" and kept["4712"] == "locked"
    assert "cannot check (--force purges)" in kept["4650"]
    assert set(gitlab.model.projects[PROJECT_ID].states) == {"4650", "4709", "4712"}
    left = [s for s in states if s.source.rsplit("/", 1)[1] in gitlab.model.projects[PROJECT_ID].states]
    forced = purge_states(conn, replace(settings, force=True), plan, left, result)
    assert {d.name: d.outcome for d in forced if d.purge} == {"4650": "purged"}
    assert "which this run cannot check (--force)" in forced[0].reason
    assert set(gitlab.model.projects[PROJECT_ID].states) == {"4709", "4712"}
    text = report.purge_text(decisions)
    assert "purged: 4700 (all" in text and "kept: 4709 (locked)" in text
