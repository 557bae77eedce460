"""JUnit XML for the pipeline page (``--junit FILE``, GitLab's ``artifacts:reports:junit``).

One ``<testcase>`` per planned action, in plan order: ``classname`` is the kind, ``name`` the resource label.
Deleted or detached = passed; failed = ``<failure>`` with the error and what blocked it; skipped dependents
and actions a dry run or an interruption did not attempt = ``<skipped>`` with the reason. Kept resources go
into a second suite, one ``<skipped>`` testcase per reason with the resources listed, so a project with
hundreds of live resources still gives a readable page. The layout is the common JUnit one (``testsuites``
> ``testsuite`` > ``testcase`` with ``failure``/``skipped`` children) that GitLab parses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from kubespray_cleanup.executor import DONE, FAILED, INTERRUPTED, SKIPPED, RunResult
from kubespray_cleanup.planner import ACTIONS, Plan
from kubespray_cleanup.report import reason_class

_LISTED_PER_REASON = 200  # resources named inside one kept-reason testcase; the rest are counted


def document(plan: Plan, result: RunResult | None, dry_run: bool = False) -> ET.ElementTree:
    """The JUnit tree for a plan and (unless a dry run) its outcome."""
    root = ET.Element("testsuites", name="tf-cleanup")
    actions = _actions_suite(root, plan, result, dry_run)
    kept = _kept_suite(root, plan)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(int(actions.get(attr, "0")) + int(kept.get(attr, "0"))))
    root.set("time", actions.get("time", "0"))
    return ET.ElementTree(root)


def write(path: Path, plan: Plan, result: RunResult | None, dry_run: bool = False) -> None:
    tree = document(plan, result, dry_run)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=name,
                         timestamp=datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"))


def _actions_suite(root: ET.Element, plan: Plan, result: RunResult | None, dry_run: bool) -> ET.Element:
    suite = _suite(root, f"tf-cleanup actions: project {plan.project_id} (profile {plan.profile})")
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    outcomes = result.outcomes if result is not None else {}
    for key in plan.order():
        entry = plan.entries[key]
        case = ET.SubElement(suite, "testcase", classname=entry.resource.kind.value, name=entry.resource.label)
        counts["tests"] += 1
        outcome = outcomes.get(key)
        if outcome is None:
            why = "dry run: would " + entry.decision if dry_run else "not attempted"
            ET.SubElement(case, "skipped", message=f"{why} ({entry.reason})")
            counts["skipped"] += 1
            continue
        case.set("time", f"{outcome.seconds:.3f}")
        if outcome.status == DONE:
            continue
        if outcome.status == FAILED:
            failure = ET.SubElement(case, "failure", message=outcome.message, type="delete_failed")
            failure.text = (f"{entry.decision} {entry.resource.label} failed after {outcome.attempts} attempt(s): "
                            f"{outcome.message}\nplanned because: {entry.reason}")
            counts["failures"] += 1
        elif outcome.status in (SKIPPED, INTERRUPTED):
            cause = outcomes.get(outcome.cause or "")
            message = outcome.message
            if cause is not None:
                message = f"{message} (root cause: {cause.label}: {cause.message})"
            ET.SubElement(case, "skipped", message=message)
            counts["skipped"] += 1
    if counts["tests"] == 0:
        ET.SubElement(suite, "testcase", classname="project", name="nothing dangling to delete")
        counts["tests"] = 1
    seconds = result.seconds if result is not None else 0.0
    for attr, value in counts.items():
        suite.set(attr, str(value))
    suite.set("errors", "0")
    suite.set("time", f"{seconds:.3f}")
    return suite


def _kept_suite(root: ET.Element, plan: Plan) -> ET.Element:
    suite = _suite(root, f"tf-cleanup kept: project {plan.project_id} (profile {plan.profile})")
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in plan.entries.values():
        if entry.decision not in ACTIONS:
            groups[(entry.decision, reason_class(entry.reason))].append(entry.resource.label)
    for (decision, reason), labels in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        case = ET.SubElement(suite, "testcase", classname=f"kept.{decision}", name=f"{reason} ({len(labels)})")
        skipped = ET.SubElement(case, "skipped", message=f"{decision}: {reason}")
        shown = sorted(labels)[:_LISTED_PER_REASON]
        more = len(labels) - len(shown)
        skipped.text = "\n".join(shown) + (f"\n... and {more} more" if more else "")
    for attr, value in (("tests", len(groups)), ("failures", 0), ("errors", 0), ("skipped", len(groups))):
        suite.set(attr, str(value))
    suite.set("time", "0")
    return suite
