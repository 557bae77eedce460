"""A simulated GitLab per test, seeded with one project, its tokens, a few jobs and states."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubespray_cleanup.simulator.gitlab import GitLabServer, start_gitlab
from tests.e2e.conftest import stage  # noqa: F401 - the OpenStack simulator stage, for end-to-end tests here

READ_TOKEN = "glpat-read-api-0000000000"
API_TOKEN = "glpat-api-11111111111111"
WEAK_TOKEN = "glpat-read-repo-2222222222"
JOB_TOKEN = "glcbt-running-job-3333333"
PROJECT_ID = 42
PROJECT_PATH = "kargo-ci/kubernetes-sigs-kubespray"
TOKENS = {READ_TOKEN: ["read_api"], API_TOKEN: ["api"], WEAK_TOKEN: ["read_repository"]}


@pytest.fixture
def make_gitlab() -> Iterator[Callable[..., GitLabServer]]:
    """Factory: ``make_gitlab(jobs=[...], states={...})`` -> a started simulated GitLab with the test tokens."""
    started: list[GitLabServer] = []

    def factory(**kwargs: Any) -> GitLabServer:
        kwargs.setdefault("tokens", TOKENS)
        kwargs.setdefault("project_id", PROJECT_ID)
        kwargs.setdefault("project_path", PROJECT_PATH)
        server = start_gitlab(**kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
