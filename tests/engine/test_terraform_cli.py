"""Tests for pulling workspace states through the real terraform/tofu binary, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kubespray_cleanup.errors import StateError
from kubespray_cleanup.model import Kind
from kubespray_cleanup.sources.terraform_cli import _first_error_line, find_terraform_binary, pull_states

ELASTX = Path(__file__).resolve().parents[1] / "data" / "states" / "elastx-cluster.tfstate"
BUILTIN_PROVIDER = 'provider["terraform.io/builtin/terraform"]'
OPENSTACK_PROVIDER = 'provider["registry.terraform.io/terraform-provider-openstack/openstack"]'
CONFIG = 'terraform {}\n\noutput "ready" {\n  value = true\n}\n'
CLI_CONFIG_WARNING = (
    "There are some problems with the CLI configuration:\n"
    "╷\n│ Warning: Unable to open CLI configuration file\n│\n"
    '│ The CLI configuration file at "/root/.terraformrc" does not exist.\n╵\n\n'
)


def _state(network_id: str, provider: str, serial: int = 1) -> dict[str, Any]:
    """A v4 state owning one network; the builtin provider keeps `init` offline."""
    instance = {"schema_version": 0, "attributes": {"id": network_id, "name": f"ci-{network_id}"}}
    resource = {
        "mode": "managed",
        "type": "openstack_networking_network_v2",
        "name": "k8s",
        "provider": provider,
        "instances": [instance],
    }
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": serial,
        "lineage": f"lineage-{network_id}",
        "outputs": {},
        "resources": [resource],
    }


@pytest.fixture(scope="module")
def terraform() -> str:
    try:
        return find_terraform_binary(None)
    except StateError:
        pytest.skip("neither tofu nor terraform is on PATH")


def _tf(binary: str, tf_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [binary, *args], cwd=tf_dir, capture_output=True, text=True, timeout=30, check=True, stdin=subprocess.DEVNULL
    )
    return done.stdout


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


@pytest.fixture
def workdir(tmp_path: Path, terraform: str) -> Path:
    """default (written), staging (state push), prod (written), empty (no state); staging selected.

    `init` installs the providers the selected workspace's state names, so that state (and
    default's, selected during the first init) uses the builtin provider; prod names openstack.
    """
    tf_dir = tmp_path / "cluster"
    tf_dir.mkdir()
    (tf_dir / "main.tf").write_text(CONFIG)
    _write(tf_dir / "terraform.tfstate", _state("net-default", BUILTIN_PROVIDER))
    _tf(terraform, tf_dir, "init", "-input=false", "-no-color")
    _tf(terraform, tf_dir, "workspace", "new", "-no-color", "staging")
    _write(tmp_path / "push.json", _state("net-staging", BUILTIN_PROVIDER, serial=4))
    _tf(terraform, tf_dir, "state", "push", str(tmp_path / "push.json"))
    _write(tf_dir / "terraform.tfstate.d" / "prod" / "terraform.tfstate", _state("net-prod", OPENSTACK_PROVIDER))
    (tf_dir / "terraform.tfstate.d" / "empty").mkdir()
    return tf_dir


@pytest.mark.terraform
def test_pulls_default_and_every_workspace_with_state(workdir: Path, terraform: str) -> None:
    """default and both seeded workspaces are pulled and parsed; the empty workspace gives nothing."""
    states = pull_states(workdir, binary=terraform)
    by_source = {s.source: s for s in states}
    assert set(by_source) == {f"workspace {name} in {workdir}" for name in ("default", "prod", "staging")}
    assert {s.source.split()[1]: s.ids() for s in states} == {
        "default": {(Kind.NETWORK, "net-default")},
        "prod": {(Kind.NETWORK, "net-prod")},
        "staging": {(Kind.NETWORK, "net-staging")},
    }
    assert by_source[f"workspace staging in {workdir}"].serial == 4
    assert all(s.modified_at is not None and not s.locked for s in states)


@pytest.mark.terraform
def test_original_workspace_is_restored(workdir: Path, terraform: str) -> None:
    """After pulling, the workspace selected before the run is selected again."""
    pull_states(workdir, binary=terraform)
    assert _tf(terraform, workdir, "workspace", "show").strip() == "staging"


@pytest.mark.terraform
def test_tf_workspace_env_does_not_pin_the_workspace(
    workdir: Path, terraform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TF_WORKSPACE in our environment does not stop us selecting each workspace."""
    monkeypatch.setenv("TF_WORKSPACE", "prod")
    assert len(pull_states(workdir, binary=terraform)) == 3


@pytest.mark.terraform
def test_lock_info_marks_only_current_workspace_locked(workdir: Path, terraform: str) -> None:
    """Terraform writes .terraform.tfstate.lock.info in the working dir for the selected workspace."""
    (workdir / ".terraform.tfstate.lock.info").write_text('{"ID": "x", "Path": "terraform.tfstate"}')
    locked = {s.source.split()[1]: s.locked for s in pull_states(workdir, binary=terraform)}
    assert locked == {"default": False, "prod": False, "staging": True}


@pytest.mark.terraform
def test_backend_config_pairs_reach_init(tmp_path: Path, terraform: str) -> None:
    """backend_config becomes -backend-config=key=value: the local backend reads a custom path."""
    tf_dir = tmp_path / "custom"
    tf_dir.mkdir()
    (tf_dir / "main.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    fixture = json.loads(ELASTX.read_text())
    for resource in fixture["resources"]:
        resource["provider"] = BUILTIN_PROVIDER
    _write(tf_dir / "elsewhere.tfstate", fixture)
    states = pull_states(tf_dir, binary=terraform, backend_config={"path": "elsewhere.tfstate"})
    assert [len(s.entries) for s in states] == [31]
    assert len(states[0].ids()) == 28


@pytest.mark.terraform
def test_broken_config_raises_state_error_with_error_line(tmp_path: Path, terraform: str) -> None:
    """A config that does not parse fails init with a one-line StateError naming the dir."""
    (tmp_path / "main.tf").write_text("terraform {\n")
    with pytest.raises(StateError) as caught:
        pull_states(tmp_path, binary=terraform)
    assert caught.value.source == str(tmp_path)
    assert caught.value.reason == "init failed (exit 1): Error: Unclosed configuration block"
    assert "\n" not in str(caught.value)


@pytest.mark.terraform
def test_corrupt_workspace_state_names_workspace_and_restores(workdir: Path, terraform: str) -> None:
    """A workspace whose state cannot be read fails naming it, and the original workspace comes back."""
    bad = workdir / "terraform.tfstate.d" / "broken" / "terraform.tfstate"
    bad.parent.mkdir()
    bad.write_text('{"version": 4, "serial": ')
    with pytest.raises(StateError) as caught:
        pull_states(workdir, binary=terraform)
    assert caught.value.source == f"workspace broken in {workdir}"
    assert caught.value.reason.startswith("state pull failed (exit 1): Failed to refresh state")
    assert "\n" not in str(caught.value)
    assert _tf(terraform, workdir, "workspace", "show").strip() == "staging"


def test_missing_directory_raises_state_error(tmp_path: Path) -> None:
    """A working dir that does not exist raises StateError before any command runs."""
    with pytest.raises(StateError, match="not a directory"):
        pull_states(tmp_path / "absent", binary="terraform")


def test_timeout_kills_process_group_and_raises(tmp_path: Path) -> None:
    """A hanging binary (with a child holding its pipes, like a provider plugin) is killed at the timeout."""
    fake = tmp_path / "tofu"
    fake.write_text(
        f"#!{sys.executable}\nimport subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\ntime.sleep(30)\n"
    )
    fake.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(StateError, match=r"init timed out after 0\.5s"):
        pull_states(tmp_path, binary=str(fake), timeout=0.5)
    assert time.monotonic() - started < 5


def test_explicit_binary_that_does_not_exist_raises(tmp_path: Path) -> None:
    """An explicit binary path that is missing raises StateError."""
    with pytest.raises(StateError, match="not found or not executable"):
        find_terraform_binary(str(tmp_path / "terraform"))


def test_no_binary_on_path_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tofu or terraform on PATH the lookup fails with StateError('terraform', ...)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StateError) as caught:
        find_terraform_binary(None)
    assert caught.value.source == "terraform" and "no terraform or tofu binary found" in caught.value.reason


def test_tofu_preferred_over_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tofu is chosen before terraform when both are on PATH."""
    for name in ("tofu", "terraform"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_terraform_binary(None) == str(tmp_path / "tofu")
    assert shutil.which("terraform") == str(tmp_path / "terraform")


def test_error_line_skips_cli_config_warning() -> None:
    """The reported line is the error, not Terraform's CLI-config warning box."""
    error_box = "╷\n│ Error: Unclosed configuration block\n│\n│   on main.tf line 1\n╵\n"
    assert _first_error_line(CLI_CONFIG_WARNING + error_box) == "Error: Unclosed configuration block"
    plain = CLI_CONFIG_WARNING + '\n\x1b[31mWorkspace "nope" doesn\'t exist.\x1b[0m\n'
    assert _first_error_line(plain) == 'Workspace "nope" doesn\'t exist.'
    assert _first_error_line("") == "no error output"
