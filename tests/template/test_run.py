"""The template's job scripts, run as a GitLab runner would, in the environment Kubespray's elastx CI job has:
``OS_*`` variables and no clouds.yaml, against the bundled simulator."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.template.conftest import TEMPLATE, installed_script, load, resolve_job


def _tf_cleanup() -> Path:
    return installed_script("tf-cleanup", "the tf-cleanup console script is not installed")


def _script(job: str) -> str:
    """The job's script as the runner's bash runs it; the package is installed already, so no pip install."""
    lines = [line for line in resolve_job(load(TEMPLATE), job)["script"] if "pip install" not in line]
    return "set -eo pipefail\n" + "\n".join(lines) + "\n"


class KubesprayJob:
    """A job environment like Kubespray's elastx CI job: the OS_* block, CI variables, nothing else."""

    def __init__(self, stage: Any, tmp: Path) -> None:
        auth = stage.sim.clouds()["clouds"]["elastx"]["auth"]
        project_id = stage.sim.connect("elastx").current_project_id
        self.project_dir = tmp / "project"
        self.project_dir.mkdir()
        home = tmp / "home"
        home.mkdir()
        defaults = {name: str(spec["value"]) for name, spec in load(TEMPLATE)["variables"].items()}
        self.env: dict[str, str] = {
            **defaults,
            # Settings > CI/CD > Variables of the project (OS_PASSWORD masked); no OS_CLOUD, no clouds.yaml
            "OS_AUTH_URL": auth["auth_url"],
            "OS_PROJECT_ID": project_id,
            "OS_PROJECT_NAME": auth["project_name"],
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_ID": "default",
            "OS_USERNAME": auth["username"],
            "OS_PASSWORD": auth["password"],
            "OS_REGION_NAME": "RegionOne",
            "OS_INTERFACE": "public",
            "OS_IDENTITY_API_VERSION": "3",
            # the states this pipeline knows of, and a short poll for the simulator's compressed time
            "TF_CLEANUP_ARGS": f"--state {stage.states} --poll-interval 0.02",
            # what the runner sets
            "CI": "true", "GITLAB_CI": "true", "CI_JOB_ID": "98765", "CI_PIPELINE_ID": "4321",
            "CI_PIPELINE_SOURCE": "schedule", "CI_PROJECT_DIR": str(self.project_dir),
            "HOME": str(home), "PATH": f"{_tf_cleanup().parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }

    def run(self, job: str) -> subprocess.CompletedProcess[str]:
        assert not any((self.project_dir / name).exists() for name in ("clouds.yaml", "clouds.yml"))
        return subprocess.run(["bash", "-c", _script(job)], cwd=self.project_dir, env=self.env, capture_output=True,
                               text=True, timeout=300, check=False)


def _explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"


def test_script_drops_only_the_install() -> None:
    for job in ("tf-cleanup", "tf-cleanup-check"):
        script = _script(job)
        assert "pip install" not in script
        assert script.count("tf-cleanup ") == 1


def test_check_then_cleanup_then_check_in_a_kubespray_job(stage: Callable[..., Any], tmp_path: Path) -> None:
    st = stage("demo")
    # room for a third cluster's security groups once the leftovers are gone (Neutron's default is 10: two
    # clusters and the default group take 9)
    st.sim.store.set_quota(st.sim.store.project_by_name("elastx").id, "network", security_group=20)
    ci = KubesprayJob(st, tmp_path)
    live = {name for name in st.names() if name.startswith(("4709-", "4712-"))}
    assert live

    check = ci.run("tf-cleanup-check")
    # the demo project is full (instances, cores, security groups) of what the cleanup would delete: 8
    assert check.returncode == 8, _explain(check)
    assert "fits after cleanup" in check.stdout
    assert (ci.project_dir / "tf-cleanup-check-junit.xml").exists()

    cleanup = ci.run("tf-cleanup")
    assert cleanup.returncode == 0, _explain(cleanup)
    # what the pipeline page shows: the JUnit report (Tests tab) and the artifacts
    junit = ET.parse(ci.project_dir / "tf-cleanup-junit.xml").getroot()
    assert junit.tag in {"testsuites", "testsuite"}
    cases = list(junit.iter("testcase"))
    assert cases, "the JUnit report has no test cases"
    assert not [case for case in cases if case.find("failure") is not None or case.find("error") is not None]
    report: dict[str, Any] = json.loads((ci.project_dir / "tf-cleanup-report.json").read_text())
    outcomes = report["result"]["outcomes"]
    assert outcomes and not report["result"]["root_causes"]
    assert len(cases) >= len(outcomes)
    audit = [json.loads(line) for line in (ci.project_dir / "tf-cleanup-audit.jsonl").read_text().splitlines()
             if line.strip()]
    assert len(audit) >= len(outcomes), "a mutating call is missing from the audit log"
    assert st.conflicts() == 0
    assert live <= st.names()  # the running pipelines kept everything
    assert st.sim.clouds()["clouds"]["elastx"]["auth"]["password"] not in cleanup.stdout + cleanup.stderr

    again = ci.run("tf-cleanup-check")
    assert again.returncode == 0, _explain(again)


def test_cleanup_without_credentials_fails_with_the_config_exit_code(stage: Callable[..., Any],
                                                                      tmp_path: Path) -> None:
    st = stage("demo")
    ci = KubesprayJob(st, tmp_path)
    for name in [key for key in ci.env if key.startswith("OS_")]:
        del ci.env[name]
    before = st.ids()
    result = ci.run("tf-cleanup")
    assert result.returncode == 3, _explain(result)
    assert "no such" not in result.stderr.lower(), _explain(result)  # refused for the credentials, not the options
    assert st.ids() == before
