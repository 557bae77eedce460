"""Plain requests for the calls a run repeats thousands of times: listings, status polls, deletes, detaches.

A call through an openstacksdk proxy goes through keystoneauth's per-request machinery: the endpoint looked up
in the catalog, the token's expiry parsed from its ISO string (twice), the user agent assembled, the request
and answer prepared for logging, then openstacksdk's cache key and statistics hooks. Measured back to back
against the simulator, that is 0.17 ms of the 0.58 ms a DELETE costs this client, and under a gateway's rate
limit every call pays it again, cold.

Here each proxy's endpoint is resolved once (keystoneauth's own discovery, so region, interface and endpoint
overrides from clouds.yaml apply as before), the token's headers are kept until keystoneauth's renewal margin
(:func:`~kubespray_cleanup.sources.keystone_session.renew_ahead` sets it) and the request goes out on the
connection's own ``requests`` session: the same connection pool, CA bundle, client certificate, timeout,
user agent, microversion and response hooks (the audit log sees every call). A 401 drops the kept token
and keystoneauth's, and the call is sent once more with a new one, as keystoneauth does. Errors come back as
openstacksdk's exceptions (status and ``Retry-After`` included), connection failures as ``requests``' own;
the executor's retry rules know both.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from typing import Any

import requests
from keystoneauth1 import session as ks_session
from openstack import exceptions
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri

_TARGETS: weakref.WeakKeyDictionary[Any, _Target] = weakref.WeakKeyDictionary()
_TOKENS: weakref.WeakKeyDictionary[Any, _Token] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def list_rows(proxy: Any, path: str, collection: str) -> list[dict[str, Any]]:
    """GET ``path`` below the proxy's endpoint and follow ``<collection>_links`` next pages."""
    rows: list[dict[str, Any]] = []
    url: str | None = path
    seen: set[str] = set()
    while url and url not in seen:
        seen.add(url)
        response = send(proxy, "GET", url)
        exceptions.raise_from_response(response)
        body = response.json()
        rows.extend(r for r in body.get(collection) or () if isinstance(r, dict))
        links = body.get(f"{collection}_links") or ()
        url = next((str(link["href"]) for link in links if isinstance(link, dict) and link.get("rel") == "next"
                    and link.get("href")), None)
    return rows


def delete_at(proxy: Any, path: str) -> None:
    """DELETE ``path`` without building SDK resource objects (building one is most of a delete's client CPU:
    a Nova server has some eighty attributes); see :func:`call_at`."""
    call_at(proxy, "DELETE", path)


def call_at(proxy: Any, method: str, path: str, body: dict[str, Any] | None = None) -> None:
    """One plain request; 404 counts as done (as ``ignore_missing=True``), other errors raise as the SDK's own
    exceptions (status, response and its Retry-After included)."""
    response = send(proxy, method, path, body)
    if response.status_code != 404:
        exceptions.raise_from_response(response)


def send(proxy: Any, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    """``method path`` (relative to the proxy's endpoint, or absolute as in a next-page link) with a valid token."""
    target = _target(proxy)
    url = requote_uri(path if path.startswith(("http://", "https://")) else f"{target.base}/{path.lstrip('/')}")
    data = json.dumps(body).encode() if body is not None else None
    for attempt in (1, 2):
        token = target.token.headers()
        response = target.http.send(target.prepare(method, url, data, token), **target.send_options)
        if response.status_code != 401 or attempt == 2:
            return response
        target.token.expired(token)
    raise AssertionError("unreachable")  # the loop returns


class _Token:
    """The auth headers of one keystoneauth session, kept until keystoneauth would renew them."""

    def __init__(self, session: ks_session.Session) -> None:
        self.session = session
        self._headers: dict[str, str] = {}
        self._renew_at = 0.0  # time.time() from which the kept headers are no longer used
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        if time.time() < self._renew_at:
            return self._headers
        with self._lock:
            if time.time() >= self._renew_at:
                self._headers = dict(self.session.get_auth_headers() or {})
                self._renew_at = self._deadline()
            return self._headers

    def expired(self, used: dict[str, str]) -> None:
        """The service refused ``used`` (401): forget it here and in keystoneauth, unless already replaced."""
        with self._lock:
            if self._headers == used:
                self._renew_at = 0.0
                auth = self.session.auth
                if auth is not None:
                    auth.invalidate()

    def _deadline(self) -> float:
        auth = self.session.auth
        ref = getattr(auth, "auth_ref", None)
        expires = getattr(ref, "expires", None)
        if expires is None:  # a plugin without a token lifetime: ask keystoneauth every time
            return 0.0
        margin = float(getattr(auth, "MIN_TOKEN_LIFE_SECONDS", 120))
        return float(expires.timestamp()) - margin


class _Target:
    """One proxy's endpoint and the fixed parts of its requests."""

    def __init__(self, proxy: Any) -> None:
        session: ks_session.Session = proxy.session
        base = str(proxy.get_endpoint() or "")
        if "%(" in base:  # an endpoint override with keystoneauth's placeholders
            base = base % {"project_id": session.get_project_id(), "user_id": session.get_user_id()}
        self.base = base.rstrip("/")
        self.http: requests.Session = session.session
        # What requests' Session.request would merge into every call, resolved once: proxies and a CA bundle
        # from the environment (when the session reads it), the session's TLS settings, its timeout.
        merged = self.http.merge_environment_settings(self.base, {}, None, session.verify, session.cert)
        self.send_options = {**merged, "timeout": session.timeout, "allow_redirects": True}
        self.headers: dict[str, str] = {**session.additional_headers, **(getattr(proxy, "additional_headers", None)
                                                                         or {})}
        self.headers["User-Agent"] = user_agent(proxy, session)
        if getattr(proxy, "global_request_id", None):
            self.headers["X-OpenStack-Request-ID"] = proxy.global_request_id
        microversion = getattr(proxy, "default_microversion", None)
        if microversion:
            ks_session.Session._set_microversion_headers(  # keystoneauth's own header rules
                self.headers, microversion, proxy.service_type, {})
        with _LOCK:
            token = _TOKENS.get(session)
            if token is None:
                token = _TOKENS[session] = _Token(session)
        self.token = token

    def prepare(self, method: str, url: str, data: bytes | None, token: dict[str, str]) -> requests.PreparedRequest:
        """The request as requests' ``Session.prepare_request`` builds it for these calls, without re-merging the
        session's settings on every call: its headers and response hooks (the audit log), its cookies if any."""
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict({**self.http.headers, **self.headers, **token})
        prepared.body = data
        if data is not None:
            prepared.headers["Content-Type"] = "application/json"
            prepared.headers["Content-Length"] = str(len(data))
        elif method not in ("GET", "HEAD"):
            prepared.headers["Content-Length"] = "0"
        if self.http.cookies:
            prepared.prepare_cookies(self.http.cookies)
        prepared.hooks = {event: list(hooks) for event, hooks in self.http.hooks.items()}
        return prepared


def _target(proxy: Any) -> _Target:
    target = _TARGETS.get(proxy)
    if target is None:
        target = _Target(proxy)
        with _LOCK:
            target = _TARGETS.setdefault(proxy, target)
    return target


def user_agent(proxy: Any, session: ks_session.Session) -> str:
    """The user agent keystoneauth would send through this proxy (application, openstacksdk, keystoneauth)."""
    fixed = getattr(proxy, "user_agent", None) or session.user_agent
    if fixed:
        return str(fixed)
    agent = []
    if session.app_name:
        agent.append(f"{session.app_name}/{session.app_version}" if session.app_version else session.app_name)
    client, version = getattr(proxy, "client_name", None), getattr(proxy, "client_version", None)
    if client:
        agent.append(f"{client}/{version}" if version else str(client))
    agent.extend(f"{name}/{version}" for name, version in session.additional_user_agent)
    agent.append(ks_session.DEFAULT_USER_AGENT)
    return " ".join(agent)
