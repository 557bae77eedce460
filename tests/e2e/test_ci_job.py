"""The cleanup as Kubespray's GitLab CI job runs it: OS_* credentials without clouds.yaml, exit codes a job can
live with, JUnit and audit-log artifacts, and one cleanup per cloud project at a time."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.lock import RunLock
from tests.e2e.conftest import FAST, Stage


def kubespray_env(st: Stage, **overrides: str | None) -> dict[str, str | None]:
    """Exactly the variable block of Kubespray's elastx CI job (.gitlab-ci/terraform.yml), pointed at the
    simulator: OS_* variables, no clouds.yaml anywhere."""
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    env: dict[str, str | None] = {
        "OS_AUTH_URL": st.sim.auth_url,
        "OS_PROJECT_ID": project.id,
        "OS_PROJECT_NAME": "elastx",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_ID": "default",
        "OS_USERNAME": "elastx-ci",
        "OS_PASSWORD": "elastx-password",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_CLIENT_CONFIG_FILE": None,
        "OS_CLOUD": None,
        "HOME": str(st.tmp / "home"),
        "CI": "true",
    }
    env.update(overrides)
    return env


def _run(st: Stage, *args: str, env: dict[str, str | None]) -> Any:
    from click.testing import CliRunner

    from kubespray_cleanup.cli import main

    cwd = os.getcwd()
    work = st.tmp / "job"  # a job's checkout: no ./clouds.yaml, no ./tf-cleanup.yaml
    work.mkdir(exist_ok=True)
    os.chdir(work)
    try:
        return CliRunner().invoke(main, list(args), env={"XDG_STATE_HOME": str(st.tmp / "state"), **env},
                                  catch_exceptions=False)
    finally:
        os.chdir(cwd)


def test_kubespray_variable_block_cleans_with_zero_conflicts_and_rerun_is_clean(stage: Callable[..., Stage]) -> None:
    """With only Kubespray's OS_* block, the kubespray scenario is cleaned (exit 0, no 409); the rerun has
    nothing to do and exits 0 too."""
    st = stage("kubespray")
    env = kubespray_env(st)
    first = _run(st, "--project", "elastx", "--state", str(st.states), *FAST, env=env)
    assert first.exit_code == ExitCode.CLEAN, first.output
    assert "Deleted or detached" in first.output
    assert st.conflicts() == 0
    again = _run(st, "--project", "elastx", "--state", str(st.states), *FAST, env=env)
    assert again.exit_code == ExitCode.CLEAN, again.output
    assert "Nothing to delete." in again.output


def test_application_credential_from_the_environment(stage: Callable[..., Stage]) -> None:
    """OS_AUTH_TYPE=v3applicationcredential with id and secret, no user or project variables."""
    from kubespray_cleanup.simulator.store import AppCredential

    st = stage("demo")
    store = st.sim.store
    user, project = store.user_by_name("elastx-ci"), store.project_by_name("elastx")
    assert user is not None and project is not None
    cred = AppCredential(id=store.new_hex_id(), name="ci", secret="app-secret-42", user_id=user.id,
                         project_id=project.id, roles=["member"])
    with store.lock:
        store.app_credentials[cred.id] = cred
    env = {k: v for k, v in kubespray_env(st).items() if not k.startswith("OS_")}
    env.update({"OS_AUTH_URL": st.sim.auth_url, "OS_AUTH_TYPE": "v3applicationcredential",
                "OS_APPLICATION_CREDENTIAL_ID": cred.id, "OS_APPLICATION_CREDENTIAL_SECRET": cred.secret,
                "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public", "OS_CLIENT_CONFIG_FILE": None})
    result = _run(st, "--project", "elastx", "--state", str(st.states), "--dry-run", "--output", "json", env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert json.loads(result.stdout)["plan"]["project_id"] == project.id
    assert "app-secret-42" not in result.output


def test_profile_cloud_in_clouds_yaml_wins_over_os_variables(stage: Callable[..., Stage]) -> None:
    """Both present: a clouds.yaml that defines the profile's cloud is used; wrong OS_* values are not read."""
    st = stage("demo")
    env = kubespray_env(st, OS_PASSWORD="not-the-password", OS_CLIENT_CONFIG_FILE=str(st.clouds))
    result = _run(st, "--project", "elastx", "--state", str(st.states), "--dry-run", env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output


def test_os_variables_are_used_when_clouds_yaml_lacks_the_profile_cloud(stage: Callable[..., Stage]) -> None:
    """A clouds.yaml for other clouds does not hide the OS_* credentials of the job."""
    st = stage("demo")
    other = st.tmp / "other-clouds.yaml"
    other.write_text("clouds:\n  somewhere:\n    auth: {auth_url: 'http://127.0.0.1:9/v3'}\n")
    result = _run(st, "--project", "elastx", "--state", str(st.states), "--dry-run",
                  env=kubespray_env(st, OS_CLIENT_CONFIG_FILE=str(other)))
    assert result.exit_code == ExitCode.CLEAN, result.output


def test_no_credentials_at_all_is_a_configuration_error(stage: Callable[..., Stage]) -> None:
    """Nothing configured: exit 3 and one line saying where it looked and what to set."""
    st = stage("demo")
    env = {k: (None if k.startswith("OS_") else v) for k, v in kubespray_env(st).items()}
    result = _run(st, "--project", "elastx", *FAST, env=env)
    assert result.exit_code == ExitCode.USAGE, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("tf-cleanup: error:")]
    assert len(lines) == 1, result.output
    assert "clouds.yaml" in lines[0] and "OS_AUTH_URL" in lines[0] and "--cloud" in lines[0]


def test_incomplete_os_variables_are_a_configuration_error(stage: Callable[..., Stage]) -> None:
    """OS_AUTH_URL without a password: exit 3, not a traceback or a cloud error."""
    st = stage("demo")
    result = _run(st, "--project", "elastx", *FAST, env=kubespray_env(st, OS_PASSWORD=None))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Traceback" not in result.output


def test_unreachable_identity_endpoint_prints_one_line_without_library_chatter(stage: Callable[..., Stage]) -> None:
    """keystoneauth's own warnings ("Failed to discover available identity versions") stay out of stderr."""
    st = stage("demo")
    result = _run(st, "--project", "elastx", *FAST, env=kubespray_env(st, OS_AUTH_URL="http://127.0.0.1:9/v3"))
    assert result.exit_code == ExitCode.CLOUD, result.output
    assert "Failed to discover" not in result.output
    assert "cannot reach the identity endpoint" in result.output


def test_bare_number_durations_are_refused(stage: Callable[..., Stage]) -> None:
    """--min-age 90 is ambiguous: refused with a hint to say 90s, 30m or 2h."""
    st = stage("demo")
    result = st.run("--project", "elastx", "--min-age", "90", "--dry-run")
    assert result.exit_code == ExitCode.USAGE
    assert "no unit" in result.output and "90s" in result.output


def test_detailed_exitcode_says_whether_a_dry_run_found_work(stage: Callable[..., Stage]) -> None:
    """--dry-run --detailed-exitcode: 2 with something to delete, 0 once the project is clean."""
    st = stage("demo")
    found = st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--detailed-exitcode")
    assert found.exit_code == ExitCode.CHANGES, found.output
    assert st.run("--project", "elastx", "--state", str(st.states), *FAST).exit_code == ExitCode.CLEAN
    clean = st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--detailed-exitcode")
    assert clean.exit_code == ExitCode.CLEAN, clean.output


def test_explicit_clean_subcommand_is_the_same_command(stage: Callable[..., Stage]) -> None:
    """``tf-cleanup clean --project elastx`` and ``tf-cleanup --project elastx`` plan the same."""
    st = stage("demo")
    bare = st.run("--project", "elastx", "--state", str(st.states), "--dry-run", "--output", "json")
    named = st.run("clean", "--project", "elastx", "--state", str(st.states), "--dry-run", "--output", "json")
    assert bare.exit_code == named.exit_code == ExitCode.CLEAN
    assert json.loads(bare.stdout)["plan"]["order"] == json.loads(named.stdout)["plan"]["order"]


def test_junit_has_one_testcase_per_action(stage: Callable[..., Stage]) -> None:
    """Every planned action is a testcase (passed when done); kept resources are grouped skipped testcases."""
    st = stage("demo")
    junit, report = st.tmp / "junit.xml", st.tmp / "report.json"
    result = st.run("--project", "elastx", "--state", str(st.states), "--junit", str(junit), "--report",
                    str(report), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    actions = st.report(report)["plan"]["actions"]
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    cases = suites[0].findall("testcase")
    assert len(cases) == len(actions) and actions
    assert [c.get("name") for c in cases] == [_label(a) for a in actions]
    assert all(c.get("classname") == a["kind"] for c, a in zip(cases, actions, strict=True))
    assert not any(c.find("failure") is not None or c.find("skipped") is not None for c in cases)
    assert suites[0].get("tests") == str(len(actions)) and suites[0].get("failures") == "0"
    kept = suites[1].findall("testcase")
    assert kept and all(c.find("skipped") is not None for c in kept)
    assert sum(int(c.get("name", "").rsplit("(", 1)[1].rstrip(")")) for c in kept) == \
        len(st.report(report)["plan"]["kept"])


def _label(action: dict[str, Any]) -> str:
    kind = str(action["kind"]).replace("_", " ")
    name, rid = action["name"], action["id"]
    return f"{kind} {name} ({rid[:8]})" if name and name != rid else f"{kind} {rid}"


def test_junit_of_a_failed_run_names_failure_and_skipped_dependents(stage: Callable[..., Stage]) -> None:
    """A delete that never finishes is a <failure> with what was tried; what depends on it is <skipped> naming
    the root cause."""
    st = stage("demo")
    with st.sim.store.lock:
        record = next(r for r in st.sim.store.table("servers").values() if r.get("name") == "4705-k8s-node-1")
        record["_stuck_delete"] = True
    junit = st.tmp / "junit.xml"
    result = st.run("--project", "elastx", "--state", str(st.states), "--junit", str(junit), "--resource-timeout",
                    "1", *FAST)
    assert result.exit_code == ExitCode.LEFT_BEHIND, result.output
    suite = ET.parse(junit).getroot().findall("testsuite")[0]
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name", "").split(" (")[0] for c in failed] == ["server 4705-k8s-node-1"]
    assert "tried: delete, force-delete" in (failed[0].find("failure").get("message") or "")  # type: ignore[union-attr]
    skipped = [c.find("skipped") for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert skipped and all("root cause: server 4705-k8s-node-1" in (s.get("message") or "") for s in skipped
                           if s is not None)
    assert suite.get("failures") == "1" and suite.get("skipped") == str(len(skipped))


def test_audit_log_has_one_line_per_mutating_call(stage: Callable[..., Stage]) -> None:
    """Every DELETE/PUT/POST the cloud answered (token requests aside) is one JSON line with its request id."""
    st = stage("demo")
    audit = st.tmp / "audit.jsonl"
    result = st.run("--project", "elastx", "--state", str(st.states), "--audit-log", str(audit), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    routes = st.sim.simulator.stats_json()["routes"]
    mutating = sum(r["count"] for r in routes if r["method"] in ("DELETE", "PUT", "POST", "PATCH")
                   and not r["route"].endswith("/auth/tokens"))
    assert len(lines) == mutating > 0
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    for line in lines:
        assert line["project_id"] == project.id
        assert line["kind"] and line["id"] and line["operation"] and line["request_id"].startswith("req-")
        assert line["status"] in (200, 202, 204, 404) and line["duration_ms"] >= 0
        assert line["time"].endswith("Z")
    operations = {line["operation"] for line in lines}
    assert {"delete", "remove_interface"} <= operations
    assert "elastx-password" not in audit.read_text()


def test_second_run_waits_for_the_lock_then_exits_with_the_lock_code(stage: Callable[..., Stage]) -> None:
    """While another cleanup of the same project holds the lock, a run waits --lock-timeout, then exits 7
    naming the holder, having deleted nothing."""
    st = stage("demo")
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    locks = st.tmp / "locks"
    with RunLock(locks, project.id, "elastx", timeout=1):
        result = st.run("--project", "elastx", "--state", str(st.states), "--lock-dir", str(locks),
                        "--lock-timeout", "1s", *FAST)
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert f"pid {os.getpid()}" in result.output and "--lock-timeout" in result.output
    assert st.requests("DELETE") == 0
    after = st.run("--project", "elastx", "--state", str(st.states), "--lock-dir", str(locks), *FAST)
    assert after.exit_code == ExitCode.CLEAN, after.output
    assert not list(locks.glob("*.holder.json"))  # released


def test_lock_left_by_a_dead_holder_is_taken_over_with_a_warning(stage: Callable[..., Stage]) -> None:
    """A holder killed without releasing leaves only its details: the next run takes over and says so."""
    st = stage("demo")
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    locks = st.tmp / "locks"
    locks.mkdir()
    (locks / f"{project.id}.holder.json").write_text(json.dumps(
        {"host": "runner-7", "pid": 999999, "started": "2026-12-01T00:00:00+00:00", "profile": "elastx",
         "job_url": "https://gitlab.example/job/1"}))
    result = st.run("--project", "elastx", "--state", str(st.states), "--lock-dir", str(locks), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert "lock_taken_over" in result.output and "runner-7" in result.output


def test_dry_run_does_not_wait_for_the_lock(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """A dry run changes nothing, so a cleanup holding the lock does not delay it."""
    st = stage("demo")
    project = st.sim.store.project_by_name("elastx")
    assert project is not None
    with RunLock(tmp_path / "locks", project.id, "elastx", timeout=1):
        result = st.run("--project", "elastx", "--state", str(st.states), "--lock-dir", str(tmp_path / "locks"),
                        "--lock-timeout", "1s", "--dry-run")
    assert result.exit_code == ExitCode.CLEAN, result.output
