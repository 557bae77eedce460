"""JUnit rendering, audit-log operation names and stable plan numbering (pure logic, no cloud)."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubespray_cleanup import junit
from kubespray_cleanup.audit import operation_of
from kubespray_cleanup.config import get_profile
from kubespray_cleanup.executor import DONE, FAILED, SKIPPED, Outcome, RunResult
from kubespray_cleanup.planner import Options, Plan, make_plan
from kubespray_cleanup.synthetic import PROJECT, inventory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SCHEMA = Path(__file__).parents[1] / "data" / "junit" / "junit.xsd"


def _plan(leaked: int = 2, live: int = 1, seed: int | None = None) -> Plan:
    resources = inventory(leaked=leaked, live=live, now=NOW)
    if seed is not None:
        random.Random(seed).shuffle(resources)
    return make_plan(resources, [], get_profile("elastx"), PROJECT,
                     Options(now=NOW, min_age=timedelta(hours=2), state_max_age=timedelta(hours=3)))


def _validate(path: Path) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(path))


def test_plan_numbering_does_not_depend_on_listing_order() -> None:
    """The same project listed in another order gets the same numbers: the order is the plan's, not the API's."""
    assert _plan(seed=1).order() == _plan(seed=2).order() == _plan().order()


def test_dry_run_junit_is_valid_and_skips_every_action(tmp_path: Path) -> None:
    """A dry run: one skipped testcase per action ("dry run: would delete"), kept resources grouped by reason."""
    plan = _plan()
    path = tmp_path / "dry.xml"
    junit.write(path, plan, None, dry_run=True)
    _validate(path)
    suites = ET.parse(path).getroot().findall("testsuite")
    cases = suites[0].findall("testcase")
    assert len(cases) == len(plan.order())
    assert all((c.find("skipped").get("message") or "").startswith("dry run: would ")  # type: ignore[union-attr]
               for c in cases)
    kept = sum(1 for e in plan.entries.values() if e.decision not in ("delete", "detach"))
    assert sum(int((c.get("name") or "").rsplit("(", 1)[1].rstrip(")")) for c in suites[1].findall("testcase")) == kept


def test_junit_failure_and_root_cause_of_skipped_dependents(tmp_path: Path) -> None:
    """Failed = <failure> with message and details; its dependents = <skipped> naming the root cause."""
    plan = _plan(leaked=1, live=0)
    order = plan.order()
    root, dependent = order[0], order[-1]
    labels = {k: plan.entries[k].resource.label for k in order}
    result = RunResult(seconds=3.5)
    for key in order:
        result.outcomes[key] = Outcome(key, labels[key], DONE, "deleted", 1, 0.25)
    result.outcomes[root] = Outcome(root, labels[root], FAILED, "409: Conflict", 6, 2.0)
    result.outcomes[dependent] = Outcome(dependent, labels[dependent], SKIPPED, f"depends on {labels[root]}",
                                         cause=root)
    path = tmp_path / "run.xml"
    junit.write(path, plan, result)
    _validate(path)
    suite = ET.parse(path).getroot().findall("testsuite")[0]
    assert suite.get("failures") == "1" and suite.get("skipped") == "1" and suite.get("time") == "3.500"
    by_name = {c.get("name"): c for c in suite.findall("testcase")}
    failure = by_name[labels[root]].find("failure")
    assert failure is not None and failure.get("message") == "409: Conflict" and "6 attempt(s)" in (failure.text or "")
    skipped = by_name[labels[dependent]].find("skipped")
    assert skipped is not None and f"root cause: {labels[root]}: 409: Conflict" in (skipped.text or "")


def test_junit_of_a_clean_project_has_one_passing_testcase(tmp_path: Path) -> None:
    """Nothing to do still gives GitLab a test to show (and a valid file)."""
    plan = make_plan([], [], get_profile("elastx"), PROJECT,
                     Options(now=NOW, min_age=timedelta(hours=2), state_max_age=timedelta(hours=3)))
    path = tmp_path / "clean.xml"
    junit.write(path, plan, RunResult())
    _validate(path)
    cases = ET.parse(path).getroot().findall("testsuite")[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["nothing dangling to delete"]


@pytest.mark.parametrize(("method", "path", "body", "operation"), [
    ("DELETE", "/v2.0/ports/abc", None, "delete"),
    ("PUT", "/v2.0/routers/r1/remove_router_interface", b'{"subnet_id": "s"}', "remove_interface"),
    ("PUT", "/v2.0/routers/r1/remove_extraroutes", b'{"router": {"routes": []}}', "remove_routes"),
    ("PUT", "/v2.0/floatingips/f1", b'{"floatingip": {"port_id": null}}', "disassociate"),
    ("POST", "/v2.1/servers/s1/action", b'{"forceDelete": null}', "force_delete"),
    ("POST", "/v3/p/volumes/v1/action", b'{"os-reset_status": {"status": "error"}}', "reset_state"),
    ("POST", "/v3/p/volumes/v1/action", '{"os-force_delete": {}}', "force_delete"),
])
def test_audit_operation_names_come_from_the_request(method: str, path: str, body: bytes | str | None,
                                                      operation: str) -> None:
    """Each mutating call the executor makes is named for what it does, from method, path and body alone."""
    assert operation_of(method, path, body) == operation
