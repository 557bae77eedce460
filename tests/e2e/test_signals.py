"""SIGINT/SIGTERM during a run: in-flight calls end, the report is written, exit code 'interrupted'."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import Stage


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_run_writes_report_and_exits_interrupted(stage: Callable[..., Stage], signum: int) -> None:
    """A signal after the plan: no new calls start, the report says interrupted, exit code 6."""
    st = stage("demo", latency="realistic", time_scale=1.0)
    report = st.tmp / "report.json"
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(st.states), "--yes",
         "--report", str(report), "--poll-interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    for line in proc.stderr:
        if '"resource_deleted"' in line or time.monotonic() > deadline:
            break
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    doc = json.loads(report.read_text())
    assert doc["result"]["interrupted"] is True
    statuses = {o["status"] for o in doc["result"]["outcomes"]}
    assert "interrupted" in statuses and "done" in statuses


def test_sigterm_while_planning_exits_interrupted_without_deleting(stage: Callable[..., Stage]) -> None:
    """A signal before the plan is made: one line, exit 6, and not a single DELETE."""
    st = stage("demo", latency="realistic", time_scale=0.05)
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(st.states), "--yes"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not st.requests("GET") and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    assert "interrupted before anything was deleted" in err
    assert st.requests("DELETE") == 0
