"""A run lock held in GitLab: the Terraform state lock of ``tf-cleanup-lock-<cloud project id>``.

Two cleanup jobs on different runners (or a scheduled sweep and a manual run) then exclude each other as
Terraform runs do: POST .../lock with Terraform's lock-info JSON, 409 = held (its body names the holder),
DELETE .../lock to release.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from kubespray_cleanup import __version__
from kubespray_cleanup.errors import LockHeld
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig, explain_failure
from kubespray_cleanup.sources.gitlab_state import LOCK_STATE_PREFIX, GitLabStates

log = structlog.get_logger("tf-cleanup")


class GitLabLockUnavailable(Exception):
    """GitLab could not be asked for the lock (unreachable, no permission): the caller falls back to the file lock."""


class GitLabRunLock:
    """``with GitLabRunLock(...)``: one cleanup at a time per cloud project, across runners. Waits up to
    ``timeout`` seconds for a held lock, then raises LockHeld (exit 7) naming the holder."""

    def __init__(self, config: GitLabConfig, cloud_project_id: str, timeout: float = 0.0, poll: float = 5.0,
                 operation: str = "tf-cleanup") -> None:
        self.states = GitLabStates(config)
        self.name = f"{LOCK_STATE_PREFIX}{cloud_project_id}"
        self.timeout, self.poll = timeout, poll
        self.info = {"ID": str(uuid.uuid4()), "Operation": operation, "Info": f"tf-cleanup {__version__}",
                     "Who": f"{_user()}@{socket.gethostname()}", "Version": __version__,
                     "Created": datetime.now(UTC).isoformat(), "Path": self.name}
        job_url = os.environ.get("CI_JOB_URL")
        if job_url:
            self.info["Info"] += f" ({job_url})"
        self.held = False

    def acquire(self) -> None:
        started = time.monotonic()
        waited_once = False
        while True:
            holder = self._try()
            if holder is None:
                break
            if time.monotonic() - started >= self.timeout:
                raise LockHeld(f"another cleanup holds the GitLab lock {self.name} ({holder}); waited "
                               f"{time.monotonic() - started:.0f}s (--lock-timeout)")
            if not waited_once:
                log.warning("lock_waiting", lock=f"gitlab:{self.name}", holder=holder, timeout_s=self.timeout)
                waited_once = True
            time.sleep(min(self.poll, max(0.05, self.timeout - (time.monotonic() - started))))
        self.held = True
        log.info("lock_acquired", lock=f"gitlab:{self.name}", waited_s=round(time.monotonic() - started, 2))

    def _try(self) -> str | None:
        """Take the lock: None when taken, else who holds it. GitLabLockUnavailable when GitLab cannot say."""
        import gitlab  # python-gitlab: loaded only by runs that talk to GitLab

        path = f"{self.states.state_path(self.name)}/lock"
        try:
            self.states.rest().http_post(path, post_data=self.info, max_retries=self.states.config.max_retries)
        except gitlab.GitlabHttpError as exc:
            if exc.response_code in (409, 423):
                return _holder(exc.response_body)
            raise GitLabLockUnavailable(explain_failure(exc, self.states.config,
                                                        f"taking the lock {self.name}")) from None
        except Exception as exc:
            raise GitLabLockUnavailable(explain_failure(exc, self.states.config,
                                                        f"taking the lock {self.name}")) from None
        return None

    def release(self) -> None:
        if not self.held:
            return
        path = f"{self.states.state_path(self.name)}/lock"
        try:
            self.states.rest().http_delete(path, query_data={"ID": self.info["ID"]},
                                           max_retries=self.states.config.max_retries)
        except Exception as exc:  # a lock left behind is reported; the run's outcome stands
            log.warning("run_lock_not_released", lock=f"gitlab:{self.name}",
                        reason=explain_failure(exc, self.states.config, "releasing the lock"))
            return
        self.held = False
        log.info("run_lock_released", lock=f"gitlab:{self.name}")

    def __enter__(self) -> GitLabRunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


def _holder(body: Any) -> str:
    try:
        info = json.loads(body)
        return f"held by {info.get('Who', '?')} since {info.get('Created', '?')}, {info.get('Operation', '?')}"
    except (TypeError, ValueError, AttributeError):
        return "holder unknown"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
