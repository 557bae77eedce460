"""The planner's liveness rules with job statuses, on synthetic inventories (pure logic, no cloud, no GitLab)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubespray_cleanup.config import get_profile
from kubespray_cleanup.model import Kind
from kubespray_cleanup.planner import ACTIONS, KEEP, PROTECTED, Options, make_plan, owners_in_question
from kubespray_cleanup.sources.gitlab_jobs import JobStatus
from kubespray_cleanup.sources.terraform_state import StateEntry, StateFile
from kubespray_cleanup.synthetic import PROJECT, cluster, shared

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PROFILE = get_profile("elastx")
BASE = {"now": NOW, "min_age": timedelta(hours=2), "state_max_age": timedelta(hours=3)}


def _state(job: str, resources: list, locked: bool = False) -> StateFile:  # type: ignore[type-arg]
    entries = tuple(StateEntry(address=f"x.{r.kind.value}[{i}]", tf_type="t", kind=r.kind, id=r.id, name=r.name,
                               project_id=PROJECT, attributes={}) for i, r in enumerate(resources)
                    if r.kind in (Kind.SERVER, Kind.NETWORK))
    return StateFile(source=f"gitlab:42/{job}", serial=1, lineage="l", terraform_version="1.9", entries=entries,
                     modified_at=NOW - timedelta(minutes=5), locked=locked, unknown_types=())


def _decisions(resources: list, states: list[StateFile], **jobs: str) -> set[str]:  # type: ignore[type-arg]
    options = Options(**BASE, jobs={o: JobStatus(o, s) for o, s in jobs.items()})  # type: ignore[arg-type]
    plan = make_plan(resources, states, PROFILE, PROJECT, options)
    return {e.decision for e in plan.entries.values() if e.owner == "7001" and e.decision != PROTECTED}


def test_finished_job_makes_a_fresh_state_dead() -> None:
    """A state written five minutes ago no longer keeps its cluster once GitLab says the job failed."""
    resources = shared(NOW) + cluster("7001", NOW - timedelta(minutes=10))
    states = [_state("7001", resources)]
    assert _decisions(resources, states) == {KEEP}
    assert _decisions(resources, states, **{"7001": "failed"}) <= set(ACTIONS)


def test_locked_state_is_kept_even_if_the_job_finished() -> None:
    """A lock is evidence of a running terraform: kept whatever GitLab says."""
    resources = shared(NOW) + cluster("7001", NOW - timedelta(hours=9))
    assert KEEP in _decisions(resources, [_state("7001", resources, locked=True)], **{"7001": "success"})


def test_manual_and_unknown_statuses_keep_an_old_cluster() -> None:
    """manual and a status this version does not know count as live, however old the cluster."""
    resources = shared(NOW) + cluster("7001", NOW - timedelta(days=2))
    assert _decisions(resources, [], **{"7001": "manual"}) == {KEEP}
    assert _decisions(resources, [], **{"7001": "paused_by_newer_gitlab"}) == {KEEP}
    assert _decisions(resources, [], **{"7001": "not_found"}) <= set(ACTIONS)


def test_only_owners_with_candidates_are_asked() -> None:
    """Owners kept by a lock or --live-owner are not asked about; every other CI owner is, whatever its age."""
    resources = shared(NOW) + cluster("7001", NOW - timedelta(minutes=10)) + cluster("7002", NOW) \
        + cluster("7003", NOW - timedelta(days=1))
    locked = _state("7002", [r for r in resources if r.name.startswith("7002")], locked=True)
    options = Options(**BASE, live_owners=frozenset({"7003"}))  # type: ignore[arg-type]
    assert owners_in_question(resources, [locked], PROFILE, PROJECT, options) == {"7001"}
