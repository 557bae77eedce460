"""A read-only stand-in for an openstacksdk connection that calls the simulator's WSGI app in process.

Planning needs only the listings, which the kinds fetch with ``conn.<proxy>.get(path)`` (following
``*_links`` next pages). Going through sockets, keystoneauth and version discovery costs about half
a second per simulator; this stand-in asks the same WSGI app for the same paths below the same
service endpoints and hands back ``requests.Response`` objects, so the kinds' ``list()`` code runs
unchanged. ``test_random_topologies.py`` checks that it lists exactly what a real connection lists.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from werkzeug.test import Client

from kubespray_cleanup.simulator.app import Simulator
from tests.stand_in_transport import plug


class InProcessCloud:
    """``conn.network.get("/ports")`` & co. for one project, answered by the simulator without HTTP."""

    def __init__(self, simulator: Simulator, project: str, password: str | None = None,
                 base_url: str = "http://localhost/") -> None:
        self._client = Client(simulator)
        self._base_url = base_url
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": f"{project}-ci", "domain": {"name": "Default"}, "password": password or f"{project}-password"}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
        response = self._client.post("/identity/v3/auth/tokens", json=body, base_url=base_url)
        assert response.status_code == 201, response.get_data(as_text=True)
        self._token = response.headers["X-Subject-Token"]
        self.current_project_id = str(response.get_json()["token"]["project"]["id"])
        self.network = _Proxy(self, "/network/v2.0")
        self.compute = _Proxy(self, "/compute/v2.1")
        self.block_storage = _Proxy(self, f"/volume/v3/{self.current_project_id}")
        self.load_balancer = _Proxy(self, "/load-balancer/v2.0")

    def has_service(self, service_type: str) -> bool:
        return True

    def get(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        answer = self._client.get(path, headers={"X-Auth-Token": self._token, **(headers or {})},
                                  base_url=self._base_url)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(dict(answer.headers))
        response._content = answer.get_data()
        response.url = self._base_url.rstrip("/") + path
        response.encoding = "utf-8"
        return response


class _Proxy:
    """The part of an openstacksdk proxy the listings use: ``get`` below the service's endpoint, also as the
    kinds' plain requests send it (tests/stand_in_transport.py)."""

    def __init__(self, cloud: InProcessCloud, endpoint: str) -> None:
        self._cloud, self._endpoint = cloud, endpoint
        plug(self, self._answer, cloud._base_url.rstrip("/") + endpoint)

    def _answer(self, method: str, path: str, body: Any) -> requests.Response:
        assert method == "GET" and body is None, f"read-only stand-in: {method} {path}"
        return self.get(path)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        assert not kwargs, f"unsupported request options {sorted(kwargs)}"
        if url.startswith(("http://", "https://")):  # a next link: absolute, already below the endpoint
            parts = urlsplit(url)
            return self._cloud.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        return self._cloud.get(self._endpoint + url)
