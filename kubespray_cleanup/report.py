"""Renderings of a Plan and a RunResult: a human table, JSON, and the report file."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from kubespray_cleanup.executor import RunResult
from kubespray_cleanup.planner import ACTIONS, BLOCKED, Plan
from kubespray_cleanup.sources.gitlab_state import PurgeDecision
from kubespray_cleanup.windows import WINDOW_OWNER

_MARK = {"delete": "-", "detach": "~", "keep": "=", "protected": "#", "blocked": "!"}


def plan_text(plan: Plan, verbose: bool = False) -> str:
    """Owner groups with their actions; kept resources only when verbose or when they block something."""
    lines = [f"Plan for project {plan.project_id} (profile {plan.profile}):"]
    counts = plan.by_decision()
    lines.append("  " + ", ".join(f"{counts.get(d, 0)} {d}" for d in ("delete", "detach", "blocked", "keep",
                                                                         "protected")))
    for state in plan.states:
        fate = "live" if state.live else "dead"
        lines.append(f"  state {state.source}: {fate} ({state.why}), owner {state.owner or '-'}, "
                     f"{state.resources} resources still exist")
    order = {k: i for i, k in enumerate(plan.order())}
    for owner, entries in plan.owners().items():
        shown = [e for e in entries if verbose or e.decision in ACTIONS or e.decision == BLOCKED]
        if not shown:
            continue
        title = f"pipeline {owner}" if owner not in ("-", WINDOW_OWNER) else ("no owner" if owner == "-" else owner)
        job = plan.jobs.get(owner)
        if job is not None:
            title += f" ({job.describe()}{', ' + job.web_url if job.web_url else ''})"
        lines.append(f"\n  {title}:")
        shown.sort(key=lambda e: (order.get(e.resource.key, 10**9), e.resource.key))
        for entry in shown:
            step = f"{order[entry.resource.key] + 1:>4}." if entry.resource.key in order else "     "
            lines.append(f"  {step} {_MARK[entry.decision]} {entry.decision:<9} {entry.resource.label:<58} "
                         f"{entry.reason}")
    for warning in plan.warnings:
        lines.append(f"  warning: {warning}")
    if not any(e.decision in ACTIONS for e in plan.entries.values()):
        lines.append("\n  Nothing to delete.")
    return "\n".join(lines) + "\n"


def purge_text(decisions: list[PurgeDecision]) -> str:
    """One line per GitLab-managed state: purged (or would be), or kept and why."""
    if not decisions:
        return ""
    lines = ["GitLab-managed states:"]
    for decision in decisions:
        if decision.purge:
            lines.append(f"  {decision.outcome or 'purge'}: {decision.name} ({decision.reason})")
        else:
            lines.append(f"  kept: {decision.name} ({decision.reason})")
    return "\n".join(lines) + "\n"


def summary_text(plan: Plan, result: RunResult, conflicts: int | None = None) -> str:
    done = result.with_status("done")
    lines = [f"Deleted or detached {len(done)} of {len(result.outcomes)} in {result.seconds:.1f}s."]
    kept = [e for e in plan.entries.values() if e.decision not in ACTIONS]
    if kept:
        parts = [f"{n} {d}" for d, n in sorted(plan.by_decision().items()) if d not in ACTIONS]
        lines.append(f"Kept {len(kept)} ({', '.join(parts)}):")
        reasons = Counter(reason_class(e.reason) for e in kept)
        lines += [f"  {n:>4} x {reason}" for reason, n in reasons.most_common()]
    if conflicts is not None:
        lines.append(f"409 conflicts served by the cloud: {conflicts}.")
    for cause in result.root_causes:
        skipped = sum(1 for o in result.outcomes.values() if o.cause == cause.key)
        extra = f"; {skipped} dependent(s) skipped" if skipped else ""
        lines.append(f"FAILED {cause.label}: {cause.message}{extra}")
    if result.interrupted:
        lines.append("Interrupted: remaining resources were not attempted.")
    return "\n".join(lines) + "\n"


def reason_class(reason: str) -> str:
    """A kept reason without the per-resource detail, so equal reasons group together."""
    if reason.startswith("blocked by "):
        return "blocked by a kept resource"
    return reason.split(" (")[0]


def report_document(plan: Plan, result: RunResult | None, extra: dict[str, Any] | None = None,
                    purges: list[PurgeDecision] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"plan": plan.to_dict()}
    if result is not None:
        doc["result"] = result.to_dict()
    if purges is not None:
        doc["purge"] = [d.to_dict() for d in purges]
    doc.update(extra or {})
    return doc


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n"
