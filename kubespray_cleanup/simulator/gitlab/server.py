"""Serve the simulated GitLab on a loopback port in a thread: for tests, benchmarks and a local demo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubespray_cleanup.simulator.gitlab.api import GitLabApp
from kubespray_cleanup.simulator.gitlab.model import GitLabModel, seed
from kubespray_cleanup.simulator.keepalive import LoopbackServer


class GitLabServer(LoopbackServer):
    """A running simulated GitLab: its URL, its model (for seeding and assertions), and ``stop()``."""

    thread_name = "gitlab-sim"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = GitLabModel()
        super().__init__(GitLabApp(self.model), host, port)
        self.model.base_url = self.url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def stats(self) -> dict[str, Any]:
        return self.model.stats()

    def api_requests(self) -> int:
        """Requests to the GitLab API (REST and GraphQL), not counting ``/_sim`` calls."""
        return sum(n for (_, route), n in self.model.requests.items() if not route.startswith("/_sim"))


def start_gitlab(*, host: str = "127.0.0.1", port: int = 0, project_id: int = 42,
                 project_path: str = "kargo-ci/kubernetes-sigs-kubespray",
                 tokens: Mapping[str, Iterable[str]] | None = None, jobs: Iterable[Mapping[str, Any]] = (),
                 states: Mapping[str, Any] | None = None) -> GitLabServer:
    """Start a simulated GitLab seeded from plain data (see :func:`seed`)."""
    server = GitLabServer(host, port)
    seed(server.model, project_id=project_id, project_path=project_path, tokens=tokens, jobs=jobs, states=states)
    return server.start()
