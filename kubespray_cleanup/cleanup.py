"""One cleanup run: read states, list the cloud, plan, and (unless dry-run) execute that same plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from kubespray_cleanup.errors import ExitCode, StateError
from kubespray_cleanup.executor import RunResult
from kubespray_cleanup.planner import ACTIONS, Options, Plan, make_plan, now_utc
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.sources.terraform_state import StateFile

log = structlog.get_logger("tf-cleanup")


def gather_states(settings: Settings) -> tuple[list[StateFile], list[str]]:
    """Every configured state source; any unreadable one stops the run unless explicitly overridden."""
    from kubespray_cleanup.sources.terraform_state import load_state_paths

    states: list[StateFile] = []
    warnings: list[str] = []
    sources: list[tuple[str, Callable[[], list[StateFile]]]] = []
    for path in settings.state_paths:
        sources.append((path, lambda path=path: load_state_paths([path])))  # type: ignore[misc]
    for tf_dir in settings.tf_dirs:
        def pull(tf_dir: str = tf_dir) -> list[StateFile]:
            from kubespray_cleanup.sources.terraform_cli import pull_states

            return pull_states(Path(tf_dir), settings.terraform_bin, settings.backend_config)
        sources.append((tf_dir, pull))
    for name, read in sources:
        try:
            states.extend(read())
        except StateError as exc:
            if not settings.ignore_unreadable_state:
                raise
            warnings.append(f"ignored unreadable {exc} (--ignore-unreadable-state)")
            log.warning("state_ignored", source=name, reason=exc.reason)
    for state in states:
        log.debug("state_read", source=state.source, resources=len(state.entries), locked=state.locked)
    return states, warnings


def plan_run(conn: Any, settings: Settings, states: list[StateFile], warnings: list[str]) -> Plan:
    from kubespray_cleanup.sources.inventory import list_inventory

    inventory = list_inventory(conn)
    for kind, why in inventory.skipped_kinds.items():
        warnings.append(f"{kind.value}s not listed: {why}")
    options = Options(
        now=now_utc(),
        min_age=settings.effective_min_age,
        state_max_age=settings.effective_state_max_age,
        live_owners=settings.live_owners,
    )
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
