"""The kinds' plain requests: the token kept until keystoneauth's renewal margin, a 401 answered with one retry on
a new token, and the same headers as openstacksdk's own calls (against the simulator, through real openstacksdk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from openstack import exceptions

from kubespray_cleanup.kinds import http
from tests.stand_in_transport import plug


class _Ref:
    def __init__(self, expires: datetime) -> None:
        self.expires = expires


class _Auth:
    MIN_TOKEN_LIFE_SECONDS = 120.0

    def __init__(self, session: Any, life: timedelta) -> None:
        self.session, self.life, self.invalidated = session, life, 0
        self.auth_ref: _Ref | None = None

    def invalidate(self) -> bool:
        self.invalidated += 1
        return True


class _Proxy:
    """A stand-in proxy whose service accepts only the newest token and counts the tokens it was asked for."""

    def __init__(self, life: timedelta = timedelta(hours=1), accept_only_newest: bool = True) -> None:
        self.issued: list[str] = []
        self.seen: list[str] = []
        self.accept_only_newest = accept_only_newest
        plug(self, self._answer)
        self.auth = _Auth(self.session, life)
        self.session.auth = self.auth
        self.session.get_auth_headers = self._token

    def _token(self) -> dict[str, str]:
        self.issued.append(f"token-{len(self.issued) + 1}")
        self.auth.auth_ref = _Ref(datetime.now(UTC) + self.auth.life)
        return {"X-Auth-Token": self.issued[-1]}

    def _answer(self, method: str, path: str, body: Any) -> requests.Response:
        token = self.seen[-1] if self.seen else ""
        response = requests.Response()
        response.status_code = 401 if self.accept_only_newest and token != self.issued[-1] else 204
        return response

    def answer_with(self, stale: str) -> None:
        """From now on the service has rotated past ``stale``."""
        self.issued.append(f"rotated-{stale}")


@pytest.fixture(autouse=True)
def _seen_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record the token each request carried, on its way out (the transport sees the prepared request)."""
    original = http._Target.prepare

    def prepare(self: Any, method: str, url: str, data: bytes | None, token: dict[str, str]) -> Any:
        prepared = original(self, method, url, data, token)
        proxy = next(p for p, t in http._TARGETS.items() if t is self)
        if isinstance(proxy, _Proxy):
            proxy.seen.append(prepared.headers["X-Auth-Token"])
        return prepared

    monkeypatch.setattr(http._Target, "prepare", prepare)


def test_token_is_fetched_once_while_it_is_far_from_expiry() -> None:
    proxy = _Proxy(life=timedelta(hours=1))
    for n in range(50):
        http.delete_at(proxy, f"/ports/{n}")
    assert proxy.issued == ["token-1"]
    assert set(proxy.seen) == {"token-1"}


def test_token_inside_the_renewal_margin_is_asked_for_again() -> None:
    proxy = _Proxy(life=timedelta(seconds=60))  # already within keystoneauth's 120 s margin when issued
    for n in range(3):
        http.delete_at(proxy, f"/ports/{n}")
    assert proxy.issued == ["token-1", "token-2", "token-3"]


def test_a_401_drops_the_token_and_the_call_goes_once_more_with_a_new_one() -> None:
    proxy = _Proxy()
    http.delete_at(proxy, "/ports/a")
    proxy.answer_with("token-1")  # the service no longer accepts token-1 (revoked, or expired early)
    http.delete_at(proxy, "/ports/b")
    assert proxy.seen == ["token-1", "token-1", "token-3"]
    assert proxy.auth.invalidated == 1


def test_a_second_401_is_the_answer() -> None:
    proxy = _Proxy()
    proxy.session.get_auth_headers = lambda: {"X-Auth-Token": "refused"}  # type: ignore[method-assign]
    proxy.auth.auth_ref = _Ref(datetime.now(UTC) + timedelta(hours=1))
    proxy.issued.append("never-accepted")
    with pytest.raises(exceptions.HttpException) as caught:
        http.delete_at(proxy, "/ports/x")
    assert caught.value.status_code == 401
    assert proxy.seen == ["refused", "refused"]


def test_proxies_from_the_environment_are_resolved_once_per_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "")
    proxy = _Proxy()
    proxy.session.session.trust_env = True
    proxy.get_endpoint = lambda: "https://cloud.invalid:9696/v2.0"  # type: ignore[method-assign]
    target = http._Target(proxy)
    assert target.send_options["proxies"].get("https") == "http://127.0.0.1:3128"
    assert target.base == "https://cloud.invalid:9696/v2.0"


def test_plain_requests_carry_what_openstacksdk_sends(elastx: Any) -> None:
    """Same user agent, same token, path below the same endpoint; the response hook (the audit log's) sees both."""
    conn = elastx
    seen: list[requests.PreparedRequest] = []
    conn.session.session.hooks["response"].append(lambda response, *a, **k: seen.append(response.request))
    conn.network.get("/ports")
    http.list_rows(conn.network, "/ports", "ports")
    sdk, plain = seen[-2:]
    assert plain.url == sdk.url
    for header in ("User-Agent", "X-Auth-Token", "Accept"):
        assert plain.headers[header] == sdk.headers[header], header
