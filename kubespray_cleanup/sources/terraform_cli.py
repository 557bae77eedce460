"""Pull every workspace's state through the terraform/tofu CLI, for remote backends the parser cannot read."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

from kubespray_cleanup.errors import StateError
from kubespray_cleanup.sources.terraform_state import StateFile, parse_state

BINARY_CANDIDATES = ("tofu", "terraform")
LOCK_INFO_NAME = ".terraform.tfstate.lock.info"
BOX_CHARS = "│╷╵ \t"
SCRUBBED_ENV = ("TF_WORKSPACE",)
CLI_CONFIG_HEADER = "There are some problems with the CLI configuration:"
MAX_DETAIL = 240
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def find_terraform_binary(explicit: str | None) -> str:
    """The binary to run: ``explicit`` if given, else ``tofu`` then ``terraform`` on PATH."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise StateError("terraform", f"binary {explicit!r} not found or not executable")
        return found
    for candidate in BINARY_CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    raise StateError("terraform", "no terraform or tofu binary found on PATH (use an explicit binary path)")


def pull_states(
    tf_dir: Path,
    binary: str | None = None,
    backend_config: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> list[StateFile]:
    """Init ``tf_dir``, then pull the state of every workspace; the selected workspace is restored."""
    if not tf_dir.is_dir():
        raise StateError(str(tf_dir), "not a directory")
    cli = _Cli(tf_dir, find_terraform_binary(binary), timeout)
    cli.run(str(tf_dir), "init", backend_config=dict(backend_config or {}), reconfigure=IsFlagged, input=False)
    names, original = _parse_workspaces(cli.run(str(tf_dir), "workspace list").decode(errors="replace"))
    states: list[StateFile] = []
    selected = original
    try:
        for name in names:
            source = f"workspace {name} in {tf_dir}"
            if name != selected:
                cli.run(source, "workspace select", name)
                selected = name
            pulled = cli.run(source, "state pull")
            if pulled.strip():
                locked = _is_locked(tf_dir, name, current=name == original)
                states.append(parse_state(pulled, source, modified_at=_local_mtime(tf_dir, name), locked=locked))
    except BaseException:
        with contextlib.suppress(StateError):
            _restore(cli, tf_dir, selected, original)
        raise
    _restore(cli, tf_dir, selected, original)
    return states


def _restore(cli: _Cli, tf_dir: Path, selected: str, original: str) -> None:
    if selected != original:
        cli.run(f"workspace {original} in {tf_dir}", "workspace select", original)


class _Terraform(Terraform):  # type: ignore[misc]
    """python-terraform's wrapper without its implicit local state reads.

    ``Terraform`` json-loads ``terraform.tfstate`` from the working dir in its
    constructor and after every successful command; a corrupt or foreign file
    there would raise from inside the library.  We parse pulled state ourselves.
    """

    def read_state_file(self, file_path: str | None = None) -> None:
        self.tfstate = None


@dataclass
class _Cli:
    """Builds argv with python-terraform and runs it with a timeout (its ``cmd`` has none)."""

    tf_dir: Path
    binary: str
    timeout: float

    def __post_init__(self) -> None:
        self.terraform = _Terraform(working_dir=str(self.tf_dir), terraform_bin_path=self.binary)

    def run(self, source: str, command: str, *args: str, **options: Any) -> bytes:
        argv: list[str] = self.terraform.generate_cmd_string(command, *args, no_color=IsFlagged, **options)
        try:
            returncode, stdout, stderr = _run_bounded(argv, self.tf_dir, self.timeout)
        except subprocess.TimeoutExpired:
            raise StateError(source, f"{command} timed out after {self.timeout:g}s") from None
        except OSError as exc:
            raise StateError(source, f"cannot run {self.binary}: {exc.strerror or exc}") from None
        if returncode != 0:
            detail = _first_error_line(stderr.decode(errors="replace"))
            raise StateError(source, f"{command} failed (exit {returncode}): {detail}")
        return stdout


def _run_bounded(argv: list[str], cwd: Path, timeout: float) -> tuple[int, bytes, bytes]:
    """Run argv in its own process group, killing the whole group (provider plugins too) on timeout."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=_child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return process.returncode, stdout, stderr


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env


def _parse_workspaces(listing: str) -> tuple[list[str], str]:
    names: list[str] = []
    current = "default"
    for line in listing.splitlines():
        name = line.strip()
        if name.startswith("*"):
            name = name[1:].strip()
            current = name
        if name:
            names.append(name)
    return names or [current], current


def _local_mtime(tf_dir: Path, workspace: str) -> datetime | None:
    """When a local-backend workspace state was last written; None for remote backends."""
    path = tf_dir / "terraform.tfstate" if workspace == "default" else (
        tf_dir / "terraform.tfstate.d" / workspace / "terraform.tfstate")
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def _is_locked(tf_dir: Path, workspace: str, current: bool) -> bool:
    if current and (tf_dir / LOCK_INFO_NAME).exists():
        return True
    return (tf_dir / "terraform.tfstate.d" / workspace / LOCK_INFO_NAME).exists()


def _first_error_line(stderr: str) -> str:
    """The diagnostic that says what went wrong, as one line, past warning boxes and colour codes."""
    paragraphs = _paragraphs(ANSI_ESCAPE.sub("", stderr))
    if not paragraphs:
        return "no error output"
    errors = [p for p in paragraphs if p.startswith("Error")]
    specific = [p for p in errors if not p.endswith("described below.")]
    if specific or errors:
        return _shorten((specific or errors)[0])
    first = paragraphs[0]
    if first.endswith(":") and len(paragraphs) > 1:
        first = f"{first} {paragraphs[1]}"
    return _shorten(first)


def _paragraphs(stderr: str) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    in_warning = False
    for raw in [*stderr.splitlines(), ""]:
        line = raw.strip(BOX_CHARS)
        if raw.startswith(("╷", "╵")):
            in_warning = False
        elif line.startswith("Warning:"):
            in_warning = True
        if line and not in_warning and line != CLI_CONFIG_HEADER:
            current.append(line)
        elif current and not line:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
