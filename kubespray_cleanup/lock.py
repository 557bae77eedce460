"""One cleanup per cloud project at a time: a run lock keyed by the project id, held from planning to the end.

Two runs that plan against the same project at once would each see the other's half-deleted objects and
race on them. The lock is a file lock (``filelock``: ``flock`` on POSIX, so the kernel releases it when
its holder dies) in a directory the runs share, with the holder's details (host, pid, CI job URL, start
time) in a JSON file beside it. A second run waits up to ``--lock-timeout`` and then stops with exit code
7 naming the holder. A holder that died without releasing leaves only its details behind: the next run
takes the lock over and says so.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import filelock
import structlog

from kubespray_cleanup.errors import LockHeld, UsageError

log = structlog.get_logger("tf-cleanup")


def default_dir() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "tf-cleanup" / "locks"


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started: str
    profile: str
    job_url: str = ""

    @classmethod
    def me(cls, profile: str) -> Holder:
        return cls(host=socket.gethostname(), pid=os.getpid(), started=datetime.now(UTC).isoformat(timespec="seconds"),
                   profile=profile, job_url=os.environ.get("CI_JOB_URL", ""))

    def describe(self) -> str:
        job = f", job {self.job_url}" if self.job_url else ""
        return f"pid {self.pid} on {self.host} (profile {self.profile}{job}) since {self.started}"

    def alive_here(self) -> bool:
        """Whether this holder is a running process on this host (False when it is elsewhere or gone)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _read_holder(path: Path) -> Holder | None:
    try:
        data: Any = json.loads(path.read_text())
        return Holder(host=str(data["host"]), pid=int(data["pid"]), started=str(data["started"]),
                      profile=str(data.get("profile", "")), job_url=str(data.get("job_url", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunLock:
    """``with RunLock(dir, project_id, profile, timeout):`` holds the project's cleanup lock for the block."""

    def __init__(self, directory: Path, project_id: str, profile: str, timeout: float, poll: float = 0.5) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", project_id) or "unknown"
        self.directory = directory
        self.path = directory / f"{safe}.lock"
        self.holder_path = directory / f"{safe}.holder.json"
        self.project_id = project_id
        self.profile = profile
        self.timeout = timeout
        self.poll = poll
        self._lock: filelock.BaseFileLock | None = None

    def holder(self) -> Holder | None:
        """Who holds (or last held without releasing) this lock, if anyone said so."""
        return _read_holder(self.holder_path)

    def acquire(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock = filelock.FileLock(str(self.path), thread_local=False, is_singleton=False)
        except OSError as exc:
            raise UsageError(f"lock directory {self.directory}: {exc.strerror or exc}") from None
        started = time.monotonic()
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            holder = self.holder()
            log.warning("lock_waiting", project=self.project_id, holder=holder.describe() if holder else "unknown",
                        timeout_s=self.timeout)
            try:
                lock.acquire(timeout=self.timeout, poll_interval=self.poll)
            except filelock.Timeout:
                holder = self.holder()
                who = holder.describe() if holder else "a holder that left no details"
                raise LockHeld(f"another cleanup of cloud project {self.project_id} holds the lock ({who}); "
                               f"waited {time.monotonic() - started:.0f}s (--lock-timeout); lock file "
                               f"{self.path}") from None
        except OSError as exc:
            raise UsageError(f"lock file {self.path}: {exc.strerror or exc}") from None
        self._lock = lock
        stale = self.holder()
        if stale is not None and stale.pid != os.getpid():
            log.warning("lock_taken_over", project=self.project_id, previous=stale.describe(),
                        reason="its holder is gone")
        self.holder_path.write_text(json.dumps(Holder.me(self.profile).__dict__) + "\n")
        log.info("lock_acquired", project=self.project_id, waited_s=round(time.monotonic() - started, 2))

    def release(self) -> None:
        if self._lock is None:
            return
        try:
            self.holder_path.unlink(missing_ok=True)
        finally:
            self._lock.release()
            self._lock = None
            log.debug("lock_released", project=self.project_id)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
