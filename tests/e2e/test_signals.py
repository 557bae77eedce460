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
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": "true", "XDG_STATE_HOME": str(st.tmp / "state")}
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
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == ExitCode.INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    doc = json.loads(report.read_text())
    assert doc["result"]["interrupted"] is True
    statuses = {o["status"] for o in doc["result"]["outcomes"]}
    assert "interrupted" in statuses and "done" in statuses


def test_sigterm_while_planning_exits_interrupted_without_deleting(stage: Callable[..., Stage]) -> None:
    """A signal before the plan is made: one line, exit 6, and not a single DELETE."""
    st = stage("demo", latency="realistic", time_scale=0.05)
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": "true", "XDG_STATE_HOME": str(st.tmp / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(st.states), "--yes"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not st.requests("GET") and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == ExitCode.INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    assert "interrupted before anything was deleted" in err
    assert st.requests("DELETE") == 0


def test_rerun_after_a_kill_explains_what_changed_since(stage: Callable[..., Stage]) -> None:
    """SIGKILL mid-run, then rerun: the journal's unfinished actions are summarised and the rerun converges."""
    st = stage("demo", latency="realistic", time_scale=2.0)
    journal = st.tmp / "journal.jsonl"
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(st.clouds), "CI": "true"}
    command = [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(st.states), "--yes",
               "--journal", str(journal), "--poll-interval", "0.1"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deleted = 0
    for line in proc.stderr:
        deleted += '"resource_deleted"' in line
        if deleted == 3:
            break
    proc.kill()
    proc.wait(timeout=30)
    lines = journal.read_text().splitlines()
    assert '"planned"' in lines[0] and '"finished"' not in lines[-1]
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == ExitCode.CLEAN, rerun.stderr[-2000:]
    assert "Note: previous run started" in rerun.stdout
    assert "stopped after 3 of" in rerun.stdout or "stopped after" in rerun.stdout
    assert st.conflicts() == 0
    assert '"finished"' in journal.read_text().splitlines()[-1]
