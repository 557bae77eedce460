"""Empty server groups in no state and the creation windows of live jobs (pure logic, through the planner)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.planner import DELETE, KEEP, PROTECTED, make_plan
from kubespray_cleanup.sources.gitlab_jobs import LiveJob, LiveJobs
from kubespray_cleanup.sources.terraform_state import StateEntry, StateFile
from kubespray_cleanup.synthetic import PROJECT, cluster, shared
from kubespray_cleanup.windows import NOT_CONFIGURED, WINDOW_OWNER, WINDOW_RULE, judge
from tests.engine.test_planner import NOW, PROFILE, options, plan_of

OLD = NOW - timedelta(hours=6)
ETCD = "k8s-etcd-srvgrp"


def _group(gid: str, name: str = ETCD, members: list[str] | None = None) -> Resource:
    return Resource(Kind.SERVER_GROUP, gid, name, PROJECT, None, {"id": gid, "name": name, "members": members or []})


def _state(job: str, groups: dict[str, str], *, locked: bool = True) -> StateFile:
    """A state named after ``job`` (as GitLab-managed states are) listing ``groups`` (name -> id)."""
    entries = tuple(StateEntry(f"module.compute.openstack_compute_servergroup_v2.{name}[0]",
                               "openstack_compute_servergroup_v2", Kind.SERVER_GROUP, gid, name, PROJECT, {})
                    for name, gid in groups.items())
    return StateFile(f"gitlab:42/{job}", 3, f"lineage-{job}", "1.9.1", NOW - timedelta(minutes=1), locked, entries,
                     (), owner_hint=job)


def _live(*jobs: tuple[str, str], own: str | None = None) -> LiveJobs:
    return LiveJobs(tuple(LiveJob(job, status, "tf-elastx_ubuntu24-calico") for job, status in jobs), "", own)


def _plan(resources: list[Resource], live: LiveJobs | None, states: list[StateFile] | None = None):
    return plan_of(shared(NOW) + cluster("4711", OLD) + resources, states, live_jobs=live)


def test_without_gitlab_an_empty_group_is_kept_and_says_why() -> None:
    entry = _plan([_group("g1")], None).entries["server_group:g1"]
    assert (entry.decision, entry.owner, entry.reason) == (KEEP, None, NOT_CONFIGURED)


def test_gitlab_list_unavailable_keeps_it_and_names_the_failure() -> None:
    entry = _plan([_group("g1")], LiveJobs(None, "GitLab answered 503 while listing live jobs")).entries[
        "server_group:g1"]
    assert entry.decision == KEEP
    assert entry.reason.startswith("GitLab's list of live jobs is unavailable (GitLab answered 503")


def test_no_live_job_means_the_group_is_leaked() -> None:
    entry = _plan([_group("g1")], _live()).entries["server_group:g1"]
    assert (entry.decision, entry.owner, entry.found_by) == (DELETE, WINDOW_OWNER, WINDOW_RULE)
    assert "GitLab lists no other live job" in entry.reason


def test_the_cleanup_job_itself_holds_no_window() -> None:
    plan = _plan([_group("g1")], _live(("4899", "running"), own="4899"))
    assert plan.entries["server_group:g1"].decision == DELETE


@pytest.mark.parametrize("status", ["running", "canceling", "preparing"])
def test_a_started_job_without_a_state_holds_the_window_open(status: str) -> None:
    entry = _plan([_group("g1")], _live(("4731", status))).entries["server_group:g1"]
    assert entry.decision == KEEP
    assert entry.reason == (f"job 4731 is {status} and no state of it lists {ETCD} yet: "
                            "its creation window is open")


def test_a_job_whose_state_lists_its_own_group_of_that_name_cannot_claim_this_one() -> None:
    """Job 4731 runs; its (locked) state lists its own k8s-etcd-srvgrp: the other, empty one is leaked, its own
    stays (in a live state)."""
    state = _state("4731", {ETCD: "g-own", "k8s-master-srvgrp": "g-own-master"})
    plan = _plan([_group("g1"), _group("g-own")], _live(("4731", "running")), [state])
    assert plan.entries["server_group:g1"].decision == DELETE
    assert "the 1 live job GitLab lists have their own" in plan.entries["server_group:g1"].reason
    assert plan.entries["server_group:g-own"].decision == KEEP
    assert plan.entries["server_group:g-own"].reason.startswith("in live state gitlab:42/4731")


def test_a_state_with_other_groups_only_leaves_the_window_open_for_this_name() -> None:
    state = _state("4731", {"k8s-master-srvgrp": "g-own-master"})
    entry = _plan([_group("g1")], _live(("4731", "running")), [state]).entries["server_group:g1"]
    assert entry.decision == KEEP
    assert entry.reason.startswith(f"job 4731 is running and its state does not list {ETCD} yet")


def test_a_state_without_any_group_leaves_the_window_open() -> None:
    """A running elastx-style job (no server groups at all) whose state already holds its network: its state
    does not list the name, so it may still be about to write it."""
    state = _state("4731", {})
    entry = _plan([_group("g1")], _live(("4731", "running")), [state]).entries["server_group:g1"]
    assert entry.decision == KEEP
    assert entry.reason.startswith(f"job 4731 is running and its state does not list {ETCD} yet")


def test_every_open_window_counts() -> None:
    """One job closed (own group), two others open: kept, naming the first and counting the rest."""
    state = _state("4731", {ETCD: "g-own"})
    live = _live(("4731", "running"), ("4732", "running"), ("4733", "canceling"))
    entry = _plan([_group("g1")], live, [state]).entries["server_group:g1"]
    assert entry.decision == KEEP
    assert entry.reason == (f"job 4732 is running and no state of it lists {ETCD} yet (and 1 more live job): "
                            "its creation window is open")


@pytest.mark.parametrize(("name", "members"), [("k8s-etcd-srvgrp", ["a-server-elsewhere"]), ("my-srvgrp", []),
                                               ("k8s-etcd-srvgrp-old", []), ("k8s-gpu-srvgrp", [])])
def test_groups_with_members_or_other_names_are_never_judged(name: str, members: list[str]) -> None:
    entry = _plan([_group("g1", name, members)], _live()).entries["server_group:g1"]
    assert entry.decision != DELETE and entry.owner != WINDOW_OWNER


def test_the_profiles_own_group_names_are_judged_too() -> None:
    profile = replace(PROFILE, server_groups=("k8s-gpu-srvgrp",))
    assert judge([_group("g1", "k8s-gpu-srvgrp")], [], profile, _live())["server_group:g1"].leaked
    assert judge([_group("g1", "k8s-gpu-srvgrp")], [], PROFILE, _live()) == {}


def test_members_not_listed_is_not_empty() -> None:
    group = Resource(Kind.SERVER_GROUP, "g1", ETCD, PROJECT, None, {"id": "g1", "name": ETCD})
    assert judge([group], [], PROFILE, _live()) == {}


def test_jobs_the_profile_says_create_no_cluster_hold_no_window() -> None:
    """With ``gitlab.cluster_jobs``, a running job of another kind (a lint job) does not keep the group; without
    it, every started job does."""
    live = LiveJobs((LiveJob("4740", "running", "ansible-lint"), LiveJob("4741", "running", "tf-elastx_x")), "")
    profile = replace(PROFILE, gitlab={"cluster_jobs": "^tf-"})
    assert "job 4741 is running" in judge([_group("g1")], [], profile, live)["server_group:g1"].reason
    only_lint = LiveJobs(live.jobs[:1] if live.jobs else (), "")
    assert judge([_group("g1")], [], profile, only_lint)["server_group:g1"].leaked
    assert not judge([_group("g1")], [], PROFILE, only_lint)["server_group:g1"].leaked


def test_a_protected_name_stays_protected() -> None:
    profile = replace(PROFILE, protected_names=(ETCD,))
    plan = make_plan(shared(NOW) + [_group("g1")], [], profile, PROJECT, options(live_jobs=_live()))
    assert plan.entries["server_group:g1"].decision == PROTECTED
