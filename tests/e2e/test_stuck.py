"""Stuck resources end to end: a delete that never finishes is force-deleted when allowed, else reported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import FAST, Stage


def _stick(st: Stage, table: str, name: str, **fields: Any) -> str:
    with st.sim.store.lock:
        record = next(r for r in st.sim.store.table(table).values() if r.get("name") == name)
        record.update(fields)
        return str(record["id"])


def _admin_scoped_to_elastx(st: Stage) -> None:
    doc = yaml.safe_load(st.clouds.read_text())
    entry = yaml.safe_load(yaml.safe_dump(doc["clouds"]["admin"]))
    entry["auth"]["project_name"] = "elastx"
    doc["clouds"]["elastx-admin"] = entry
    st.clouds.write_text(yaml.safe_dump(doc))


def test_stuck_server_without_admin_is_left_and_reported(stage: Callable[..., Stage]) -> None:
    """A server whose delete never completes, even forced: exit 1, the summary names it and what was tried."""
    st = stage("demo")
    _stick(st, "servers", "4705-k8s-node-1", _stuck_delete=True)
    result = st.run("--project", "elastx", "--state", str(st.states), "--resource-timeout", "1", *FAST)
    assert result.exit_code == ExitCode.LEFT_BEHIND, result.output
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "4705-k8s-node-1" in failed[0]
    assert "still ACTIVE" in failed[0] and "tried: delete, force-delete" in failed[0]
    assert "ci-4700" not in st.names()
    assert st.conflicts() == 0


def test_stuck_server_and_volume_are_recovered_with_admin_credentials(stage: Callable[..., Stage]) -> None:
    """With admin rights: force delete for a stuck server, reset + force delete for an error_deleting volume."""
    st = stage("demo")
    _admin_scoped_to_elastx(st)
    _stick(st, "servers", "4705-k8s-node-1", _stuck_delete=True)
    _stick(st, "volumes", "4700-k8s-node-1-volume", status="error_deleting", attachments=[])
    result = st.run("--project", "elastx", "--cloud", "elastx-admin", "--state", str(st.states),
                    "--resource-timeout", "1", *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert not {"4705-k8s-node-1", "4700-k8s-node-1-volume", "ci-4705"} & st.names()
    other = st.sim.store.project_by_name("other")
    assert other is not None
    assert any(r.get("project_id") == other.id for r in st.sim.store.snapshot()["networks"])


def test_volume_attached_to_a_vanished_server_is_recovered_by_admin(stage: Callable[..., Stage]) -> None:
    """A volume still 'in-use' by a server that no longer exists: refused twice, then reset + force delete."""
    st = stage("demo")
    _admin_scoped_to_elastx(st)
    volume = _stick(st, "volumes", "4700-k8s-node-1-volume", status="in-use")
    _stick(st, "volumes", "4700-k8s-node-1-volume", attachments=[{
        "id": "a1", "attachment_id": "a1", "server_id": "0d7c1a59-gone", "volume_id": volume, "device": "/dev/vdb",
        "host_name": None, "attached_at": None}])
    result = st.run("--project", "elastx", "--cloud", "elastx-admin", "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert "4700-k8s-node-1-volume" not in st.names()
    assert '"delete_stuck"' in result.output and "no longer exists" in result.output
