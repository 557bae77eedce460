"""The working-directory source through the CLI: init, every workspace, state pull, then the same cleanup."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import FAST, Stage

BINARY = shutil.which("tofu") or shutil.which("terraform")
pytestmark = pytest.mark.skipif(BINARY is None, reason="needs the terraform or tofu binary on PATH")


def _working_dir(st: Stage, root: Path) -> Path:
    """A local-backend working dir with one workspace per pipeline state (mtimes and locks kept)."""
    work = root / "tfdir"
    work.mkdir()
    (work / "main.tf").write_text("terraform {}\n")
    for state in sorted(st.states.rglob("terraform.tfstate")):
        workspace = state.parent.name
        target = work / "terraform.tfstate.d" / workspace
        target.mkdir(parents=True)
        shutil.copy2(state, target / "terraform.tfstate")
        lock = state.parent / ".terraform.tfstate.lock.info"
        if lock.exists():
            shutil.copy2(lock, target / lock.name)
    return work


def test_tf_dir_workspaces_drive_the_same_cleanup(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """States pulled from workspaces give the same result as the state files: leaked gone, live kept, no 409."""
    st = stage("demo")
    work = _working_dir(st, tmp_path)
    live = {n for n in st.names() if n.startswith(("4709-", "4712-"))}
    env = {"TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.environ.get("TF_CLI_CONFIG_FILE", "")}
    result = st.run("--project", "elastx", "--tf-dir", str(work), "--terraform-bin", str(BINARY), *FAST, env=env)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert live <= st.names()
    assert not {n for n in st.names() if n.startswith(("4700-", "4705-", "4690-")) and "4650" not in n}
    assert st.conflicts() == 0


def test_broken_tf_dir_fails_closed(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """A working dir whose configuration does not parse: exit 5, nothing deleted."""
    st = stage("demo")
    work = tmp_path / "broken"
    work.mkdir()
    (work / "main.tf").write_text("terraform {\n")
    result = st.run("--project", "elastx", "--tf-dir", str(work), "--terraform-bin", str(BINARY), *FAST)
    assert result.exit_code == ExitCode.STATE
    assert st.requests("DELETE") == 0
