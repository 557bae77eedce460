"""Real ``terraform`` against the simulated GitLab http backend: init, state push (with lock), then the pushed
state read back as a GitLab-managed source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig
from kubespray_cleanup.sources.gitlab_state import GitLabStates
from kubespray_cleanup.sources.terraform_state import load_state_file
from tests.gitlab.conftest import JOB_TOKEN, PROJECT_ID, PROJECT_PATH, READ_TOKEN

TERRAFORM = "/usr/local/bin/terraform" if os.access("/usr/local/bin/terraform", os.X_OK) else shutil.which("terraform")
FIXTURE = Path(__file__).parent.parent / "data" / "states" / "elastx-cluster.tfstate"
pytestmark = [pytest.mark.terraform,
              pytest.mark.skipif(TERRAFORM is None, reason="needs the terraform binary")]


def _terraform(work: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    return subprocess.run([TERRAFORM, *args], cwd=work, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_terraform_pushes_through_the_http_backend_and_we_read_it_back(
        make_gitlab: Callable[..., GitLabServer], tmp_path: Path) -> None:
    """terraform init + state push with the job token as a CI job does; the state lists, reads, and is unlocked."""
    gitlab = make_gitlab(jobs=[{"id": 4800, "status": "running", "token": JOB_TOKEN}])
    work = tmp_path / "work"
    work.mkdir()
    (work / "main.tf").write_text('terraform {\n  backend "http" {}\n}\n')
    address = f"{gitlab.api_url}/projects/{PROJECT_ID}/terraform/state/4800"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TF_IN_AUTOMATION": "1",
           "TF_CLI_CONFIG_FILE": str(tmp_path / "none.tfrc"), "TF_HTTP_ADDRESS": address,
           "TF_HTTP_LOCK_ADDRESS": f"{address}/lock", "TF_HTTP_UNLOCK_ADDRESS": f"{address}/lock",
           "TF_HTTP_LOCK_METHOD": "POST", "TF_HTTP_UNLOCK_METHOD": "DELETE", "TF_HTTP_USERNAME": "gitlab-ci-token",
           "TF_HTTP_PASSWORD": JOB_TOKEN, "TF_HTTP_RETRY_WAIT_MIN": "1"}
    (tmp_path / "none.tfrc").write_text("")
    init = _terraform(work, env, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    push = _terraform(work, env, "state", "push", "-no-color", str(FIXTURE))
    assert push.returncode == 0, push.stderr
    routes = {(r["method"], r["route"]) for r in gitlab.stats()["routes"]}
    assert ("POST", "/projects/:id/terraform/state/:name/lock") in routes
    assert ("DELETE", "/projects/:id/terraform/state/:name/lock") in routes
    remote = GitLabStates(GitLabConfig(url=gitlab.url, project=str(PROJECT_ID), token=READ_TOKEN,
                                       project_path=PROJECT_PATH))
    listed = remote.list()
    assert [(s.name, s.locked_at) for s in listed] == [("4800", None)]
    state = remote.fetch(listed[0])
    pulled = _terraform(work, env, "state", "pull")
    assert pulled.returncode == 0, pulled.stderr
    assert state.lineage == json.loads(pulled.stdout)["lineage"]  # what terraform itself reads back
    assert state.ids() == load_state_file(FIXTURE).ids() and state.ids()
    assert state.owner_hint == "4800" and not state.locked
