"""Job status as the liveness source, end to end: the OpenStack simulator, the GitLab simulator, the real
planner and executor (through ``cleanup.gather_states``/``plan_run``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubespray_cleanup import report
from kubespray_cleanup.cleanup import gather_states, plan_run
from kubespray_cleanup.config import get_profile
from kubespray_cleanup.executor import Executor, ExecutorOptions, RunResult
from kubespray_cleanup.planner import Plan
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig
from tests.e2e.conftest import Stage
from tests.gitlab.conftest import PROJECT_ID, READ_TOKEN, WEAK_TOKEN
from tests.gitlab.scenario import DELETED, FINISHED_YOUNG, KEPT, KEPT_LIVE, gitlab_jobs, owned_by, write_scenario


@dataclass
class Run:
    plan: Plan
    result: RunResult | None
    text: str
    document: dict[str, Any]


@dataclass
class World:
    stage: Stage
    gitlab: GitLabServer

    def config(self, token: str | None = READ_TOKEN, **changes: Any) -> GitLabConfig:
        return GitLabConfig(url=self.gitlab.url, project=str(PROJECT_ID), token=token, **changes)

    def run(self, config: GitLabConfig | None, dry_run: bool = False) -> Run:
        settings = Settings(profile=get_profile("elastx"), cloud="elastx", state_paths=(str(self.stage.states),),
                               gitlab=config, executor=ExecutorOptions(poll_interval=0.02))
        states, warnings = gather_states(settings)
        conn = self.stage.sim.connect("elastx")
        plan = plan_run(conn, settings, states, warnings)
        result = None if dry_run else Executor(conn, plan, settings.executor).run()
        return Run(plan, result, report.plan_text(plan), report.report_document(plan, result))


@pytest.fixture
def world(stage: Callable[..., Stage], make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> World:
    return World(stage(str(write_scenario(tmp_path / "gitlab-jobs.yaml"))), make_gitlab(jobs=gitlab_jobs()))


def _alive(world: World, job: int) -> bool:
    return bool(owned_by(world.stage.names(), job))


def test_finished_jobs_young_leftovers_go_in_one_run(world: World) -> None:
    """Failed and canceled jobs 30-40 minutes old: their clusters are deleted at once, whatever min-age says."""
    run = world.run(world.config())
    assert run.result is not None and run.result.clean
    for job in FINISHED_YOUNG:
        assert not _alive(world, job), job
    assert world.stage.conflicts() == 0


def test_live_and_canceling_jobs_are_kept_whatever_their_age(world: World) -> None:
    """Running jobs (5 and 6 hours old, one with no state at all) and a canceling one keep every resource."""
    run = world.run(world.config())
    for job in KEPT_LIVE:
        assert _alive(world, job), job
    reasons = {e.reason for e in run.plan.entries.values() if e.owner == "5005"}
    assert reasons == {"job 5005 is canceling in GitLab: its after_script is destroying the cluster"}


def test_jobs_gitlab_does_not_know_fall_back_to_age(world: World) -> None:
    """A job GitLab answers 404 for: young leftovers kept by min-age, old ones deleted."""
    world.run(world.config())
    assert _alive(world, 5006)
    assert not _alive(world, 5007)
    assert {j: _alive(world, j) for j in DELETED + KEPT} == {**dict.fromkeys(DELETED, False),
                                                               **dict.fromkeys(KEPT, True)}


def test_gitlab_requests_stay_within_one_per_owner(world: World) -> None:
    """One request per owner group with deletion candidates; the locked state's owner is not even asked."""
    world.run(world.config(), dry_run=True)
    routes = {(r["method"], r["route"]): r["count"] for r in world.gitlab.stats()["routes"]}
    assert routes == {("GET", "/projects/:id/jobs/:job_id"): 7}


def test_plan_and_report_show_status_finished_at_and_web_url(world: World) -> None:
    """Each owner group carries its job status, finished_at and web_url, in text and JSON."""
    run = world.run(world.config(), dry_run=True)
    jobs = {j["owner"]: j for j in run.document["plan"]["jobs"]}
    assert jobs["5001"]["status"] == "failed" and jobs["5001"]["finished_at"]
    assert jobs["5001"]["web_url"].endswith("/-/jobs/5001")
    assert jobs["5006"]["status"] == "not_found" and jobs["5006"]["liveness"] == "unknown"
    assert f"pipeline 5001 (job failed, finished {jobs['5001']['finished_at']}, {jobs['5001']['web_url']})" \
        in run.text


@pytest.mark.parametrize("failure", ["down", "401", "403", "500"])
def test_gitlab_failure_deletes_nothing_young_and_warns_once(world: World, failure: str) -> None:
    """Unreachable, bad token, token without read_api, 500: every owner falls back to age, one warning line."""
    config = world.config()
    if failure == "down":
        world.gitlab.stop()
        config = world.config(timeout=2)
    elif failure == "401":
        config = world.config(token="glpat-revoked")
    elif failure == "403":
        config = world.config(token=WEAK_TOKEN)
    else:
        world.gitlab.model.failure = 500
    run = world.run(config)
    for job in FINISHED_YOUNG + (5003, 5006):  # young, or in a locked state
        assert _alive(world, job), job
    assert not _alive(world, 5007)  # old enough: the age rule applies, as it did before GitLab
    warnings = [line for line in run.text.splitlines() if "GitLab" in line and "warning" in line]
    assert len(warnings) == 1, run.text
    assert "falls back to --min-age" in warnings[0]
    assert run.document["plan"]["warnings"].count(warnings[0].split("warning: ", 1)[1]) == 1
    if failure == "403":
        assert "read_api" in warnings[0]
    assert "glpat" not in run.text + str(run.document)


def test_rate_limit_is_waited_out(world: World) -> None:
    """A 429 with Retry-After is honoured: the run waits and still gets every status."""
    world.gitlab.model.pending_429 = [1, 1]
    run = world.run(world.config(), dry_run=True)
    assert not run.plan.warnings or all("GitLab" not in w for w in run.plan.warnings)
    assert {o: j.status for o, j in run.plan.jobs.items()}["5001"] == "failed"
    assert world.gitlab.stats()["by_status"]["429"] == 2
