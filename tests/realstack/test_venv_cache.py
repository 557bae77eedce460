"""The cached service venvs of other lock files: which ones a new build removes (no services needed)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from tests.realstack import stack


def _venv(root: Path, name: str, age_days: float | None) -> Path:
    venv = root / name
    (venv / "bin").mkdir(parents=True)
    if age_days is not None:
        marker = venv / ".ksc-realstack-complete"
        marker.write_text("{}")
        when = time.time() - age_days * 86400
        os.utime(marker, (when, when))
    return venv


def test_a_new_build_removes_only_venvs_unused_for_a_week(tmp_path: Path) -> None:
    """Another checkout (another branch's lock file) shares the cache: its venv stays while it is in use."""
    keep = _venv(tmp_path, "venv-new", None)
    recent = _venv(tmp_path, "venv-other-branch", 1)
    old = _venv(tmp_path, "venv-old-lock", stack.STALE_VENV_DAYS + 1)
    broken = _venv(tmp_path, "venv-interrupted", None)
    building = _venv(tmp_path, "venv-being-built", None)
    with (tmp_path / "venv-being-built.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stack._prune_stale_venvs(keep)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(
        [keep.name, recent.name, building.name])
    assert not old.exists() and not broken.exists()
