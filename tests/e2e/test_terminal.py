"""What the run looks like where it runs: JSON lines in CI, plain lines in a pipe, a progress display on a
terminal with the per-resource events in --log-file (the README's rule, end to end in a subprocess)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import Stage


def _env(st: Stage, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "OS_CLOUD")}
    env.update({"OS_CLIENT_CONFIG_FILE": str(st.clouds), "XDG_STATE_HOME": str(st.tmp / "state"), **extra})
    return env


def _command(st: Stage, *extra: str) -> list[str]:
    return [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", str(st.states),
            "--poll-interval", "0.02", "--yes", *extra]


def test_ci_gets_json_lines_only(stage: Callable[..., Stage]) -> None:
    """CI set: every stderr line is a JSON object; stdout has the plan and the summary."""
    st = stage("demo")
    proc = subprocess.run(_command(st), env=_env(st, CI="true"), capture_output=True, text=True, timeout=180)
    assert proc.returncode == ExitCode.CLEAN, proc.stderr[-2000:]
    events = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    assert any(e["event"] == "resource_deleted" for e in events)
    assert "Deleted or detached" in proc.stdout


def test_pipe_without_ci_gets_plain_lines(stage: Callable[..., Stage]) -> None:
    """No CI and no terminal: readable key=value lines, no JSON, no colour codes, no progress display."""
    st = stage("demo")
    proc = subprocess.run(_command(st), env=_env(st), capture_output=True, text=True, timeout=180)
    assert proc.returncode == ExitCode.CLEAN, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any("resource_deleted" in line and "resource=" in line for line in lines)
    assert not any(line.lstrip().startswith("{") for line in lines)
    assert "\x1b[" not in proc.stderr


def _run_in_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, env={**env, "TERM": "xterm", "COLUMNS": "120"}, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = proc.wait(timeout=180)
    reader.join(timeout=10)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_terminal_gets_a_progress_display_and_the_log_goes_to_the_log_file(stage: Callable[..., Stage],
                                                                          tmp_path: Path) -> None:
    """On a terminal: the live display (phases, counts), no per-resource lines between plan and summary;
    --log-file holds every event as JSON."""
    st = stage("demo")
    log_file = tmp_path / "run.log"
    code, screen = _run_in_terminal(_command(st, "--log-file", str(log_file)), _env(st))
    assert code == ExitCode.CLEAN, screen[-3000:]
    assert "planning" in screen and "deleting" in screen
    assert "failed 0" in screen and "pending 0" in screen
    assert "resource_deleted" not in screen
    assert "Deleted or detached" in screen
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    deleted = [e for e in events if e["event"] in ("resource_deleted", "resource_detached")]
    assert deleted and all("resource" in e for e in deleted)
