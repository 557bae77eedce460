"""The GitLab-backed run lock: one cleanup per cloud project across runners, as Terraform locks a state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from kubespray_cleanup.errors import ExitCode, LockHeld
from kubespray_cleanup.simulator.gitlab import GitLabServer
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig
from kubespray_cleanup.sources.gitlab_lock import GitLabLockUnavailable, GitLabRunLock
from tests.gitlab.conftest import API_TOKEN, PROJECT_ID, READ_TOKEN


def _config(gitlab: GitLabServer, token: str = API_TOKEN) -> GitLabConfig:
    return GitLabConfig(url=gitlab.url, project=str(PROJECT_ID), token=token)


def test_second_run_is_refused_while_the_first_holds_the_lock(make_gitlab: Callable[..., GitLabServer]) -> None:
    """409 on the state lock: the second run stops with the lock exit code, naming who holds it; after release
    it may run."""
    gitlab = make_gitlab()
    first = GitLabRunLock(_config(gitlab), "cloudproj")
    with first:
        assert gitlab.model.projects[PROJECT_ID].states["tf-cleanup-lock-cloudproj"].lock is not None
        with pytest.raises(LockHeld, match=r"held by .*@") as caught:
            GitLabRunLock(_config(gitlab), "cloudproj").acquire()
        assert caught.value.exit_code == ExitCode.LOCKED
        GitLabRunLock(_config(gitlab), "other-cloud-project").acquire()  # another project: independent
    assert gitlab.model.projects[PROJECT_ID].states["tf-cleanup-lock-cloudproj"].lock is None
    with GitLabRunLock(_config(gitlab), "cloudproj"):
        pass


def test_lock_failure_without_write_scope_is_reported_without_the_token(
        make_gitlab: Callable[..., GitLabServer]) -> None:
    """A read_api token cannot lock: GitLab cannot be used for the lock (the run falls back to its file lock),
    and the message does not carry the token."""
    gitlab = make_gitlab()
    with pytest.raises(GitLabLockUnavailable) as caught:
        GitLabRunLock(_config(gitlab, READ_TOKEN), "cloudproj").acquire()
    assert "403" in str(caught.value) and READ_TOKEN not in str(caught.value)


def test_lock_states_are_not_cleanup_sources(make_gitlab: Callable[..., GitLabServer]) -> None:
    """The lock's own state never shows up among the states a run reads or purges."""
    from kubespray_cleanup.sources.gitlab_state import GitLabStates

    gitlab = make_gitlab(states={"4700": "{}"})
    with GitLabRunLock(_config(gitlab), "cloudproj"):
        assert [s.name for s in GitLabStates(_config(gitlab)).list()] == ["4700"]


def test_second_run_waits_for_the_lock_within_the_timeout(make_gitlab: Callable[..., GitLabServer]) -> None:
    """A held lock is polled until --lock-timeout: released meanwhile, the second run takes it."""
    gitlab = make_gitlab()
    first = GitLabRunLock(_config(gitlab), "cloudproj")
    first.acquire()
    releaser = threading.Timer(0.3, first.release)
    releaser.start()
    started = time.monotonic()
    with GitLabRunLock(_config(gitlab), "cloudproj", timeout=10, poll=0.05) as second:
        assert second.held and time.monotonic() - started < 10
    releaser.join()
