"""Which owners (CI jobs) are still running: the liveness half of planning.

An owner is live when its GitLab job runs (or cancels), when ``--live-owner`` or the profile says so, when
a state it wrote is locked or was written within ``state_max_age`` (unless GitLab reports the job
finished), or, when nothing better is known, when one of its resources is younger than ``min_age``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kubespray_cleanup.config import Profile
from kubespray_cleanup.kinds.base import Index
from kubespray_cleanup.sources.gitlab_jobs import FINISHED, LIVE, JobStatus, LiveJobs
from kubespray_cleanup.sources.terraform_state import StateFile


@dataclass
class StateSummary:
    source: str
    owner: str | None
    live: bool
    why: str
    resources: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "owner": self.owner, "live": self.live, "why": self.why,
                "resources": self.resources}



@dataclass(frozen=True)
class Options:
    now: datetime
    min_age: timedelta
    state_max_age: timedelta
    live_owners: frozenset[str] = frozenset()
    jobs: Mapping[str, JobStatus] = field(default_factory=dict)  # owner -> its GitLab job status
    live_jobs: LiveJobs | None = None  # GitLab's started live jobs (server groups' creation windows); None: no GitLab

    def finished(self, owner: str | None) -> bool:
        """GitLab reports the owner's job finished: age and state freshness no longer count."""
        job = self.jobs.get(owner) if owner else None
        return job is not None and job.liveness == FINISHED



def live_owners(states: list[StateFile], state_owner: dict[str, tuple[StateFile, str | None]], profile: Profile,
                 idx: Index, owners: dict[str, str], options: Options) -> tuple[list[StateSummary], dict[str, str]]:
    """Owner -> why it counts as live; plus a summary line per state."""
    live: dict[str, str] = {o: "explicitly live" for o in set(profile.live_owners) | set(options.live_owners)}
    for job in options.jobs.values():
        if job.liveness == LIVE:
            live.setdefault(job.owner, _live_job_reason(job))
    summaries = []
    held = Counter(state.source for state, _ in state_owner.values())
    for state in states:
        owner = owner_of_state(state, profile)
        why = state_liveness(state, options, owner)
        dead = "its job finished" if options.finished(owner) else "stale"
        summaries.append(StateSummary(state.source, owner, bool(why), why or dead, held[state.source]))
        if why and owner:
            live.setdefault(owner, f"live pipeline {owner}: state {state.source} {why}")
    newest: dict[str, datetime] = {}
    for key, owner in owners.items():
        created = idx.by_key[key].created_at
        if created and (owner not in newest or created > newest[owner]):
            newest[owner] = created
    for owner, created in newest.items():
        if options.now - created < options.min_age and not options.finished(owner):
            age = human(options.now - created)
            live.setdefault(owner, f"pipeline {owner} may still run: newest resource is {age} old "
                                   f"(min-age {human(options.min_age)})")
    return summaries, live


def owner_of_state(state: StateFile, profile: Profile) -> str | None:
    """The pipeline most of the state's resource names belong to; else the state's own hint (its GitLab name)."""
    votes = Counter(o for e in state.entries if e.kind is not None
                    for o in [profile.owner_of_name(e.kind, e.name)] if o)
    return votes.most_common(1)[0][0] if votes else state.owner_hint


def state_liveness(state: StateFile, options: Options, owner: str | None) -> str:
    """Why a state belongs to a running pipeline: a lock always; recent writes unless GitLab says the job ended."""
    if state.locked:
        return "is locked"
    if state.modified_at is not None and options.now - state.modified_at < options.state_max_age \
            and not options.finished(owner):
        return f"was updated {human(options.now - state.modified_at)} ago"
    return ""


def _live_job_reason(job: JobStatus) -> str:
    if job.status == "canceling":
        return f"job {job.owner} is canceling in GitLab: its after_script is destroying the cluster"
    return f"job {job.owner} is {job.status} in GitLab"


def human(delta: timedelta) -> str:
    seconds = int(max(0, delta.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"
