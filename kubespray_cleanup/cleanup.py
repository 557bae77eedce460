"""One cleanup run: read states, list the cloud, plan, and (unless dry-run) execute that same plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from kubespray_cleanup.config import Profile
from kubespray_cleanup.errors import ExitCode, StateError
from kubespray_cleanup.executor import ExecutorOptions, RunResult
from kubespray_cleanup.planner import ACTIONS, Options, Plan, make_plan, now_utc
from kubespray_cleanup.sources.terraform_state import StateFile

log = structlog.get_logger("tf-cleanup")


@dataclass
class RunSettings:
    profile: Profile
    cloud: str
    state_paths: list[str] = field(default_factory=list)
    tf_dirs: list[str] = field(default_factory=list)
    terraform_bin: str | None = None
    backend_config: dict[str, str] = field(default_factory=dict)
    min_age: timedelta | None = None
    state_max_age: timedelta | None = None
    live_owners: frozenset[str] = frozenset()
    ignore_unreadable_state: bool = False
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)


def gather_states(settings: RunSettings) -> tuple[list[StateFile], list[str]]:
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


def plan_run(conn: Any, settings: RunSettings, states: list[StateFile], warnings: list[str]) -> Plan:
    from kubespray_cleanup.sources.inventory import list_inventory

    inventory = list_inventory(conn)
    for kind, why in inventory.skipped_kinds.items():
        warnings.append(f"{kind.value}s not listed: {why}")
    options = Options(
        now=now_utc(),
        min_age=settings.min_age if settings.min_age is not None else settings.profile.min_age,
        state_max_age=settings.state_max_age if settings.state_max_age is not None else settings.profile.state_max_age,
        live_owners=settings.live_owners,
    )
    plan = make_plan(inventory.resources, states, settings.profile, inventory.project_id, options, warnings)
    log.info("plan_made", resources=len(plan.entries), **{k: v for k, v in sorted(plan.by_decision().items())})
    return plan


def exit_code_for(plan: Plan, result: RunResult | None) -> ExitCode:
    if not any(e.decision in ACTIONS for e in plan.entries.values()):
        return ExitCode.NOTHING_TO_DO
    if result is None:
        return ExitCode.CLEAN
    if result.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.CLEAN if result.clean else ExitCode.LEFT_BEHIND
