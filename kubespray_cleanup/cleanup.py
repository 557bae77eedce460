"""One cleanup run: read states, list the cloud, plan, and (unless dry-run) execute that same plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from kubespray_cleanup.errors import ExitCode, StateError, UsageError
from kubespray_cleanup.executor import RunResult
from kubespray_cleanup.heap import collector_paused
from kubespray_cleanup.liveness import owner_of_state
from kubespray_cleanup.planner import ACTIONS, Options, Plan, make_plan, now_utc, owners_in_question
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.sources.gitlab_jobs import GitLabJobs, explain_failure
from kubespray_cleanup.sources.gitlab_state import GitLabStates, PurgeContext, PurgeDecision, RemoteState, decide_purge
from kubespray_cleanup.sources.inventory import list_inventory
from kubespray_cleanup.sources.terraform_cli import pull_states
from kubespray_cleanup.sources.terraform_state import StateFile, load_state_paths
from kubespray_cleanup.windows import is_candidate

log = structlog.get_logger("tf-cleanup")


def gather_states(settings: Settings) -> tuple[list[StateFile], list[str]]:
    """Every configured state source; any unreadable one stops the run unless explicitly overridden."""
    with collector_paused():
        return _gather_states(settings)


def _gather_states(settings: Settings) -> tuple[list[StateFile], list[str]]:
    states: list[StateFile] = []
    warnings: list[str] = []
    sources: list[tuple[str, Callable[[], list[StateFile]]]] = []
    for path in settings.state_paths:
        sources.append((path, lambda path=path: load_state_paths([path])))  # type: ignore[misc]
    for tf_dir in settings.tf_dirs:
        def pull(tf_dir: str = tf_dir) -> list[StateFile]:
            return pull_states(Path(tf_dir), settings.terraform_bin, settings.backend_config)
        sources.append((tf_dir, pull))
    for name, read in sources:
        _read_source(name, read, settings, states, warnings)
    if settings.gitlab_states:
        remote = gitlab_states(settings)
        listed: list[RemoteState] = []

        def list_remote() -> list[StateFile]:
            listed.extend(remote.list())
            return []
        _read_source(remote.where, list_remote, settings, states, warnings)
        for item in listed:
            _read_source(remote.source_of(item.name), lambda item=item: [remote.fetch(item)],  # type: ignore[misc]
                         settings, states, warnings)
    for state in states:
        log.debug("state_read", source=state.source, resources=len(state.entries), locked=state.locked)
    return states, warnings


def _read_source(name: str, read: Callable[[], list[StateFile]], settings: Settings, states: list[StateFile],
                 warnings: list[str]) -> None:
    try:
        states.extend(read())
    except StateError as exc:
        if not settings.ignore_unreadable_state:
            raise
        warnings.append(f"ignored unreadable {exc} (--ignore-unreadable-state)")
        log.warning("state_ignored", source=name, reason=exc.reason)


def gitlab_states(settings: Settings) -> GitLabStates:
    if settings.gitlab is None:
        raise UsageError("GitLab-managed states need GitLab: --gitlab-url and --gitlab-project "
                         "(or CI_SERVER_URL and CI_PROJECT_ID in a job)")
    return GitLabStates(settings.gitlab)


def plan_run(conn: Any, settings: Settings, states: list[StateFile], warnings: list[str],
             jobs: GitLabJobs | None = None) -> Plan:
    """List the cloud, ask GitLab where configured, and decide every resource (``planner``)."""
    with collector_paused():
        return _plan_run(conn, settings, states, warnings, jobs)


def _plan_run(conn: Any, settings: Settings, states: list[StateFile], warnings: list[str],
              jobs: GitLabJobs | None) -> Plan:
    inventory = list_inventory(conn)
    for kind, why in inventory.skipped_kinds.items():
        warnings.append(f"{kind.value.replace('_', ' ')}s not listed: {why}")
    options = Options(
        now=now_utc(),
        min_age=settings.effective_min_age,
        state_max_age=settings.effective_state_max_age,
        live_owners=settings.live_owners,
    )
    if settings.gitlab is not None:
        jobs = jobs or GitLabJobs(settings.gitlab)
        asked = owners_in_question(inventory.resources, states, settings.profile, inventory.project_id, options)
        lookup = jobs.lookup(asked)
        options = replace(options, jobs=lookup.statuses)
        if lookup.warning:
            warnings.append(lookup.warning)
        log.info("gitlab_jobs_read", owners=len(asked),
                 **dict(sorted(Counter(j.liveness for j in lookup.statuses.values()).items())))
        if any(is_candidate(r, settings.profile) for r in inventory.resources):  # asked after the inventory
            live = jobs.live_jobs()
            options = replace(options, live_jobs=live)
            if live.jobs is None and not lookup.warning:
                warnings.append(f"{live.why}; empty server groups in no state are kept")
            log.info("gitlab_live_jobs_read", jobs=len(live.jobs) if live.jobs is not None else "unknown")
    plan = make_plan(inventory.resources, states, settings.profile, inventory.project_id, options, warnings)
    log.info("plan_made", resources=len(plan.entries), **{k: v for k, v in sorted(plan.by_decision().items())})
    return plan


def has_actions(plan: Plan) -> bool:
    return any(e.decision in ACTIONS for e in plan.entries.values())


def exit_code_for(plan: Plan, result: RunResult | None, detailed: bool = False) -> ExitCode:
    """0 when nothing dangling is left; 1 when some of it could not be deleted; 2 only for a dry run with
    ``--detailed-exitcode`` that found something to do (Terraform's ``plan -detailed-exitcode``)."""
    if result is None:
        return ExitCode.CHANGES if detailed and has_actions(plan) else ExitCode.CLEAN
    if result.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.CLEAN if result.clean else ExitCode.LEFT_BEHIND


def purge_states(conn: Any, settings: Settings, plan: Plan, states: list[StateFile],
                 result: RunResult | None) -> list[PurgeDecision]:
    """After the cleanup: delete the GitLab-managed states whose resources are all gone (checked against a fresh
    inventory). A dry run only says what would be purged, counting planned deletions as gone."""
    if settings.dry_run:
        remaining = {k for k, e in plan.entries.items() if e.decision not in ACTIONS}
        unlisted: set[Any] = set()
    else:
        inventory = list_inventory(conn)
        remaining = {r.key for r in inventory.resources}
        unlisted = set(inventory.skipped_kinds)
    ctx = PurgeContext(project_id=plan.project_id, remaining=remaining, unlisted=unlisted,
                       owners={s.source: s.owner for s in plan.states}, jobs=plan.jobs,
                       live_owners=set(settings.live_owners) | set(settings.profile.live_owners),
                       now=now_utc(), state_max_age=settings.effective_state_max_age, force=settings.force)
    return _purge(settings, states, ctx)


def purge_without_cloud(settings: Settings, states: list[StateFile], why: str) -> list[PurgeDecision]:
    """``--purge --force`` when the cloud project or its credentials are gone: nothing can be checked there, so
    each unlocked state of a job that is not running is purged, and each decision says so."""
    owners = {s.source: owner_of_state(s, settings.profile) for s in states}
    assert settings.gitlab is not None  # --purge implies --gitlab-states, which needs GitLab
    lookup = GitLabJobs(settings.gitlab).lookup({o for o in owners.values() if o})
    ctx = PurgeContext(project_id="", remaining=(), unlisted=(), owners=owners, jobs=lookup.statuses,
                       live_owners=set(settings.live_owners) | set(settings.profile.live_owners), now=now_utc(),
                       state_max_age=settings.effective_state_max_age, force=settings.force, cloud_unreachable=why)
    return _purge(settings, states, ctx)


def _purge(settings: Settings, states: list[StateFile], ctx: PurgeContext) -> list[PurgeDecision]:
    """Decide for each GitLab-managed state among ``states``; purge the ones decided (a dry run only says so)."""
    remote = gitlab_states(settings)
    names = {s.source: s.source.removeprefix(remote.where + "/") for s in states
             if s.source.startswith(remote.where + "/")}
    decisions = []
    for decision in decide_purge(states, names, ctx):
        if decision.purge:
            decision = replace(decision, outcome="would purge" if settings.dry_run else _purge_one(remote, decision))
        decisions.append(decision)
    return decisions


def _purge_one(remote: GitLabStates, decision: PurgeDecision) -> str:
    try:
        remote.delete(decision.name)
    except Exception as exc:  # a failed purge is reported, never fatal
        outcome = explain_failure(exc, remote.config, f"purging state {decision.name}")
        log.warning("state_purge_failed", state=decision.name, reason=outcome)
        return outcome
    log.info("state_purged", state=decision.name, reason=decision.reason)
    return "purged"
