"""Serve the simulated GitLab on a loopback port in a thread: for tests, benchmarks and a local demo."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from kubespray_cleanup.simulator.gitlab.api import GitLabApp
from kubespray_cleanup.simulator.gitlab.model import GitLabModel, seed


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        if type == "error":
            super().log(type, message, *args)


class GitLabServer:
    """A running simulated GitLab: its URL, its model (for seeding and assertions), and ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = GitLabModel()
        self._server: BaseWSGIServer = make_server(host, port, GitLabApp(self.model), threaded=True,
                                                   request_handler=_QuietHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.host, self.port = host, int(self._server.server_port)
        self.model.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    def start(self) -> GitLabServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gitlab-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

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
