"""Plug an in-memory stand-in cloud into tf-cleanup's plain requests (``kubespray_cleanup.kinds.http``).

The kinds send their listings, deletes and detaches on the connection's own ``requests`` session, with the
proxy's endpoint and the keystoneauth session's token. A stand-in proxy gets the two things that path reads,
``get_endpoint()`` and a ``session`` with keystoneauth's surface, whose ``requests`` session has a transport
adapter mounted that hands every prepared request to the stand-in's handler instead of a socket. Everything
above the transport (request preparation, response hooks, error mapping, the 401 retry) runs as in a real run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

# (method, path below the endpoint with its query, JSON body or None) -> the answer; may raise, as a cloud call
Handler = Callable[[str, str, Any], requests.Response]
ENDPOINT = "http://127.0.0.1:9"  # never contacted: the mounted adapter answers every request for it


class _Transport(BaseAdapter):
    def __init__(self, root: str, handler: Handler) -> None:
        super().__init__()
        self.root, self.handler = root, handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(str(request.url))
        below = parts.path[len(urlsplit(self.root).path.rstrip("/")):] + (f"?{parts.query}" if parts.query else "")
        body = json.loads(request.body) if request.body else None
        response = self.handler(str(request.method), below, body)
        response.request, response.url = request, str(request.url)
        if getattr(response, "_content", False) is False:
            response._content = b""
        return response

    def close(self) -> None:
        pass


class StandInSession:
    """What ``kinds.http`` reads from a keystoneauth session: the requests session, TLS and agent settings, a token."""

    def __init__(self, root: str, handler: Handler) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.mount(root.rstrip("/") + "/", _Transport(root, handler))
        self.auth = None
        self.timeout = None
        self.verify: bool | str = True
        self.cert = None
        self.additional_headers: dict[str, str] = {}
        self.additional_user_agent: list[tuple[str, str]] = []
        self.app_name = self.app_version = self.user_agent = None

    def get_auth_headers(self) -> dict[str, str]:
        return {"X-Auth-Token": "stand-in"}


def plug(proxy: Any, handler: Handler, endpoint: str = ENDPOINT) -> None:
    """Give ``proxy`` an endpoint and a session whose requests reach ``handler``."""
    proxy.session = StandInSession(endpoint, handler)
    proxy.get_endpoint = lambda: endpoint


def proxy_methods(proxy: Any) -> Handler:
    """A handler that answers with the stand-in's own proxy-style methods: ``get(path)``, ``delete(path)``,
    ``request(path, method, json=body)``."""

    def handle(method: str, path: str, body: Any) -> requests.Response:
        if method == "GET":
            return proxy.get(path)  # type: ignore[no-any-return]
        if method == "DELETE":
            return proxy.delete(path)  # type: ignore[no-any-return]
        return proxy.request(path, method, json=body)  # type: ignore[no-any-return]

    return handle
